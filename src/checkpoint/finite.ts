/**
 * Weights checked where they enter: a checkpoint or pretrained file whose floating-point
 * tensors hold NaN or infinities is refused, naming the first such tensor (a model with
 * non-finite weights has meaningless accuracy, saliency and SIB).
 *
 * One native reduction per tensor (isfinite().all()), counted only for the first bad one.
 *
 * @module
 */

import { noGrad } from "../tensor/autograd.ts";
import { isFloating } from "../tensor/dtype.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** The first tensor with non-finite values, and how many of each kind it holds. */
export interface NonFinite {
  /** Its name (state-dict key). */
  name: string;
  /** NaN values. */
  nan: number;
  /** +Inf and -Inf values. */
  inf: number;
  /** All its values. */
  numel: number;
}

/** The first floating-point tensor, in iteration order, holding NaN or Inf; null when none. */
export function firstNonFinite(tensors: Iterable<[string, Tensor]>): NonFinite | null {
  return noGrad(() => {
    for (const [name, t] of tensors) {
      if (!isFloating(t.dtype) || t.numel() === 0) continue;
      if (tidy(() => t.isfinite().all().item()) === 1) continue;
      const [nan, finite] = tidy(() => [t.isnan().sum().item(), t.isfinite().sum().item()]);
      const numel = t.numel();
      return { name, nan, inf: numel - finite - nan, numel };
    }
    return null;
  });
}

/** "3 NaN and 1 infinite of its 288 values". */
export function describeNonFinite(bad: NonFinite): string {
  const parts = [
    ...(bad.nan ? [`${bad.nan} NaN`] : []),
    ...(bad.inf ? [`${bad.inf} infinite`] : []),
  ];
  return `${bad.name} holds ${parts.join(" and ")} of its ${bad.numel} values`;
}

/** Weights with NaN or Inf values, refused where they are loaded. */
export class NonFiniteWeightsError extends RangeError {
  /** The first bad tensor. */
  readonly tensor: NonFinite;
  /** `source` names the file or checkpoint; the message names the tensor and the counts. */
  constructor(source: string, bad: NonFinite) {
    super(
      `${source} has non-finite weights: ${describeNonFinite(bad)} (refused: the accuracy, ` +
        "saliency and SIB of such a model mean nothing)",
    );
    this.name = "NonFiniteWeightsError";
    this.tensor = bad;
  }
}

/** Throws a {@link NonFiniteWeightsError} naming `source` and the first bad tensor, if any. */
export function assertFiniteWeights(tensors: Iterable<[string, Tensor]>, source: string): void {
  const bad = firstNonFinite(tensors);
  if (bad) throw new NonFiniteWeightsError(source, bad);
}
