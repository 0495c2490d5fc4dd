/**
 * Initialisers with torch.nn.init's distributions. Each returns a new tensor (the layers wrap
 * it in a Parameter), drawn from libtorch's seeded generator.
 *
 * @module
 */

import { randn, uniform } from "../tensor/create.ts";
import type { Device } from "../tensor/device.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Where new tensors go. */
export interface InitOptions {
  /** Device of the new tensor. */
  device?: Device;
}

/** fan_in and fan_out of a weight shape [out, in, *kernel], as torch computes them. */
function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new RangeError("fan in/out need a weight with at least 2 dims");
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** U(-bound, bound) with bound = 1/sqrt(fanIn): torch's default Linear/Conv init (weights via kaiming_uniform(a=sqrt(5)), biases directly). */
export function defaultUniform(
  shape: readonly number[],
  fanIn: number,
  options: InitOptions = {},
): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(shape, -bound, bound, options);
}

/** kaiming_normal_ with mode "fan_out" and a ReLU gain (torchvision's ResNet conv init). */
export function kaimingNormalFanOut(shape: readonly number[], options: InitOptions = {}): Tensor {
  const std = Math.sqrt(2) / Math.sqrt(fans(shape).fanOut);
  return tidy(() => randn(shape, options).mul(std));
}

/** trunc_normal_(mean, std, a, b) as torch.nn.init: inverse-CDF sampling, then clamping. */
export function truncNormal(
  shape: readonly number[],
  options: InitOptions & { mean?: number; std?: number; a?: number; b?: number } = {},
): Tensor {
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  const a = options.a ?? -2;
  const b = options.b ?? 2;
  const cdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  const l = cdf((a - mean) / std);
  const u = cdf((b - mean) / std);
  return tidy(() =>
    uniform(shape, 2 * l - 1, 2 * u - 1, options).erfinv().mul(std * Math.SQRT2).add(mean).clamp(
      a,
      b,
    )
  );
}

// Abramowitz-Stegun 7.1.26 is too coarse for the truncation bounds; use a series/continued
// fraction accurate to ~1e-15 instead.
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const z = Math.abs(x);
  if (z < 2.5) {
    // Maclaurin series
    let term = z;
    let sum = z;
    for (let n = 1; n < 100; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  // continued fraction for erfc
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (z + f);
  const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
  return sign * (1 - erfc);
}
