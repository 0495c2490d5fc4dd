/**
 * Saliency-guided masking M(I, X): per sample, rank pixels (all channels together) or single
 * features by saliency, and replace the k highest (`top`) or lowest (`bottom`) by a fill.
 * One fused native call per batch (stable sort + scatter + where, on the batch's device);
 * ties go to the lower position, so results are deterministic.
 *
 * @module
 */

import { maskBySaliencyFused } from "../tensor/fused.ts";
import type { Tensor } from "../tensor/tensor.ts";

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
    const fill = options.fill ?? "random";
    if (typeof fill !== "number" && !["zero", "mean", "random"].includes(fill)) {
      throw new TypeError(`unknown mask fill "${fill}"; expected random, zero, mean or a number`);
    }
    return maskBySaliencyFused(
      x,
      map,
      k,
      which === "top",
      typeof fill === "number" ? "value" : fill,
      typeof fill === "number" ? fill : 0,
      options.perChannel ?? false,
    );
  } finally {
    if (map !== saliency) map.dispose();
  }
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
