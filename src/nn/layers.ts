/**
 * Layers with torch.nn's names, parameter names, defaults and initialisation: Linear, Conv2d,
 * BatchNorm2d, LayerNorm, Dropout, ReLU, GELU, MaxPool2d, AdaptiveAvgPool2d, Flatten.
 *
 * @module
 */

import { defaultUniform, type InitOptions } from "./init.ts";
import { Module } from "./module.ts";
import type { Parameter } from "./parameter.ts";
import { full, ones, zeros } from "../tensor/create.ts";
import {
  adaptiveAvgPool2d,
  batchNorm,
  conv2d,
  dropout,
  gelu,
  layerNorm,
  linear,
  maxPool2d,
  type Size2,
} from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";

const pairOf = (v: Size2): [number, number] => typeof v === "number" ? [v, v] : [v[0], v[1]];

/** y = x W^T + b. Parameters: weight [out, in], bias [out]. */
export class Linear extends Module {
  /** [outFeatures, inFeatures] */
  readonly weight: Parameter;
  /** [outFeatures], or null without bias */
  readonly bias: Parameter | null;
  /** Creates the layer with torch's default initialisation. */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: InitOptions & { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.registerParameter(
      "weight",
      defaultUniform([outFeatures, inFeatures], inFeatures, options),
    );
    this.bias = options.bias === false
      ? null
      : this.registerParameter("bias", defaultUniform([outFeatures], inFeatures, options));
  }
  /** Applies the affine map to the last dim. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** Options of Conv2d. */
export interface Conv2dLayerOptions extends InitOptions {
  /** Stride (default 1). */
  stride?: Size2;
  /** Zero padding (default 0). */
  padding?: Size2;
  /** Dilation (default 1). */
  dilation?: Size2;
  /** Groups (default 1). */
  groups?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
}

/** 2-D convolution. Parameters: weight [out, in/groups, kh, kw], bias [out]. */
export class Conv2d extends Module {
  /** [out, in/groups, kh, kw] */
  readonly weight: Parameter;
  /** [out], or null without bias */
  readonly bias: Parameter | null;
  readonly #options: Conv2dLayerOptions;
  /** Creates the layer with torch's default initialisation. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const [kh, kw] = pairOf(kernelSize);
    const groups = options.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(
        `channels ${inChannels} -> ${outChannels} not divisible by groups ${groups}`,
      );
    }
    const fanIn = (inChannels / groups) * kh * kw;
    this.#options = options;
    this.weight = this.registerParameter(
      "weight",
      defaultUniform([outChannels, inChannels / groups, kh, kw], fanIn, options),
    );
    this.bias = options.bias === false
      ? null
      : this.registerParameter("bias", defaultUniform([outChannels], fanIn, options));
  }
  /** Convolves (N, C, H, W) input. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, { ...this.#options, bias: this.bias });
  }
}

/** Options of BatchNorm2d. */
export interface BatchNorm2dOptions extends InitOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Running-stat momentum (default 0.1). */
  momentum?: number;
  /** Learn weight and bias (default true). */
  affine?: boolean;
  /** Keep running mean/var buffers (default true). */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over (N, C, H, W). Parameters weight, bias; buffers running_mean,
 * running_var, num_batches_tracked (int64), as torch.nn.BatchNorm2d.
 */
export class BatchNorm2d extends Module {
  /** [C] scale, or null when not affine */
  readonly weight: Parameter | null;
  /** [C] shift, or null when not affine */
  readonly bias: Parameter | null;
  /** [C] running mean, or null when not tracking */
  readonly runningMean: Tensor | null;
  /** [C] running variance, or null when not tracking */
  readonly runningVar: Tensor | null;
  /** Batches seen in training, or null when not tracking */
  readonly numBatchesTracked: Tensor | null;
  readonly #eps: number;
  readonly #momentum: number;
  /** Creates the layer: weight 1, bias 0, running mean 0, running var 1. */
  constructor(readonly numFeatures: number, options: BatchNorm2dOptions = {}) {
    super();
    this.#eps = options.eps ?? 1e-5;
    this.#momentum = options.momentum ?? 0.1;
    const dev = { device: options.device };
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter("weight", ones([numFeatures], dev)) : null;
    this.bias = affine ? this.registerParameter("bias", zeros([numFeatures], dev)) : null;
    const track = options.trackRunningStats ?? true;
    this.runningMean = track
      ? this.registerBuffer("running_mean", zeros([numFeatures], dev))
      : null;
    this.runningVar = track ? this.registerBuffer("running_var", ones([numFeatures], dev)) : null;
    this.numBatchesTracked = track
      ? this.registerBuffer("num_batches_tracked", full([], 0, { ...dev, dtype: "int64" }))
      : null;
  }
  /** Normalises with batch statistics in training (updating the running ones), else running ones. */
  forward(x: Tensor): Tensor {
    if (this.training && this.numBatchesTracked) this.numBatchesTracked.add_(1);
    return batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training || this.runningMean === null,
      momentum: this.#momentum,
      eps: this.#eps,
    });
  }
}

/** Layer normalisation over the trailing dims. Parameters weight, bias. */
export class LayerNorm extends Module {
  /** Scale, or null without elementwise affine */
  readonly weight: Parameter | null;
  /** Shift, or null without elementwise affine */
  readonly bias: Parameter | null;
  readonly #shape: number[];
  readonly #eps: number;
  /** Creates the layer: weight 1, bias 0. */
  constructor(
    normalizedShape: number | readonly number[],
    options: InitOptions & { eps?: number; elementwiseAffine?: boolean } = {},
  ) {
    super();
    this.#shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.#eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    const dev = { device: options.device };
    this.weight = affine ? this.registerParameter("weight", ones(this.#shape, dev)) : null;
    this.bias = affine ? this.registerParameter("bias", zeros(this.#shape, dev)) : null;
  }
  /** Normalises the trailing dims. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.#shape, { weight: this.weight, bias: this.bias, eps: this.#eps });
  }
}

/** Zeroes elements with probability p in training (scaling the rest by 1/(1-p)). */
export class Dropout extends Module {
  /** Creates the layer. */
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) {
      throw new RangeError(`dropout probability must be in [0, 1], got ${p}`);
    }
  }
  /** Identity in eval mode. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}

/** max(x, 0) */
export class ReLU extends Module {
  /** Applies ReLU. */
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** GELU (exact by default, or the tanh approximation). */
export class GELU extends Module {
  /** Creates the layer. */
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
  }
  /** Applies GELU. */
  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

/** 2-D max pooling. */
export class MaxPool2d extends Module {
  /** Creates the layer (stride defaults to the kernel size). */
  constructor(
    readonly kernelSize: Size2,
    readonly options: { stride?: Size2; padding?: Size2; dilation?: Size2; ceilMode?: boolean } =
      {},
  ) {
    super();
  }
  /** Pools (N, C, H, W) input. */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

/** Average pooling to a fixed output size. */
export class AdaptiveAvgPool2d extends Module {
  /** Creates the layer. */
  constructor(readonly outputSize: Size2) {
    super();
  }
  /** Pools (N, C, H, W) input. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** Flattens dims startDim..endDim (default 1..-1: keep the batch dim). */
export class Flatten extends Module {
  /** Creates the layer. */
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  /** Flattens. */
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}
