/**
 * Creating tensors: from JS data, filled, ranges and random. The default dtype is float32 and
 * the default device is `getDefaultDevice()` ("cpu" unless changed).
 *
 * @module
 */

import { check, lib, RANDOM } from "../../ffi/mod.ts";
import { defaultDeviceCode, type Device, deviceCode } from "./device.ts";
import {
  allocTyped,
  type DType,
  dtypeCode,
  dtypeOfTyped,
  dtypeSize,
  isFloating,
  type TypedArray,
} from "./dtype.ts";
import { intList, out1, OUT_BUF } from "./native.ts";
import { type NestedArray, Tensor } from "./tensor.ts";
import { checkMemory } from "../util/memory.ts";

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Element type (default float32; for typed arrays, the array's own type). */
  dtype?: DType;
  /** Device (default: the default device). */
  device?: Device;
  /** Record operations for autograd (floating dtypes only). */
  requiresGrad?: boolean;
}

/** Data accepted by `tensor()`. */
export type TensorData = number | boolean | NestedArray | readonly NestedArray[] | TypedArray;

function deviceOf(options: CreateOptions): number {
  return options.device === undefined ? defaultDeviceCode() : deviceCode(options.device);
}

function finish(t: Tensor, options: CreateOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

function checkShape(shape: readonly number[]): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) {
      throw new RangeError(`shape sizes must be non-negative integers, got [${shape.join(", ")}]`);
    }
  }
}

/**
 * Refuses, before anything is allocated, a CPU tensor larger than this machine's memory
 * ({@link MemoryBoundError} naming the call and the estimate), instead of libtorch's
 * allocator message. A GPU's memory is left to its allocator, whose message says which.
 */
function checkFits(op: string, shape: readonly number[], dtype: DType, device: number): void {
  checkShape(shape);
  if (device >= 0) return;
  const bytes = shape.reduce((a, b) => a * b, 1) * dtypeSize(dtype);
  checkMemory(bytes, `${op}([${shape.join(", ")}]) of ${dtype}`);
}

function inferShape(data: unknown): number[] {
  const shape: number[] = [];
  let v = data;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

function flatten(data: unknown, shape: number[], out: unknown[], depth = 0): void {
  if (depth === shape.length) {
    if (typeof data !== "number" && typeof data !== "boolean") {
      throw new TypeError(`tensor data must hold numbers or booleans, found ${typeof data}`);
    }
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new TypeError(
      `tensor data is ragged: expected ${shape[depth]} elements at depth ${depth}, ` +
        `got ${Array.isArray(data) ? data.length : typeof data}`,
    );
  }
  for (const item of data) flatten(item, shape, out, depth + 1);
}

function fill(values: ArrayLike<number | boolean | bigint>, dtype: DType): TypedArray {
  const host = allocTyped(dtype, values.length);
  if (host instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      host[i] = typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    }
  } else if (dtype === "bool") {
    // any non-zero (and NaN) is true, as in PyTorch
    for (let i = 0; i < values.length; i++) host[i] = Number(values[i]) !== 0 ? 1 : 0;
  } else {
    for (let i = 0; i < values.length; i++) host[i] = Number(values[i]);
  }
  return host;
}

/**
 * A tensor from JS data: a number, nested arrays of numbers or booleans, or a typed array
 * (Float32Array, Float64Array, BigInt64Array, Int32Array, Uint8Array, ...) with `shape`.
 * Numbers default to float32, booleans to bool, typed arrays to their own type.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);                       // float32 [2, 2]
 * const y = tensor([0, 2, 1], { dtype: "int64" });          // labels
 * const z = tensor(new Float32Array(12), { shape: [3, 4] });
 * ```
 */
export function tensor(
  data: TensorData,
  options: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  let shape: number[];
  let values: ArrayLike<number | boolean | bigint>;
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    shape = options.shape ? [...options.shape] : [typed.length];
    values = typed;
    dtype = options.dtype ?? dtypeOfTyped(typed);
  } else {
    shape = inferShape(data);
    const flat: unknown[] = [];
    flatten(data, shape, flat);
    values = flat as (number | boolean)[];
    dtype = options.dtype ?? (typeof flat[0] === "boolean" ? "bool" : "float32");
    if (options.shape) shape = [...options.shape];
  }
  checkShape(shape);
  dtypeCode(dtype); // unknown dtypes fail here with a clear message
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel !== values.length) {
    throw new RangeError(
      `shape [${shape.join(", ")}] needs ${numel} elements, data has ${values.length}`,
    );
  }
  if (dtype === "float16" || dtype === "bfloat16") {
    const f = tensor(values as TypedArray, { shape, dtype: "float32", device: options.device });
    try {
      return finish(f.to(dtype), options);
    } finally {
      f.dispose();
    }
  }
  // bool always goes through fill(): a byte other than 0/1 is not a valid libtorch bool
  const host = ArrayBuffer.isView(values) && dtype !== "bool" &&
      dtypeOfTyped(values as TypedArray) === dtype
    ? values as TypedArray
    : fill(values, dtype);
  const bytes = new Uint8Array(host.buffer, host.byteOffset, host.byteLength);
  return copied(bytes, dtype, shape, options, "tensor");
}

/** A tensor holding a copy of `bytes` (checked against dtype and shape by the caller). */
function copied(
  bytes: Uint8Array,
  dtype: DType,
  shape: readonly number[],
  options: Omit<CreateOptions, "dtype">,
  op: string,
): Tensor {
  const err = lib.hlgm_from_data(
    bytes,
    dtypeCode(dtype),
    intList(shape, "shape"),
    shape.length,
    deviceOf(options),
    OUT_BUF,
  );
  return finish(new Tensor(out1(err, op)), options);
}

/**
 * A tensor from raw little-endian element bytes (any dtype, float16/bfloat16 included), as
 * read from a checkpoint file. The bytes are copied.
 */
export function fromBytes(
  bytes: Uint8Array,
  dtype: DType,
  shape: readonly number[],
  options: Omit<CreateOptions, "dtype"> = {},
): Tensor {
  checkShape(shape);
  const numel = shape.reduce((a, b) => a * b, 1);
  const need = numel * dtypeSize(dtype);
  if (bytes.byteLength !== need) {
    throw new RangeError(
      `${dtype} tensor of shape [${shape.join(", ")}] needs ${need} bytes, got ${bytes.byteLength}`,
    );
  }
  return copied(bytes, dtype, shape, options, "fromBytes");
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  return filled("full", shape, value, options);
}

function filled(
  op: string,
  shape: readonly number[],
  value: number,
  options: CreateOptions,
): Tensor {
  checkFits(op, shape, options.dtype ?? "float32", deviceOf(options));
  const err = lib.hlgm_full(
    intList(shape, "shape"),
    shape.length,
    value,
    dtypeCode(options.dtype ?? "float32"),
    deviceOf(options),
    OUT_BUF,
  );
  return finish(new Tensor(out1(err, op)), options);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled("zeros", shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled("ones", shape, 1, options);
}

/** An uninitialised tensor. */
export function empty(shape: readonly number[], options: CreateOptions = {}): Tensor {
  checkFits("empty", shape, options.dtype ?? "float32", deviceOf(options));
  const err = lib.hlgm_empty(
    intList(shape, "shape"),
    shape.length,
    dtypeCode(options.dtype ?? "float32"),
    deviceOf(options),
    OUT_BUF,
  );
  return finish(new Tensor(out1(err, "empty")), options);
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`; `arange(n)` counts 0..n-1.
 * The dtype defaults to int64 when all arguments are integers (as torch.arange), else float32.
 */
export function arange(
  start: number,
  end?: number,
  step = 1,
  options: CreateOptions = {},
): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new RangeError("arange step must not be zero");
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = options.dtype ?? (integral ? "int64" : "float32");
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (Number.isFinite(n)) checkFits("arange", [n], dtype, deviceOf(options));
  const err = lib.hlgm_arange(start, end, step, dtypeCode(dtype), deviceOf(options), OUT_BUF);
  return finish(new Tensor(out1(err, "arange")), options);
}

function random(
  kind: number,
  shape: readonly number[],
  lo: number,
  hi: number,
  dtype: DType,
  options: CreateOptions,
  op: string,
): Tensor {
  checkFits(op, shape, dtype, deviceOf(options));
  const err = lib.hlgm_random(
    kind,
    intList(shape, "shape"),
    shape.length,
    lo,
    hi,
    dtypeCode(dtype),
    deviceOf(options),
    OUT_BUF,
  );
  return finish(new Tensor(out1(err, op)), options);
}

/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return random(RANDOM.uniform, shape, 0, 1, options.dtype ?? "float32", options, "rand");
}

/** Uniform samples in [low, high). */
export function uniform(
  shape: readonly number[],
  low: number,
  high: number,
  options: CreateOptions = {},
): Tensor {
  if (!(high >= low)) throw new RangeError(`uniform needs low <= high, got [${low}, ${high})`);
  return random(RANDOM.uniform, shape, low, high, options.dtype ?? "float32", options, "uniform");
}

/** Standard normal samples (mean 0, std 1). */
export function randn(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return random(RANDOM.normal, shape, 0, 1, options.dtype ?? "float32", options, "randn");
}

/** Integers uniform in [low, high); int64 by default. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: CreateOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint needs integers low < high, got [${low}, ${high})`);
  }
  const dtype = options.dtype ?? "int64";
  if (isFloating(dtype) && options.requiresGrad) throw new TypeError("randint cannot require grad");
  return random(RANDOM.integers, shape, low, high, dtype, options, "randint");
}

/** Seeds libtorch's CPU and CUDA generators (torch.manual_seed). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  }
  check(lib.hlgm_manual_seed(seed), "manualSeed");
}

/**
 * A generator's state as a uint8 tensor (save it to resume a run exactly): the CPU's (default,
 * torch.get_rng_state) or a CUDA device's (torch.cuda.get_rng_state), each its own stream.
 */
export function getRngState(device: Device = "cpu"): Tensor {
  return new Tensor(out1(lib.hlgm_get_rng_state(deviceCode(device), OUT_BUF), "getRngState"));
}

/** Restores a generator's state (the CPU's by default) from {@link getRngState}'s. */
export function setRngState(state: Tensor, device: Device = "cpu"): void {
  check(lib.hlgm_set_rng_state(deviceCode(device), state.handle), "setRngState");
}
