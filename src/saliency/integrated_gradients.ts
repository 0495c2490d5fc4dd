/**
 * Integrated Gradients (Sundararajan et al.) with Captum's defaults: zero baselines, 50 steps,
 * Gauss-Legendre quadrature, optional internal batching that bounds memory.
 *
 * @module
 */

import {
  type AttributeOptions,
  type Attribution,
  type Forward,
  inEvalMode,
  inputGradient,
  targetTensor,
} from "./common.ts";
import { noGrad } from "../tensor/autograd.ts";
import { zeros } from "../tensor/create.ts";
import { keep, tidy } from "../tensor/engine.ts";
import { cat } from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Quadrature rules, as Captum names them. */
export type IntegrationMethod =
  | "gausslegendre"
  | "riemann_left"
  | "riemann_right"
  | "riemann_middle"
  | "riemann_trapezoid";

/** Options of IntegratedGradients.attribute. */
export interface IntegratedGradientsOptions extends AttributeOptions {
  /** Reference input: a number or a tensor broadcastable to the inputs (default 0). */
  baselines?: number | Tensor;
  /** Integration steps (default 50). */
  nSteps?: number;
  /** Quadrature (default "gausslegendre"). */
  method?: IntegrationMethod;
  /** Scaled inputs per forward/backward pass; bounds memory (default: all at once). */
  internalBatchSize?: number;
}

/** Nodes in [0, 1] and weights of an n-point rule (Captum's approximation_methods). */
export function integrationRule(
  n: number,
  method: IntegrationMethod = "gausslegendre",
): { alphas: number[]; weights: number[] } {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`nSteps must be a positive integer, got ${n}`);
  }
  const range = Array.from({ length: n }, (_, i) => i);
  switch (method) {
    case "riemann_left":
      return { alphas: range.map((i) => i / n), weights: range.map(() => 1 / n) };
    case "riemann_right":
      return { alphas: range.map((i) => (i + 1) / n), weights: range.map(() => 1 / n) };
    case "riemann_middle":
      return { alphas: range.map((i) => (i + 0.5) / n), weights: range.map(() => 1 / n) };
    case "riemann_trapezoid": {
      if (n < 2) throw new RangeError("riemann_trapezoid needs nSteps >= 2");
      return {
        alphas: range.map((i) => i / (n - 1)),
        weights: range.map((i) => (i === 0 || i === n - 1 ? 0.5 : 1) / (n - 1)),
      };
    }
    case "gausslegendre": {
      const [x, w] = gaussLegendre(n);
      return { alphas: x.map((v) => 0.5 * (1 + v)), weights: w.map((v) => 0.5 * v) };
    }
    default:
      throw new TypeError(`unknown integration method "${method}"`);
  }
}

/** Gauss-Legendre nodes (ascending) and weights on [-1, 1], by Newton's method. */
function gaussLegendre(n: number): [number[], number[]] {
  const x = new Array<number>(n), w = new Array<number>(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1, p1 = 0;
      for (let j = 1; j <= n; j++) [p0, p1] = [((2 * j - 1) * z * p0 - (j - 1) * p1) / j, p0];
      dp = (n * (z * p0 - p1)) / (z * z - 1);
      const dz = p0 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  return [x, w];
}

/** Path-integrated gradients from a baseline to the input. */
export class IntegratedGradients implements Attribution<IntegratedGradientsOptions> {
  /** Explains `model`. */
  constructor(readonly model: Forward) {}

  /** (x - baseline) * integral of the gradient along the straight path, shaped like inputs. */
  attribute(inputs: Tensor, options: IntegratedGradientsOptions): Tensor {
    const b = inputs.shape[0];
    const { alphas, weights } = integrationRule(options.nSteps ?? 50, options.method);
    const ibs = options.internalBatchSize ?? alphas.length * b;
    if (!Number.isInteger(ibs) || ibs < 1) {
      throw new RangeError(`internalBatchSize must be a positive integer, got ${ibs}`);
    }
    return inEvalMode(this.model, () =>
      tidy(() => {
        const x = inputs.detach();
        const base = baselineOf(options.baselines, x);
        const diff = x.sub(base);
        const target = targetTensor(options.target, b, x.device);
        // Memory bound: at most `ibs` scaled inputs per pass. Samples are split into chunks of
        // at most ibs rows; each pass takes as many whole steps of a chunk as fit.
        const rows = Math.min(ibs, b);
        const chunks: Tensor[] = [];
        for (let r = 0; r < b; r += rows) {
          const n = Math.min(rows, b - r);
          const part = (t: Tensor) => (n === b ? t : t.narrow(0, r, n));
          const stepsPerPass = Math.max(1, Math.floor(ibs / n));
          let total = keep(zeros([n, ...x.shape.slice(1)], { device: x.device as "cpu" }));
          for (let s = 0; s < alphas.length; s += stepsPerPass) {
            const steps = alphas.slice(s, s + stepsPerPass).map((a, j) => [a, weights[s + j]]);
            const next = tidy(() => {
              const xs = cat(steps.map(([a]) => part(base).add(part(diff).mul(a))));
              const ts = cat(steps.map(() => part(target)));
              const g = inputGradient(this.model, xs, ts);
              let acc = total;
              for (let j = 0; j < steps.length; j++) {
                acc = acc.add(g.narrow(0, j * n, n).mul(steps[j][1]));
              }
              return acc;
            });
            total.dispose();
            total = keep(next);
          }
          chunks.push(total);
        }
        const total = chunks.length === 1 ? chunks[0] : cat(chunks);
        const attr = total.mul(diff);
        for (const t of [total, ...chunks]) t.dispose();
        return attr;
      }));
  }

  /** sum(attributions) - (f(x) - f(baseline)) per sample: near 0 when the integral converged. */
  convergenceDelta(
    attributions: Tensor,
    inputs: Tensor,
    options: Omit<IntegratedGradientsOptions, "nSteps" | "method" | "internalBatchSize">,
  ): Tensor {
    return inEvalMode(this.model, () =>
      noGrad(() =>
        tidy(() => {
          const x = inputs.detach();
          const target = targetTensor(options.target, x.shape[0], x.device);
          const fx = this.model.forward(x).gather(1, target.reshape(-1, 1)).flatten();
          const fb = this.model.forward(baselineOf(options.baselines, x)).gather(
            1,
            target.reshape(-1, 1),
          ).flatten();
          return attributions.flatten(1).sum(1).sub(fx.sub(fb));
        })
      ));
  }
}

function baselineOf(baselines: number | Tensor | undefined, x: Tensor): Tensor {
  if (baselines === undefined || typeof baselines === "number") {
    return zeros(x.shape, { device: x.device as "cpu" }).add(baselines ?? 0);
  }
  return baselines.detach().expand(...x.shape);
}
