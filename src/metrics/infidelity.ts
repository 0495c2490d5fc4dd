/**
 * Infidelity (Yeh, Hsieh, Suggala, Inouye and Ravikumar, "On the (In)fidelity and Sensitivity of
 * Explanations", NeurIPS 2019), as Captum's `captum.metrics.infidelity` computes it: how far the
 * attribution's prediction of the output change under a perturbation I is from the change itself.
 *
 * For an input x, its attribution a (the input's shape; a pixel map (N, H, W) counts for every
 * channel), the model's output f (the target's logit, as Captum takes the forward function's
 * output) and S perturbations I_s:
 *
 *   u_s = sum(I_s * a)                 (over every element of one input)
 *   d_s = f(x) - f(x - I_s)
 *   infidelity = 1/S sum_s (u_s - d_s)^2                                  (normalize false)
 *   normalize true: beta = (sum_s u_s d_s) / (sum_s u_s^2) (0 when the denominator is 0), and
 *   infidelity = 1/S sum_s (beta u_s - d_s)^2,  the scale of a that fits best (Captum's)
 *
 * Captum takes the perturbations from a `perturb_func` the caller writes; here they are handed
 * in as a tensor (S, N, C, H, W), or drawn as Gaussian noise of standard deviation `sigma`
 * (default 0.003, Captum's tutorial) from libtorch's generator. Lower is better.
 *
 * Batched: S forward passes of the batch, under noGrad.
 *
 * @module
 */

import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of {@link infidelity}. */
export interface InfidelityOptions {
  /** The perturbations I, (S, N, C, H, W); default S = `samples` Gaussian draws. */
  perturbations?: Tensor;
  /** Perturbations drawn when none are given (Captum's n_perturb_samples; default 10). */
  samples?: number;
  /** Their standard deviation (default 0.003). */
  sigma?: number;
  /** Fit the attribution's scale first (Captum's `normalize`; default false). */
  normalize?: boolean;
}

/**
 * Per image, the infidelity of `attribution` ((N, C, H, W), or a pixel map (N, H, W)) for the
 * model `forward` (logits) at `x` (N, C, H, W) and class `target` (N). See the module.
 */
export function infidelity(
  forward: (x: Tensor) => Tensor,
  x: Tensor,
  attribution: Tensor,
  target: Tensor,
  options: InfidelityOptions = {},
): number[] {
  const [b, c, h, w] = x.shape;
  if (x.shape.length !== 4) throw new RangeError(`inputs must be (N, C, H, W), got [${x.shape}]`);
  const pixelMap = attribution.shape.join() === [b, h, w].join();
  if (!pixelMap && attribution.shape.join() !== x.shape.join()) {
    throw new RangeError(
      `attribution must be the inputs' shape [${x.shape}] or a pixel map [${[b, h, w]}], ` +
        `got [${attribution.shape}]`,
    );
  }
  const samples = options.perturbations?.shape[0] ?? options.samples ?? 10;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  }
  const given = options.perturbations;
  if (given && given.shape.slice(1).join() !== x.shape.join()) {
    throw new RangeError(
      `perturbations must be (S, ${x.shape.join(", ")}), got [${given.shape}]`,
    );
  }
  const sums = { uu: new Float64Array(b), ud: new Float64Array(b), dd: new Float64Array(b) };
  noGrad(() =>
    tidy(() => {
      const a = pixelMap ? attribution.unsqueeze(1).expand([b, c, h, w]) : attribution;
      const index = target.to("int64").reshape([b, 1]);
      const out = (v: Tensor) => forward(v).gather(1, index).reshape([b]);
      const fx = out(x);
      for (let s = 0; s < samples; s++) {
        tidy(() => {
          const p = given ? given.select(0, s) : randn(x.shape, { device: x.device })
            .mul(options.sigma ?? 0.003);
          const u = p.mul(a).reshape([b, -1]).sum(1).to("float64").data() as Float64Array;
          const d = fx.sub(out(x.sub(p))).to("float64").data() as Float64Array;
          for (let i = 0; i < b; i++) {
            sums.uu[i] += u[i] * u[i];
            sums.ud[i] += u[i] * d[i];
            sums.dd[i] += d[i] * d[i];
          }
        });
      }
    })
  );
  return Array.from({ length: b }, (_, i) => {
    const { uu, ud, dd } = { uu: sums.uu[i], ud: sums.ud[i], dd: sums.dd[i] };
    const beta = options.normalize ? (uu === 0 ? 0 : ud / uu) : 1;
    return (beta * beta * uu - 2 * beta * ud + dd) / samples;
  });
}
