/**
 * Saliency-guided masking M(I, X): per sample, rank pixels (all channels together) or single
 * features by saliency, and replace the k highest (`top`) or lowest (`bottom`) by a fill.
 * One fused native call per batch (stable sort + scatter + where, on the batch's device);
 * ties go to the lower position, so results are deterministic. A mask can grow by a few pixels
 * before the fill (`dilate`: HLGM's "pixels and surrounding area").
 *
 * @module
 */

import { noGrad } from "../tensor/autograd.ts";
import { tidy } from "../tensor/engine.ts";
import { maxPool2d, where } from "../tensor/functional.ts";
import { maskBySaliencyFused } from "../tensor/fused.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { assertNoNaN } from "../tensor/checks.ts";

/** What replaces a masked entry. */
export type MaskFill = "random" | "zero" | "mean" | number;

/** Options of the masking functions. */
export interface MaskOptions {
  /** Fraction of entries to mask per sample, in [0, 1] (k = round(fraction * entries)). */
  fraction?: number;
  /** Exact number of entries to mask per sample (instead of fraction). */
  count?: number;
  /**
   * "random" (default): uniform in the sample's own [min, max], as SGT/HLGM; "zero"; "mean":
   * the sample's mean; or a constant.
   */
  fill?: MaskFill;
  /** Use each channel's own min/max/mean instead of the whole sample's (default false). */
  perChannel?: boolean;
  /**
   * Grow the mask by N pixels before the fill (default 0): every entry within a (2N+1) x (2N+1)
   * square of a ranked one is masked too (a max-pool of the mask with stride 1 and padding N,
   * in each channel). k counts the entries ranked, before growing.
   */
  dilate?: number;
  /**
   * Refuse saliency holding NaN with a RangeError (default true): one reduction and one scalar
   * read (a device sync on CUDA). The trainer turns it off, so its step keeps to one host read:
   * NaN saliency comes from NaN weights or inputs, which make its loss NaN and stop the run.
   */
  checkNaN?: boolean;
}

/** A masked batch and its mask. */
export interface Masked {
  /** x with the chosen entries filled (no gradient flows through the fill). */
  masked: Tensor;
  /** bool (B, C, H, W): true where filled. */
  mask: Tensor;
}

/** Entries per sample that `saliency` ranks: H*W for (B, H, W) maps, C*H*W for (B, C, H, W). */
function entries(x: Tensor, saliency: Tensor): number {
  if (x.ndim !== 4) {
    throw new RangeError(`mask: x must be (B, C, H, W), got [${x.shape.join(", ")}]`);
  }
  const [, c, h, w] = x.shape;
  return saliency.ndim === 3 ? h * w : c * h * w;
}

/** k from options: an exact count, or round(fraction * entries). */
export function maskCount(options: MaskOptions, total: number): number {
  if (options.count !== undefined) {
    if (!Number.isInteger(options.count) || options.count < 0 || options.count > total) {
      throw new RangeError(`mask count must be an integer in 0..${total}, got ${options.count}`);
    }
    return options.count;
  }
  const f = options.fraction;
  if (f === undefined || !(f >= 0 && f <= 1)) {
    throw new RangeError(`mask fraction must be in [0, 1], got ${f}`);
  }
  return Math.round(f * total);
}

/**
 * Masks the k most (`which` "top") or least ("bottom") salient entries of each sample of x
 * (B, C, H, W). `saliency` is (B, H, W) for whole pixels or (B, C, H, W) for single features
 * ((B, 1, H, W) is taken as a pixel map).
 */
export function maskBySaliency(
  x: Tensor,
  saliency: Tensor,
  which: "top" | "bottom",
  options: MaskOptions,
): Masked {
  const map = saliency.ndim === 4 && saliency.shape[1] === 1 && x.shape[1] !== 1
    ? saliency.squeeze(1)
    : saliency;
  try {
    const k = maskCount(options, entries(x, map));
    if (options.checkNaN ?? true) {
      assertNoNaN(
        map,
        "mask: saliency",
        `ranking NaN saliency masks arbitrary ${which} entries`,
      );
    }
    const fill = options.fill ?? "random";
    if (typeof fill !== "number" && !["zero", "mean", "random"].includes(fill)) {
      throw new TypeError(`unknown mask fill "${fill}"; expected random, zero, mean or a number`);
    }
    const dilate = options.dilate ?? 0;
    if (!Number.isInteger(dilate) || dilate < 0) {
      throw new RangeError(`mask dilate must be a non-negative integer, got ${dilate}`);
    }
    const fused = (k: number, fill: MaskFill) =>
      maskBySaliencyFused(
        x,
        map,
        k,
        which === "top",
        typeof fill === "number" ? "value" : fill,
        typeof fill === "number" ? fill : 0,
        options.perChannel ?? false,
      );
    if (dilate === 0) return fused(k, fill);
    return tidy(() =>
      noGrad(() => {
        // the ranked mask (a zero fill draws no random numbers), grown
        const mask = dilateMask(fused(k, "zero").mask, dilate);
        // the fill of every entry from the same native code (k = all), so fills mean one thing
        // and a random fill draws as many numbers as without dilation
        const filler = fused(entries(x, map), fill).masked;
        return { masked: where(mask, filler, x.detach()), mask };
      })
    );
  } finally {
    if (map !== saliency) map.dispose();
  }
}

/**
 * A boolean mask (B, C, H, W) grown by n pixels in each channel: true wherever a true entry lies
 * within the (2n+1) x (2n+1) square around it (max-pool, stride 1, padding n; the border is not
 * wrapped). n = 0 returns a copy.
 */
export function dilateMask(mask: Tensor, n: number): Tensor {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`mask dilate must be a non-negative integer, got ${n}`);
  }
  return tidy(() => maxPool2d(mask.to("float32"), 2 * n + 1, { stride: 1, padding: n }).gt(0));
}

/** x with its k most salient entries per sample filled (HLGM's regularising mask). */
export function maskTopK(x: Tensor, saliency: Tensor, options: MaskOptions): Tensor {
  const { masked, mask } = maskBySaliency(x, saliency, "top", options);
  mask.dispose();
  return masked;
}

/** x with its k least salient entries per sample filled (SGT's / HLGM's denoising mask). */
export function maskBottomK(x: Tensor, saliency: Tensor, options: MaskOptions): Tensor {
  const { masked, mask } = maskBySaliency(x, saliency, "bottom", options);
  mask.dispose();
  return masked;
}
