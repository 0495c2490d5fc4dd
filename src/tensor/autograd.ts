/**
 * Autograd helpers: input gradients (`grad`) and grad-mode scopes (`noGrad`).
 *
 * @module
 */

import { check, lib } from "../../ffi/mod.ts";
import { scoped } from "./engine.ts";
import { handleList } from "./native.ts";
import { Tensor } from "./tensor.ts";

/** Options of `grad`. */
export interface GradOptions {
  /** Weights for each output (default: ones, for scalar outputs). */
  gradOutputs?: readonly (Tensor | null)[];
  /** Keep the graph for further backward passes (default: same as createGraph). */
  retainGraph?: boolean;
  /** Record the gradient computation itself (for higher-order gradients). */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Gradients of `outputs` with respect to `inputs` (torch.autograd.grad), without touching
 * any `.grad` field. Used for saliency maps: d logit / d input.
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: GradOptions = {},
): (Tensor | null)[] {
  const outs = outputs instanceof Tensor ? [outputs] : outputs;
  const ins = inputs instanceof Tensor ? [inputs] : inputs;
  const gos = options.gradOutputs;
  if (gos && gos.length !== outs.length) {
    throw new RangeError(`gradOutputs has ${gos.length} entries for ${outs.length} outputs`);
  }
  const result = new BigUint64Array(ins.length);
  const createGraph = options.createGraph ?? false;
  check(
    lib.hlgm_autograd_grad(
      handleList(outs.map((t) => t.handle)),
      gos ? handleList(gos.map((t) => (t ? t.handle : 0n))) : null,
      outs.length,
      handleList(ins.map((t) => t.handle)),
      ins.length,
      (options.retainGraph ?? createGraph) ? 1 : 0,
      createGraph ? 1 : 0,
      options.allowUnused ? 1 : 0,
      new Uint8Array(result.buffer),
    ),
    "grad",
  );
  return Array.from(result, (h) => (h === 0n ? null : new Tensor(h)));
}

/** Whether operations are currently recorded for autograd. */
export function isGradEnabled(): boolean {
  return lib.hlgm_is_grad_enabled() === 1;
}

function withGradMode<T>(on: boolean, fn: () => T): T {
  const previous = lib.hlgm_is_grad_enabled();
  return scoped(
    () => lib.hlgm_set_grad_enabled(on ? 1 : 0),
    () => lib.hlgm_set_grad_enabled(previous),
    fn,
    "noGrad/enableGrad",
  );
}

/** Runs `fn` without recording operations for autograd (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with autograd recording on, even inside noGrad (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
