/**
 * What every attribution method shares: the model interface, targets, eval mode for the
 * duration of a call, and the gradient of the target logits with respect to the input.
 *
 * @module
 */

import { enableGrad, grad } from "../tensor/autograd.ts";
import { tensor } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import { Tensor } from "../tensor/tensor.ts";

/** Something that maps a batch to logits (B, classes): any Module. */
export interface Forward {
  /** Logits for a batch. */
  forward(x: Tensor): Tensor;
  /** Training flag (attribution runs in eval mode and restores it). */
  training?: boolean;
  /** Sets training mode. */
  train?(mode?: boolean): unknown;
}

/** Class per sample: one index for all, a list, or an int64 tensor (B). */
export type Target = number | readonly number[] | Tensor;

/** Options every method accepts. */
export interface AttributeOptions {
  /** The class whose logit is explained, per sample (e.g. the true label). */
  target: Target;
}

/** An attribution method with Captum's signature. */
export interface Attribution<O extends AttributeOptions = AttributeOptions> {
  /** Attributions with the shape of `inputs` (GradCAM: (B, 1, H, W)), detached. */
  attribute(inputs: Tensor, options: O): Tensor;
}

/** The target as an int64 (B) tensor on the inputs' device. */
export function targetTensor(target: Target, batch: number, device: string): Tensor {
  if (target instanceof Tensor) {
    if (target.numel() !== batch) {
      throw new RangeError(`target has ${target.numel()} entries for a batch of ${batch}`);
    }
    return target.reshape(batch).to({ dtype: "int64", device: device as "cpu" });
  }
  const list = typeof target === "number" ? new Array(batch).fill(target) : [...target];
  if (list.length !== batch) {
    throw new RangeError(`target has ${list.length} entries for a batch of ${batch}`);
  }
  return tensor(list, { dtype: "int64", device: device as "cpu" });
}

/** Runs fn with the model in eval mode and autograd on, restoring the model's mode after. */
export function inEvalMode<T>(model: Forward, fn: () => T): T {
  const was = model.training;
  model.train?.(false);
  try {
    return enableGrad(fn);
  } finally {
    if (was !== undefined) model.train?.(was);
  }
}

/** Sum over the batch of logits[i, target[i]]: its gradient gives every sample's own gradient. */
export function targetScore(logits: Tensor, target: Tensor): Tensor {
  return logits.gather(1, target.reshape(-1, 1)).sum();
}

/**
 * d logits[i, target[i]] / d x for every sample i (batch-independent models: eval mode).
 * Returns a detached tensor shaped like x.
 */
export function inputGradient(model: Forward, x: Tensor, target: Tensor): Tensor {
  return tidy(() => {
    const xi = x.detach().requiresGrad_();
    const [g] = grad(targetScore(model.forward(xi), target), xi);
    return g!.detach();
  });
}
