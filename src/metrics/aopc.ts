/**
 * Region perturbation and AOPC (Samek, Binder, Montavon, Lapuschkin and Müller, "Evaluating the
 * Visualization of What a Deep Neural Network Has Learned", IEEE TNNLS 2017): replace the
 * image's regions in the order a saliency map ranks them, most relevant first (MoRF: a faithful
 * map makes the score fall fast, a high AOPC) or least relevant first (LeRF: the score should
 * hold, a low AOPC), and follow the target class's probability.
 *
 * For an image x of H x W pixels cut into non-overlapping p x p regions (H and W multiples of
 * p), each region scored by the sum of the map over it and ranked (MoRF: highest first, LeRF:
 * lowest first; ties by position, row-major), and L regions perturbed one per step:
 *
 *   x_0 = x;   x_k = x with its first k regions (in the order) replaced by `noise`
 *   curve[k] = softmax(f(x_k))[target],   k = 0..L
 *   AOPC     = 1 / (L + 1) * sum_k (curve[0] - curve[k])
 *
 * Variants, and the defaults here: Samek et al. perturb the 9 x 9 neighbourhood of each of the
 * L = 100 most relevant pixels of 224 x 224 images, with uniform noise; here the regions are a
 * grid of p x p patches (Quantus's RegionPerturbation), p = 4 by default (a 32 x 32 image has
 * 64 regions) and L all of them; the noise is handed in (the same noise for MoRF and LeRF and for
 * every map compared), by default uniform in each image's own [min, max] from libtorch's
 * generator. f is the softmax probability, as for deletion (some implementations use the logit).
 *
 * Batched: L + 1 forward passes of the whole batch, under noGrad.
 *
 * @module
 */

import { noGrad } from "../tensor/autograd.ts";
import { arange, rand, tensor } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { checkMapBatch } from "./map_batch.ts";

/** Most relevant regions first, or least relevant first. */
export type RegionOrder = "morf" | "lerf";

/** Options of {@link regionPerturbation}. */
export interface RegionPerturbationOptions {
  /** "morf" (default) or "lerf". */
  order?: RegionOrder;
  /** Side of the square regions, in pixels (default 4); H and W must be multiples of it. */
  patch?: number;
  /** Regions perturbed, one per step (default: all). */
  regions?: number;
  /**
   * What a perturbed region becomes, (N, C, H, W) (default: uniform in each image's own [min,
   * max], drawn from libtorch's generator).
   */
  noise?: Tensor;
}

/** A batch's region-perturbation curves and AOPCs. */
export interface RegionCurves {
  /** Per image, the target's probability after 0, 1, ..., L regions. */
  curves: number[][];
  /** Per image, the area over the perturbation curve. */
  aopc: number[];
}

/** Uniform noise in each image's own [min, max], the shape of `x` (N, C, H, W). */
export function uniformNoise(x: Tensor): Tensor {
  return tidy(() => {
    const flat = x.reshape([x.shape[0], -1]);
    const lo = flat.min(1).values.reshape([x.shape[0], 1, 1, 1]);
    const hi = flat.max(1).values.reshape([x.shape[0], 1, 1, 1]);
    return rand(x.shape, { device: x.device }).mul(hi.sub(lo)).add(lo);
  });
}

/**
 * MoRF or LeRF curves and AOPC of a batch: `forward` maps inputs (N, C, H, W) to logits;
 * `saliency` (N, H, W) ranks the regions by its sums; `target` (N) is the class followed. See
 * the module for the definition.
 */
export function regionPerturbation(
  forward: (x: Tensor) => Tensor,
  x: Tensor,
  saliency: Tensor,
  target: Tensor,
  options: RegionPerturbationOptions = {},
): RegionCurves {
  const p = options.patch ?? 4;
  const [b, , h, w] = x.shape;
  checkMapBatch(x, saliency);
  if (!Number.isInteger(p) || p < 1 || h % p || w % p) {
    throw new RangeError(`patch must be a whole divisor of the image's ${h} x ${w}, got ${p}`);
  }
  const count = (h / p) * (w / p);
  const regions = options.regions ?? count;
  if (!Number.isInteger(regions) || regions < 1 || regions > count) {
    throw new RangeError(`regions must be 1 to ${count} (the ${p} x ${p} regions), got ${regions}`);
  }
  const curves: number[][] = Array.from({ length: b }, () => []);
  noGrad(() =>
    tidy(() => {
      // each region's sum, row-major: (b, h/p, p, w/p, p) summed over the patch's pixels
      const sums = saliency.reshape([b, h / p, p, w / p, p]).sum([2, 4]).reshape([b, count]);
      const descending = (options.order ?? "morf") === "morf";
      const order = sums.sort(1, descending, true).indices;
      const positions = arange(0, count, 1, { dtype: "int64", device: x.device })
        .unsqueeze(0).expand([b, count]);
      const rank = order.mul(0).scatter(1, order, positions); // (b, regions)
      // each pixel's region, then that region's rank
      const of = Array.from(
        { length: h * w },
        (_, i) => Math.floor(Math.floor(i / w) / p) * (w / p) + Math.floor((i % w) / p),
      );
      const region = tensor([of], { dtype: "int64", device: x.device });
      const pixelRank = rank.gather(1, region.expand([b, h * w])).reshape([b, 1, h, w]);
      const noise = options.noise ?? uniformNoise(x);
      const index = target.to("int64").reshape([b, 1]);
      for (let k = 0; k <= regions; k++) {
        const prob = tidy(() =>
          forward(noise.where(pixelRank.lt(k), x)).softmax(1).gather(1, index).reshape([b])
            .data() as Float32Array
        );
        for (let i = 0; i < b; i++) curves[i].push(prob[i]);
      }
    })
  );
  const aopc = curves.map((c) => c.reduce((s, v) => s + (c[0] - v), 0) / c.length);
  return { curves, aopc };
}
