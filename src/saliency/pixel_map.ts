/**
 * From attributions (B, C, H, W) to one saliency value per pixel (B, H, W).
 *
 * @module
 */

import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of pixelSaliency. */
export interface PixelMapOptions {
  /** How channels combine: "mean" (default), "sum" or "max". */
  reduction?: "mean" | "sum" | "max";
  /** Take |attribution| first (default true); false keeps the sign. */
  abs?: boolean;
}

/** Channel reduction of attributions: (B, C, H, W) -> (B, H, W). */
export function pixelSaliency(attributions: Tensor, options: PixelMapOptions = {}): Tensor {
  if (attributions.ndim !== 4) {
    throw new RangeError(
      `pixelSaliency expects (B, C, H, W) attributions, got [${attributions.shape.join(", ")}]`,
    );
  }
  return tidy(() => {
    const a = options.abs ?? true ? attributions.abs() : attributions;
    switch (options.reduction ?? "mean") {
      case "mean":
        return a.mean(1);
      case "sum":
        return a.sum(1);
      case "max":
        return a.amax(1);
      default:
        throw new TypeError(
          `unknown channel reduction "${options.reduction}"; expected mean, sum or max`,
        );
    }
  });
}
