/**
 * Gradient clipping (torch.nn.utils.clip_grad_norm_), in one native call.
 *
 * @module
 */

import { clipGradNormFused } from "../tensor/fused.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * Scales the gradients of `params` in place so that their joint `normType` norm is at most
 * `maxNorm`; returns the norm before clipping. normType Infinity uses the largest |g|.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  const list = [...params];
  if (!(maxNorm > 0)) throw new RangeError(`maxNorm must be positive, got ${maxNorm}`);
  return clipGradNormFused(list, maxNorm, normType);
}
