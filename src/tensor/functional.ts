/**
 * Neural-network functions in the style of torch.nn.functional: convolution, pooling,
 * normalisation, activations, losses and resampling, plus joins (cat, stack) and where.
 *
 * @module
 */

import { lib, REDUCTION } from "../../ffi/mod.ts";
import { kernelCheck } from "./kernel_check.ts";
import { handleList, intList, out1, OUT_BUF } from "./native.ts";
import { Tensor } from "./tensor.ts";

/** How a loss reduces over the batch. */
export type Reduction = "none" | "mean" | "sum";

/** A size for both spatial dims, or [height, width]. */
export type Size2 = number | readonly [number, number];

function pair(v: Size2, what: string): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every(Number.isInteger)) {
    throw new TypeError(`${what} must be integers, got ${JSON.stringify(v)}`);
  }
  return p;
}

function reductionCode(r: Reduction): number {
  const code = REDUCTION[r];
  if (code === undefined) {
    throw new TypeError(`unknown reduction "${r}"; expected none, mean or sum`);
  }
  return code;
}

const opt = (t: Tensor | null | undefined): bigint => (t ? t.handle : 0n);

function intDim(op: string, dim: number): void {
  if (!Number.isSafeInteger(dim)) throw new TypeError(`${op}: dim must be an integer, got ${dim}`);
}

/** Concatenates tensors along an existing dim. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  intDim("cat", dim);
  const list = handleList(tensors.map((t) => t.handle));
  return new Tensor(out1(lib.hlgm_join(0, list, tensors.length, dim, OUT_BUF), "cat"));
}

/** Stacks same-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  intDim("stack", dim);
  const list = handleList(tensors.map((t) => t.handle));
  return new Tensor(out1(lib.hlgm_join(1, list, tensors.length, dim, OUT_BUF), "stack"));
}

/** Elements of `a` where `condition` is true, else of `b` (torch.where). */
export function where(condition: Tensor, a: Tensor, b: Tensor): Tensor {
  return new Tensor(out1(lib.hlgm_where(condition.handle, a.handle, b.handle, OUT_BUF), "where"));
}

/** Class indices (int64) to one-hot int64 vectors. */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  return indices.oneHot(numClasses);
}

/** x W^T + b */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(
    out1(lib.hlgm_linear(input.handle, weight.handle, opt(bias), OUT_BUF), "linear"),
  );
}

/** Options of conv2d. */
export interface Conv2dOptions {
  /** Bias of shape [outChannels]. */
  bias?: Tensor | null;
  /** Stride (default 1). */
  stride?: Size2;
  /** Zero padding (default 0). */
  padding?: Size2;
  /** Dilation (default 1). */
  dilation?: Size2;
  /** Groups (default 1). */
  groups?: number;
}

/** 2-D convolution of (N, C, H, W) input with (O, C/groups, kH, kW) weight. */
export function conv2d(input: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor {
  const geometry = [
    ...pair(options.stride ?? 1, "stride"),
    ...pair(options.padding ?? 0, "padding"),
    ...pair(options.dilation ?? 1, "dilation"),
  ];
  kernelCheck(); // once per process: never train on a wrong oneDNN kernel
  const err = lib.hlgm_conv2d(
    input.handle,
    weight.handle,
    opt(options.bias),
    intList(geometry),
    options.groups ?? 1,
    OUT_BUF,
  );
  return new Tensor(out1(err, "conv2d"));
}

/** Options of the pooling functions. */
export interface PoolOptions {
  /** Stride (default: the kernel size). */
  stride?: Size2;
  /** Implicit padding (default 0). */
  padding?: Size2;
  /** Dilation, max pooling only (default 1). */
  dilation?: Size2;
  /** Use ceil instead of floor for the output size (default false). */
  ceilMode?: boolean;
  /** Average pooling: count padding zeros in the mean (default true). */
  countIncludePad?: boolean;
}

/** 2-D max pooling. */
export function maxPool2d(input: Tensor, kernelSize: Size2, options: PoolOptions = {}): Tensor {
  const geometry = [
    ...pair(kernelSize, "kernelSize"),
    ...pair(options.stride ?? kernelSize, "stride"),
    ...pair(options.padding ?? 0, "padding"),
    ...pair(options.dilation ?? 1, "dilation"),
  ];
  const err = lib.hlgm_max_pool2d(
    input.handle,
    intList(geometry),
    options.ceilMode ? 1 : 0,
    OUT_BUF,
  );
  return new Tensor(out1(err, "maxPool2d"));
}

/** 2-D average pooling. */
export function avgPool2d(input: Tensor, kernelSize: Size2, options: PoolOptions = {}): Tensor {
  const geometry = [
    ...pair(kernelSize, "kernelSize"),
    ...pair(options.stride ?? kernelSize, "stride"),
    ...pair(options.padding ?? 0, "padding"),
  ];
  const err = lib.hlgm_avg_pool2d(
    input.handle,
    intList(geometry),
    options.ceilMode ? 1 : 0,
    options.countIncludePad === false ? 0 : 1,
    OUT_BUF,
  );
  return new Tensor(out1(err, "avgPool2d"));
}

/** Average pooling to a fixed output size. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: Size2): Tensor {
  const err = lib.hlgm_adaptive_avg_pool2d(
    input.handle,
    intList(pair(outputSize, "outputSize")),
    OUT_BUF,
  );
  return new Tensor(out1(err, "adaptiveAvgPool2d"));
}

/** Options of batchNorm. */
export interface BatchNormOptions {
  /** Scale (gamma). */
  weight?: Tensor | null;
  /** Shift (beta). */
  bias?: Tensor | null;
  /** Use batch statistics and update the running ones (default false). */
  training?: boolean;
  /** Running-stat momentum (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** Batch normalisation over (N, C, ...) input; running stats are updated in place when training. */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  const err = lib.hlgm_batch_norm(
    input.handle,
    opt(options.weight),
    opt(options.bias),
    opt(runningMean),
    opt(runningVar),
    options.training ? 1 : 0,
    options.momentum ?? 0.1,
    options.eps ?? 1e-5,
    OUT_BUF,
  );
  return new Tensor(out1(err, "batchNorm"));
}

/** Layer normalisation over the trailing `normalizedShape` dims. */
export function layerNorm(
  input: Tensor,
  normalizedShape: readonly number[],
  options: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {},
): Tensor {
  const err = lib.hlgm_layer_norm(
    input.handle,
    intList(normalizedShape),
    normalizedShape.length,
    opt(options.weight),
    opt(options.bias),
    options.eps ?? 1e-5,
    OUT_BUF,
  );
  return new Tensor(out1(err, "layerNorm"));
}

/** Zeroes elements with probability p and scales the rest by 1/(1-p) when training. */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability must be in [0, 1], got ${p}`);
  return new Tensor(out1(lib.hlgm_dropout(input.handle, p, training ? 1 : 0, OUT_BUF), "dropout"));
}

/** max(x, 0) */
export function relu(input: Tensor): Tensor {
  return input.relu();
}

/** GELU, exact ("none", default) or with the tanh approximation. */
export function gelu(input: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  return new Tensor(
    out1(lib.hlgm_gelu(input.handle, approximate === "tanh" ? 1 : 0, OUT_BUF), "gelu"),
  );
}

/** Softmax along `dim`. */
export function softmax(input: Tensor, dim: number): Tensor {
  return input.softmax(dim);
}

/** Log-softmax along `dim`. */
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return input.logSoftmax(dim);
}

/** Options of crossEntropy / nllLoss. */
export interface ClassLossOptions {
  /** Per-class weights. */
  weight?: Tensor | null;
  /** Default "mean". */
  reduction?: Reduction;
  /** Targets equal to this are skipped (default -100). */
  ignoreIndex?: number;
  /** Cross-entropy only: mix the target with the uniform distribution (default 0). */
  labelSmoothing?: number;
}

/** Cross-entropy of logits (N, C, ...) against int64 class indices (N, ...). */
export function crossEntropy(
  input: Tensor,
  target: Tensor,
  options: ClassLossOptions = {},
): Tensor {
  const smoothing = options.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new RangeError(`labelSmoothing must be in [0, 1], got ${smoothing}`);
  }
  const err = lib.hlgm_cross_entropy(
    input.handle,
    target.handle,
    opt(options.weight),
    reductionCode(options.reduction ?? "mean"),
    options.ignoreIndex ?? -100,
    smoothing,
    OUT_BUF,
  );
  return new Tensor(out1(err, "crossEntropy"));
}

/** Negative log-likelihood of log-probabilities against int64 class indices. */
export function nllLoss(input: Tensor, target: Tensor, options: ClassLossOptions = {}): Tensor {
  const err = lib.hlgm_nll_loss(
    input.handle,
    target.handle,
    opt(options.weight),
    reductionCode(options.reduction ?? "mean"),
    options.ignoreIndex ?? -100,
    OUT_BUF,
  );
  return new Tensor(out1(err, "nllLoss"));
}

/**
 * KL divergence as torch.nn.functional.kl_div: `input` holds log-probabilities, `target`
 * probabilities (or log-probabilities with logTarget). "batchmean" divides the sum by the
 * batch size (the mathematically correct KL); "mean" divides by the element count.
 */
export function klDiv(
  input: Tensor,
  target: Tensor,
  options: { reduction?: Reduction | "batchmean"; logTarget?: boolean } = {},
): Tensor {
  const reduction = options.reduction ?? "mean";
  const code = reductionCode(reduction === "batchmean" ? "sum" : reduction);
  const r = new Tensor(
    out1(
      lib.hlgm_kl_div(input.handle, target.handle, code, options.logTarget ? 1 : 0, OUT_BUF),
      "klDiv",
    ),
  );
  if (reduction !== "batchmean") return r;
  try {
    return r.div(input.ndim > 0 ? input.shape[0] : 1);
  } finally {
    r.dispose();
  }
}

const sizeWarnings = new Set<string>();

/**
 * PyTorch's warning for a regression loss whose target and input shapes differ (they would
 * broadcast, e.g. [4, 1] against [4] to [4, 4]): printed once per loss and pair of shapes.
 */
function warnSizeMismatch(loss: string, input: Tensor, target: Tensor): void {
  const a = input.shape, b = target.shape;
  if (a.length === b.length && a.every((s, i) => s === b[i])) return;
  const key = `${loss} [${a}] [${b}]`;
  if (sizeWarnings.has(key)) return;
  sizeWarnings.add(key);
  console.warn(
    `${loss}: Using a target size ([${b.join(", ")}]) that is different to the input size ` +
      `([${a.join(", ")}]). This will likely lead to incorrect results due to broadcasting. ` +
      "Please ensure they have the same size.",
  );
}

/**
 * Mean squared error. A target whose shape differs from the input's is broadcast as in
 * PyTorch, with PyTorch's warning (once per pair of shapes).
 */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  warnSizeMismatch("mseLoss", input, target);
  const err = lib.hlgm_mse_loss(input.handle, target.handle, reductionCode(reduction), OUT_BUF);
  return new Tensor(out1(err, "mseLoss"));
}

/** Options of interpolate. */
export interface InterpolateOptions {
  /** Output [height, width] (or one number for both). */
  size?: Size2;
  /** Multiplier of the input size, when `size` is not given. */
  scaleFactor?: number;
  /** "nearest" (default) or "bilinear". */
  mode?: "nearest" | "bilinear";
  /** Bilinear only: align the corner pixels (default false). */
  alignCorners?: boolean;
}

/** Resizes (N, C, H, W) input, as torch.nn.functional.interpolate. */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const mode = options.mode ?? "nearest";
  if (mode !== "nearest" && mode !== "bilinear") {
    throw new TypeError(`unknown interpolate mode "${mode}"; expected nearest or bilinear`);
  }
  let size: [number, number];
  let scale = 0; // > 0: libtorch samples at dst / scale, as PyTorch does for scale_factor
  if (options.size !== undefined) {
    size = pair(options.size, "size");
  } else if (options.scaleFactor !== undefined) {
    scale = options.scaleFactor;
    if (!(scale > 0)) throw new RangeError(`scaleFactor must be positive, got ${scale}`);
    const [h, w] = input.shape.slice(-2);
    size = [Math.floor(h * scale), Math.floor(w * scale)];
  } else {
    throw new TypeError("interpolate needs size or scaleFactor");
  }
  const err = lib.hlgm_interpolate(
    input.handle,
    mode === "nearest" ? 0 : 1,
    intList(size),
    scale,
    scale,
    options.alignCorners ? 1 : 0,
    OUT_BUF,
  );
  return new Tensor(out1(err, "interpolate"));
}
