/**
 * Gradient clipping (torch.nn.utils.clip_grad_norm_), in one native call.
 *
 * @module
 */

import { check, lib } from "../../ffi/mod.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * Scales the gradients of `params` in place so that their joint `normType` norm is at most
 * `maxNorm`; returns the norm before clipping. normType Infinity uses the largest |g|.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  const list = [...params];
  if (!(maxNorm > 0)) throw new RangeError(`maxNorm must be positive, got ${maxNorm}`);
  const total = new Float64Array(1);
  check(
    lib.hlgm_clip_grad_norm(
      new Uint8Array(BigUint64Array.from(list, (p) => p.handle).buffer),
      list.length,
      maxNorm,
      normType === Infinity ? 0 : normType,
      new Uint8Array(total.buffer),
    ),
    "clipGradNorm",
  );
  return total[0];
}
