/**
 * Max-sensitivity (Yeh et al., "On the (In)fidelity and Sensitivity of Explanations", NeurIPS
 * 2019), as Captum's `captum.metrics.sensitivity_max` computes it: how much an explanation
 * changes, at most, when the input moves a little. Lower is better.
 *
 * For an input x, an explanation function e, and S perturbed inputs x + delta_s:
 *
 *   sensitivity = max_s ||e(x + delta_s) - e(x)|| / ||e(x)||
 *
 * with the Frobenius (L2) norm over all of one input's explanation (Captum's norm_ord "fro"), and
 * ||e(x)|| taken as 1 where it is 0 (Captum's guard). Captum's default perturbation, and the
 * default here: delta uniform in [-radius, radius] per element, radius 0.02, S = 10
 * (n_perturb_samples), from libtorch's generator; or the perturbed inputs' deltas handed in as a
 * tensor (S, N, C, H, W).
 *
 * The explanation is recomputed for each perturbation, batched: S + 1 calls of `explain` over the
 * whole batch (with gradients where the explanation needs them).
 *
 * @module
 */

import { rand } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of {@link sensitivityMax}. */
export interface SensitivityOptions {
  /** The deltas, (S, N, C, H, W); default S = `samples` uniform draws in [-radius, radius]. */
  deltas?: Tensor;
  /** Draws when no deltas are given (Captum's n_perturb_samples; default 10). */
  samples?: number;
  /** Their bound (Captum's perturb_radius; default 0.02). */
  radius?: number;
}

/**
 * Per image of `x` (N, C, H, W), the max-sensitivity of `explain`, which maps a batch of inputs
 * to its explanations (any shape with the batch first, e.g. a saliency method for fixed targets).
 */
export function sensitivityMax(
  explain: (x: Tensor) => Tensor,
  x: Tensor,
  options: SensitivityOptions = {},
): number[] {
  const b = x.shape[0];
  if (x.shape.length !== 4) throw new RangeError(`inputs must be (N, C, H, W), got [${x.shape}]`);
  const given = options.deltas;
  if (given && given.shape.slice(1).join() !== x.shape.join()) {
    throw new RangeError(`deltas must be (S, ${x.shape.join(", ")}), got [${given.shape}]`);
  }
  const samples = given?.shape[0] ?? options.samples ?? 10;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  }
  const radius = options.radius ?? 0.02;
  const worst = new Array<number>(b).fill(0);
  tidy(() => {
    const e0 = explain(x).reshape([b, -1]);
    const norm = e0.pow(2).sum(1).sqrt().data() as Float32Array;
    for (let s = 0; s < samples; s++) {
      const changed = tidy(() => {
        const delta = given
          ? given.select(0, s)
          : rand(x.shape, { device: x.device }).mul(2 * radius).sub(radius);
        const e = explain(x.add(delta)).reshape([b, -1]);
        return e.sub(e0).pow(2).sum(1).sqrt().data() as Float32Array;
      });
      for (let i = 0; i < b; i++) {
        worst[i] = Math.max(worst[i], changed[i] / (norm[i] === 0 ? 1 : norm[i]));
      }
    }
  });
  return worst;
}
