/**
 * Deletion and insertion (Petsiuk, Das and Saenko, "RISE: Randomized Input Sampling for
 * Explanation of Black-box Models", BMVC 2018, section 4.1): how fast the target class's
 * probability falls as the pixels a saliency map ranks first are removed (deletion: lower is
 * better), or rises as they are put back into a blurred image (insertion: higher is better).
 *
 * For an image x of H x W pixels, a map ranking its pixels, and `steps` S: each step changes
 * n = ceil(HW / S) pixels, in the map's order (all channels of a pixel together), so the curve has
 * K + 1 points, K = ceil(HW / n), at the fractions min(k n, HW) / HW, k = 0..K:
 *
 *   deletion:  x_0 = x;          x_k = x_{k-1} with the next n pixels replaced by the substrate's
 *   insertion: x_0 = substrate;  x_k = x_{k-1} with the next n pixels taken from x
 *   curve[k]  = softmax(f(x_k))[target]
 *   AUC       = trapezoidal area under curve over k / K, i.e.
 *               (sum_k curve[k] - curve[0] / 2 - curve[K] / 2) / K          (RISE's `auc`)
 *
 * Variants, and the defaults here:
 * - the order of tied saliency values: by position, lowest first (a stable descending sort; RISE
 *   sorts with numpy's unstable argsort);
 * - the step: RISE uses n = 224 pixels on 224 x 224 images (224 steps); here `steps` (default 20)
 *   sets n, so every image size has the same number of forward passes;
 * - the substrate: deletion's default is zero (RISE's), insertion's a blur of the image: a
 *   normalised 11 x 11 Gaussian of sigma 5 per channel with zero padding (RISE's kernel size,
 *   sigma and padding; RISE builds the kernel with scipy's gaussian_filter of a unit impulse,
 *   whose borders differ slightly). "mean" (each image's channel means) and "blur" are available
 *   to both. The input is perturbed in the space the model sees (after normalisation), as RISE
 *   does; zero is then the dataset mean.
 *
 * Batched: the curve is K + 1 forward passes of the whole batch, under noGrad.
 *
 * @module
 */

import { noGrad } from "../tensor/autograd.ts";
import { arange } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import { conv2d } from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { checkMapBatch } from "./map_batch.ts";

/** Deletion removes the top-ranked pixels first; insertion puts them back first. */
export type CurveMode = "deletion" | "insertion";

/** What removed pixels become (deletion), or what insertion starts from. */
export type Substrate = "zero" | "blur" | "mean";

/** Options of {@link perturbationCurve}. */
export interface PerturbationCurveOptions {
  /** "deletion" (default) or "insertion". */
  mode?: CurveMode;
  /** Steps: each changes ceil(HW / steps) pixels (default 20). */
  steps?: number;
  /** The substrate (default: "zero" for deletion, "blur" for insertion, as RISE). */
  substrate?: Substrate;
}

/** A batch's curves and their areas. */
export interface PerturbationCurves {
  /** The fraction of pixels changed at each point (K + 1 values, from 0 to 1). */
  fractions: number[];
  /** Per image, the target's probability at each point. */
  curves: number[][];
  /** Per image, the area under its curve (RISE's normalised trapezoid). */
  auc: number[];
}

/** RISE's blur: a normalised 11 x 11 Gaussian of sigma 5, per channel, zero padding. */
export const BLUR_KERNEL = { size: 11, sigma: 5 } as const;

/** The substrate of a batch x (N, C, H, W). */
export function substrateOf(x: Tensor, substrate: Substrate): Tensor {
  return tidy(() => {
    if (substrate === "zero") return x.mul(0);
    if (substrate === "mean") return x.mean([2, 3], true).expand(x.shape);
    const { size, sigma } = BLUR_KERNEL;
    const g = arange(0, size, 1, { device: x.device }).sub((size - 1) / 2).pow(2)
      .div(-2 * sigma * sigma).exp();
    const k2 = g.unsqueeze(1).mul(g.unsqueeze(0));
    const c = x.shape[1];
    const weight = k2.div(k2.sum()).reshape([1, 1, size, size]).expand([c, 1, size, size])
      .contiguous();
    return conv2d(x, weight, { padding: (size - 1) / 2, groups: c });
  });
}

/**
 * Deletion or insertion curves of a batch: `forward` maps inputs (N, C, H, W) to logits (N,
 * classes); `saliency` (N, H, W) ranks each image's pixels (higher first); `target` (N) is the
 * class whose probability is followed. See the module for the definition.
 */
export function perturbationCurve(
  forward: (x: Tensor) => Tensor,
  x: Tensor,
  saliency: Tensor,
  target: Tensor,
  options: PerturbationCurveOptions = {},
): PerturbationCurves {
  const mode = options.mode ?? "deletion";
  const steps = options.steps ?? 20;
  const [b, , h, w] = x.shape;
  checkMapBatch(x, saliency);
  if (target.shape.join() !== String(b)) {
    throw new RangeError(`target must hold one class per image (${b}), got [${target.shape}]`);
  }
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${steps}`);
  }
  const pixels = h * w;
  const perStep = Math.ceil(pixels / steps);
  const points = Math.ceil(pixels / perStep) + 1;
  const curves: number[][] = Array.from({ length: b }, () => []);
  noGrad(() =>
    tidy(() => {
      // each pixel's rank: 0 for the map's first (stable: ties by position)
      const order = saliency.reshape([b, pixels]).sort(1, true, true).indices;
      const positions = arange(0, pixels, 1, { dtype: "int64", device: x.device })
        .unsqueeze(0).expand([b, pixels]);
      const rank = order.mul(0).scatter(1, order, positions).reshape([b, 1, h, w]);
      const base = substrateOf(x, options.substrate ?? (mode === "deletion" ? "zero" : "blur"));
      const [from, to] = mode === "deletion" ? [x, base] : [base, x];
      const index = target.to("int64").reshape([b, 1]);
      for (let k = 0; k < points; k++) {
        const p = tidy(() => {
          const changed = rank.lt(Math.min(k * perStep, pixels));
          const probs = forward(to.where(changed, from)).softmax(1);
          return probs.gather(1, index).reshape([b]).data() as Float32Array;
        });
        for (let i = 0; i < b; i++) curves[i].push(p[i]);
      }
    })
  );
  const fractions = Array.from(
    { length: points },
    (_, k) => Math.min(k * perStep, pixels) / pixels,
  );
  const auc = curves.map((c) =>
    (c.reduce((s, v) => s + v, 0) - c[0] / 2 - c[points - 1] / 2) / (points - 1)
  );
  return { fractions, curves, auc };
}
