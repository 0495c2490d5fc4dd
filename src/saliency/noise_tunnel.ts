/**
 * NoiseTunnel (SmoothGrad, SmoothGrad-squared, VarGrad) around another attribution method,
 * with Captum's names and defaults: 5 samples, Gaussian noise of std 1.0 added to the input.
 *
 * @module
 */

import type { AttributeOptions, Attribution, Target } from "./common.ts";
import { randn } from "../tensor/create.ts";
import { keep, tidy } from "../tensor/engine.ts";
import { cat } from "../tensor/functional.ts";
import { Tensor } from "../tensor/tensor.ts";

/** Options of NoiseTunnel.attribute, on top of the wrapped method's own. */
export interface NoiseTunnelOptions {
  /** "smoothgrad" (mean, default), "smoothgrad_sq" (mean of squares) or "vargrad" (variance). */
  ntType?: "smoothgrad" | "smoothgrad_sq" | "vargrad";
  /** Noisy copies per input (default 5). */
  nSamples?: number;
  /** Standard deviation of the Gaussian noise (default 1.0). */
  stdevs?: number;
  /** Noisy copies per pass (default: all at once). */
  nSamplesBatchSize?: number;
}

/** Averages (or takes the variance of) a method's attributions over noisy inputs. */
export class NoiseTunnel<O extends AttributeOptions>
  implements Attribution<O & NoiseTunnelOptions> {
  /** Wraps `method`. */
  constructor(readonly method: Attribution<O>) {}

  /** Attributions shaped like the wrapped method's. */
  attribute(inputs: Tensor, options: O & NoiseTunnelOptions): Tensor {
    const n = options.nSamples ?? 5;
    const std = options.stdevs ?? 1.0;
    const per = options.nSamplesBatchSize ?? n;
    const type = options.ntType ?? "smoothgrad";
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`nSamples must be a positive integer, got ${n}`);
    }
    if (!(std >= 0)) throw new RangeError(`stdevs must be >= 0, got ${std}`);
    if (!["smoothgrad", "smoothgrad_sq", "vargrad"].includes(type)) {
      throw new TypeError(`unknown ntType "${type}"`);
    }
    const b = inputs.shape[0];
    const target = options.target;
    return tidy(() => {
      let sum: Tensor | undefined;
      let sumSq: Tensor | undefined;
      for (let done = 0; done < n; done += per) {
        const k = Math.min(per, n - done);
        const [s, sq] = tidy(() => {
          const x = inputs.detach();
          const noisy = cat(
            Array.from(
              { length: k },
              () => x.add(randn(x.shape, { device: x.device as "cpu" }).mul(std)),
            ),
          );
          const attr = this.method.attribute(noisy, {
            ...options,
            target: repeatTarget(target, k),
          });
          const parts = attr.reshape(k, b, ...attr.shape.slice(1));
          return [parts.sum(0), parts.square().sum(0)];
        });
        sum = sum ? keep(tidy(() => sum!.add(s))) : keep(s);
        sumSq = sumSq ? keep(tidy(() => sumSq!.add(sq))) : keep(sq);
      }
      const mean = sum!.div(n);
      const meanSq = sumSq!.div(n);
      if (type === "smoothgrad") return mean;
      if (type === "smoothgrad_sq") return meanSq;
      return meanSq.sub(mean.square()); // vargrad: E[a^2] - E[a]^2
    });
  }
}

/** The per-sample target for k noisy copies of the batch, stacked copy-major. */
function repeatTarget(target: Target, k: number): Target {
  if (typeof target === "number") return target;
  if (target instanceof Tensor) return target.reshape(-1).repeat(k);
  return Array.from({ length: k }, () => target).flat();
}
