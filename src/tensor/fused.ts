/**
 * The fused native steps, each one FFI call over many tensors: optimizer updates (torch.optim's
 * exact rules), clearing gradients, gradient clipping and saliency masking. optim/, nn/ and
 * masking/ call these; only the tensor layer reaches the shim.
 *
 * @module
 */

import { check, lib } from "../../ffi/mod.ts";
import { out2, OUT_BUF } from "./native.ts";
import { Tensor } from "./tensor.ts";

/**
 * Parameters and their optimizer state as the shim takes them: parameter handles, the state
 * slots (slot kind k of parameter i at k * n + i; 0 = not created yet, filled in by the step),
 * and per-parameter step counts.
 */
export interface FusedState {
  /** Parameter handles (BigUint64Array bytes). */
  params: Uint8Array;
  /** Number of parameters. */
  n: number;
  /** State slot handles (BigUint64Array bytes), written by the step. */
  slots: Uint8Array;
  /** Step counts (Float64Array bytes), for Adam. */
  steps: Uint8Array;
}

/** torch.optim.SGD's update, one call for every parameter. */
export function sgdStep(
  s: FusedState,
  o: {
    lr: number;
    momentum: number;
    dampening: number;
    weightDecay: number;
    nesterov: boolean;
    maximize: boolean;
  },
): void {
  check(
    lib.hlgm_sgd_step(
      s.params,
      s.n,
      s.slots,
      o.lr,
      o.momentum,
      o.dampening,
      o.weightDecay,
      o.nesterov ? 1 : 0,
      o.maximize ? 1 : 0,
    ),
    "SGD.step",
  );
}

/** torch.optim.Adadelta's update. */
export function adadeltaStep(
  s: FusedState,
  o: { lr: number; rho: number; eps: number; weightDecay: number; maximize: boolean },
): void {
  check(
    lib.hlgm_adadelta_step(
      s.params,
      s.n,
      s.slots,
      o.lr,
      o.rho,
      o.eps,
      o.weightDecay,
      o.maximize ? 1 : 0,
    ),
    "Adadelta.step",
  );
}

/** torch.optim.Adam's update, or AdamW's with `decoupled`. */
export function adamStep(
  s: FusedState,
  o: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    decoupled: boolean;
    amsgrad: boolean;
    maximize: boolean;
  },
  op: string,
): void {
  check(
    lib.hlgm_adam_step(
      s.params,
      s.n,
      s.slots,
      s.steps,
      o.lr,
      o.beta1,
      o.beta2,
      o.eps,
      o.weightDecay,
      o.decoupled ? 1 : 0,
      o.amsgrad ? 1 : 0,
      o.maximize ? 1 : 0,
    ),
    op,
  );
}

/** Clears the gradients (set to none) of the tensors whose native handles are given. */
export function zeroGrads(handles: BigUint64Array): void {
  check(lib.hlgm_zero_grads(new Uint8Array(handles.buffer), handles.length), "zeroGrad");
}

/**
 * Scales the gradients of `params` so that their joint norm (`normType`, Infinity = max |g|)
 * is at most `maxNorm`; returns the norm before clipping.
 */
export function clipGradNormFused(
  params: readonly Tensor[],
  maxNorm: number,
  normType: number,
): number {
  const total = new Float64Array(1);
  check(
    lib.hlgm_clip_grad_norm(
      new Uint8Array(BigUint64Array.from(params, (p) => p.handle).buffer),
      params.length,
      maxNorm,
      normType === Infinity ? 0 : normType,
      new Uint8Array(total.buffer),
    ),
    "clipGradNorm",
  );
  return total[0];
}

/** Fill codes of {@link maskBySaliencyFused} (native/masking.cpp). */
export const MASK_FILL = { zero: 0, mean: 1, random: 2, value: 3 } as const;

/**
 * Masks the k most (`top`) or least salient entries of each sample of x (B, C, H, W) by
 * `saliency` ((B, H, W) pixels or (B, C, H, W) features) and fills them; returns the masked
 * input and the boolean mask.
 */
export function maskBySaliencyFused(
  x: Tensor,
  saliency: Tensor,
  k: number,
  top: boolean,
  fill: keyof typeof MASK_FILL,
  value: number,
  perChannel: boolean,
): { masked: Tensor; mask: Tensor } {
  const err = lib.hlgm_mask_by_saliency(
    x.handle,
    saliency.handle,
    k,
    top ? 1 : 0,
    MASK_FILL[fill],
    value,
    perChannel ? 1 : 0,
    OUT_BUF,
  );
  const [masked, mask] = out2(err, "mask");
  return { masked: new Tensor(masked), mask: new Tensor(mask) };
}
