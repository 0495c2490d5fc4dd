/**
 * The Tensor class: a JS object owning one libtorch tensor handle. Methods are named like
 * PyTorch's, in camelCase; every op returns a new Tensor (in-place ops end in `_` and return
 * `this`).
 *
 * @module
 */

import {
  ADDC,
  ARG_MAX_MIN,
  BINARY,
  check,
  lib,
  MAX_MIN_DIM,
  REDUCE,
  SHAPE,
  STD_VAR,
  UNARY,
} from "../../ffi/mod.ts";
import { type Device, deviceCode, deviceName } from "./device.ts";
import {
  allocTyped,
  type DType,
  dtypeCode,
  dtypeFromCode,
  dtypeSize,
  type TypedArray,
} from "./dtype.ts";
import { setTrackedPredicate, track, type Tracked, untrack } from "./engine.ts";
import { type MemoryFormat, memoryFormatCode } from "./memory_format.ts";
import { dimList, intList, OUT, out1, out2, OUT_BUF } from "./native.ts";

/** Nested JS arrays as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

/** A pair returned by `max(dim)`, `min(dim)`, `sort` and `topk`. */
export interface ValuesIndices {
  /** The selected values. */
  values: Tensor;
  /** Their int64 indices along the dimension. */
  indices: Tensor;
}

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the graph for another backward pass (default false). */
  retainGraph?: boolean;
  /** Build a graph of the gradient for higher-order derivatives (default false). */
  createGraph?: boolean;
}

interface Meta {
  shape: readonly number[];
  dtype: DType;
  device: "cpu" | `cuda:${number}`;
}

const META = new BigInt64Array(5 + 64);
const META_BUF = new Uint8Array(META.buffer);
const ITEM = new Float64Array(1);
const ITEM_BUF = new Uint8Array(ITEM.buffer);
const DTYPES = new Set<string>([
  "float32",
  "float64",
  "float16",
  "bfloat16",
  "int64",
  "int32",
  "int16",
  "int8",
  "uint8",
  "bool",
]);
const END = 2 ** 62; // "to the end" for slice (exact as a double, clamped by libtorch)

/**
 * A libtorch tensor. Free it with `dispose()` (or `using`), or create it inside `tidy()`.
 * Using a disposed tensor throws an Error; disposing twice is harmless.
 */
export class Tensor implements Tracked {
  #handle: bigint;
  #meta?: Meta;
  /** The tidy scope that owns this tensor (managed by the engine). */
  scope?: Set<Tracked>;

  /**
   * Wraps a native handle the caller owns (internal: use the creation functions instead).
   * @internal
   */
  constructor(handle: bigint) {
    if (handle === 0n) throw new Error("internal error: null tensor handle");
    this.#handle = handle;
    track(this, handle);
  }

  /** The native handle; throws if the tensor was disposed. */
  get handle(): bigint {
    if (this.#handle === 0n) {
      throw new Error(
        "this Tensor was disposed (freed by dispose() or by the tidy() scope it was made in; " +
          "return it from the scope or keep() it to use it later)",
      );
    }
    return this.#handle;
  }

  /** True once `dispose()` ran. */
  get isDisposed(): boolean {
    return this.#handle === 0n;
  }

  /** Frees the native tensor now. Safe to call more than once. */
  dispose(): void {
    if (this.#handle === 0n) return;
    const h = this.#handle;
    this.#handle = 0n;
    lib.hlgm_free(h);
    untrack(this);
  }

  /**
   * Moves ownership of the native handle to the caller (e.g. a Parameter wrapping this
   * tensor): this object becomes disposed without freeing the handle.
   * @internal
   */
  takeHandle(): bigint {
    const h = this.handle;
    this.#handle = 0n;
    untrack(this);
    return h;
  }

  /**
   * Makes this tensor refer to `src`'s data, keeping its identity and requiresGrad (torch's
   * `param.data = src`). Modules use it to move parameters between devices in place.
   */
  setData(src: Tensor): this {
    check(lib.hlgm_set_data(this.handle, src.handle), "setData");
    this.#meta = undefined;
    return this;
  }

  /** Same as dispose(), for `using t = ...`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #readMeta(): Meta {
    const handle = this.handle; // throws once disposed, even when the metadata is cached
    if (!this.#meta) {
      check(lib.hlgm_meta(handle, META_BUF), "meta");
      const ndim = Number(META[0]);
      const shape = Object.freeze(Array.from(META.subarray(5, 5 + ndim), Number));
      this.#meta = {
        shape,
        dtype: dtypeFromCode(Number(META[1])),
        device: deviceName(Number(META[2])),
      };
    }
    return this.#meta;
  }

  // ---- metadata ----

  /** Sizes of each dimension. */
  get shape(): readonly number[] {
    return this.#readMeta().shape;
  }
  /** Element type. */
  get dtype(): DType {
    return this.#readMeta().dtype;
  }
  /** "cpu" or "cuda:N". */
  get device(): "cpu" | `cuda:${number}` {
    return this.#readMeta().device;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of dimensions (PyTorch's `dim()`). */
  dim(): number {
    return this.shape.length;
  }
  /** The whole shape. */
  size(): readonly number[];
  /** Size of one dimension (negative counts from the end). */
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    const shape = this.shape;
    if (dim === undefined) return shape;
    const d = dim < 0 ? int("size", "dim", dim) + shape.length : int("size", "dim", dim);
    if (d < 0 || d >= shape.length) {
      throw new RangeError(`dim ${dim} out of range for a ${shape.length}-D tensor`);
    }
    return shape[d];
  }
  /** Number of elements. */
  numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  // ---- host access ----

  /** A flat host copy of the elements (int64 as BigInt64Array, bool as 0/1 Uint8Array). */
  data(): TypedArray {
    const dtype = this.dtype;
    if (dtype === "float16" || dtype === "bfloat16") {
      const f = this.to("float32");
      try {
        return f.data();
      } finally {
        f.dispose();
      }
    }
    const host = allocTyped(dtype, this.numel());
    const bytes = new Uint8Array(host.buffer, host.byteOffset, host.byteLength);
    check(lib.hlgm_copy_to_host(this.handle, bytes, BigInt(bytes.byteLength)), "data");
    return host;
  }

  /** The raw little-endian element bytes, row-major, for any dtype (float16/bfloat16 included). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.numel() * dtypeSize(this.dtype));
    check(lib.hlgm_copy_to_host(this.handle, out, BigInt(out.byteLength)), "bytes");
    return out;
  }

  /**
   * Like `data()`, but the copy runs on a worker thread so the event loop stays free (useful
   * for large device-to-host copies). Disposing this tensor meanwhile is safe: the copy holds
   * its own reference.
   */
  async dataAsync(): Promise<TypedArray> {
    const dtype = this.dtype;
    if (dtype === "float16" || dtype === "bfloat16") {
      const f = this.to("float32");
      try {
        return await f.dataAsync();
      } finally {
        f.dispose();
      }
    }
    const host = allocTyped(dtype, this.numel());
    const bytes = new Uint8Array(host.buffer, host.byteOffset, host.byteLength);
    const ref = out1(lib.hlgm_detach(this.handle, OUT_BUF), "dataAsync");
    try {
      check(await lib.hlgm_copy_to_host_async(ref, bytes, BigInt(bytes.byteLength)), "dataAsync");
    } finally {
      lib.hlgm_free(ref);
    }
    return host;
  }

  /** The elements as nested JS arrays (a number for a 0-d tensor; booleans for bool). */
  toArray(): NestedArray {
    const flat = this.data();
    const isBool = this.dtype === "bool";
    const value = (i: number): number | boolean =>
      isBool ? flat[i] !== 0 : typeof flat[i] === "bigint" ? Number(flat[i]) : (flat[i] as number);
    const shape = this.shape;
    if (shape.length === 0) return value(0);
    let offset = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = new Array(shape[d]);
      for (let i = 0; i < shape[d]; i++) {
        out[i] = d === shape.length - 1 ? value(offset++) : build(d + 1);
      }
      return out;
    };
    return build(0);
  }

  /** The value of a one-element tensor as a number. */
  item(): number {
    check(lib.hlgm_item(this.handle, ITEM_BUF), "item");
    return ITEM[0];
  }

  /** Copies to a device and/or dtype: `t.to("cuda")`, `t.to("float64")`, `t.to({ device, dtype })`. */
  to(target: Device | DType | { device?: Device; dtype?: DType; copy?: boolean }): Tensor {
    let device: number;
    let dtype = -1;
    let copy = false;
    if (typeof target === "string") {
      if (DTYPES.has(target)) {
        dtype = dtypeCode(target as DType);
        device = deviceCode(this.device);
      } else {
        device = deviceCode(target);
      }
    } else {
      device = deviceCode(target.device ?? this.device);
      if (target.dtype) dtype = dtypeCode(target.dtype);
      copy = target.copy ?? false;
    }
    return new Tensor(out1(lib.hlgm_to(this.handle, device, dtype, copy ? 1 : 0, OUT_BUF), "to"));
  }
  /** Copy on the CPU. */
  cpu(): Tensor {
    return this.to("cpu");
  }
  /** Copy as float32. */
  float(): Tensor {
    return this.to("float32");
  }
  /** Copy as int64. */
  long(): Tensor {
    return this.to("int64");
  }

  // ---- autograd ----

  /** Whether operations on this tensor are recorded for autograd. */
  get requiresGrad(): boolean {
    check(lib.hlgm_meta(this.handle, META_BUF), "requiresGrad");
    return META[3] === 1n;
  }
  set requiresGrad(on: boolean) {
    check(lib.hlgm_set_requires_grad(this.handle, on ? 1 : 0), "requiresGrad");
  }
  /** Sets requiresGrad and returns this (PyTorch's `requires_grad_`). */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }
  /** True for tensors created by the user rather than by a recorded op. */
  get isLeaf(): boolean {
    check(lib.hlgm_meta(this.handle, META_BUF), "isLeaf");
    return META[4] === 1n;
  }
  /** The accumulated gradient (a new Tensor referencing it), or null. */
  get grad(): Tensor | null {
    check(lib.hlgm_get_grad(this.handle, OUT_BUF), "grad");
    return OUT[0] === 0n ? null : new Tensor(OUT[0]);
  }
  set grad(g: Tensor | null) {
    check(lib.hlgm_set_grad(this.handle, g === null ? 0n : g.handle), "grad");
  }
  /** Clears the gradient (sets it to none, as torch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    check(lib.hlgm_set_grad(this.handle, 0n), "zeroGrad");
  }
  /** Back-propagates from this tensor (a scalar unless `gradient` is given) into leaf `.grad`s. */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    check(
      lib.hlgm_backward(
        this.handle,
        gradient ? gradient.handle : 0n,
        options.retainGraph ? 1 : 0,
        options.createGraph ? 1 : 0,
      ),
      "backward",
    );
  }
  /** A tensor sharing storage but cut from the graph. */
  detach(): Tensor {
    return new Tensor(out1(lib.hlgm_detach(this.handle, OUT_BUF), "detach"));
  }

  // ---- elementwise ----

  #unary(op: keyof typeof UNARY): Tensor {
    return new Tensor(out1(lib.hlgm_unary(UNARY[op], this.handle, OUT_BUF), op));
  }
  #binary(op: keyof typeof BINARY, other: Tensor | number): Tensor {
    const err = typeof other === "number"
      ? lib.hlgm_binary_scalar(BINARY[op], this.handle, other, OUT_BUF)
      : lib.hlgm_binary(BINARY[op], this.handle, other.handle, OUT_BUF);
    return new Tensor(out1(err, op));
  }
  #inplace(op: keyof typeof BINARY, other: Tensor | number): this {
    const err = typeof other === "number"
      ? lib.hlgm_binary_scalar_(BINARY[op], this.handle, other)
      : lib.hlgm_binary_(BINARY[op], this.handle, other.handle);
    check(err, `${op}_`);
    return this;
  }

  /** this + alpha * other (broadcasting). */
  add(other: Tensor | number, alpha = 1): Tensor {
    if (typeof other === "number") return this.#binary("add", other * alpha);
    if (alpha === 1) return this.#binary("add", other);
    return new Tensor(out1(lib.hlgm_add_scaled(this.handle, other.handle, alpha, OUT_BUF), "add"));
  }
  /** this - alpha * other. */
  sub(other: Tensor | number, alpha = 1): Tensor {
    if (typeof other === "number") return this.#binary("sub", other * alpha);
    if (alpha === 1) return this.#binary("sub", other);
    return this.add(other, -alpha);
  }
  /** Elementwise product. */
  mul(other: Tensor | number): Tensor {
    return this.#binary("mul", other);
  }
  /** Elementwise true division. */
  div(other: Tensor | number): Tensor {
    return this.#binary("div", other);
  }
  /** Elementwise power. */
  pow(exponent: Tensor | number): Tensor {
    return this.#binary("pow", exponent);
  }
  /** other - this. */
  rsub(other: number): Tensor {
    return new Tensor(
      out1(lib.hlgm_binary_scalar(BINARY.rsub, this.handle, other, OUT_BUF), "rsub"),
    );
  }
  /** Elementwise maximum of two tensors. */
  maximum(other: Tensor): Tensor {
    return this.#binary("maximum", other);
  }
  /** Elementwise minimum of two tensors. */
  minimum(other: Tensor): Tensor {
    return this.#binary("minimum", other);
  }
  /** Python-style remainder. */
  remainder(other: Tensor | number): Tensor {
    return this.#binary("remainder", other);
  }
  /** Floor division. */
  floorDivide(other: Tensor | number): Tensor {
    return this.#binary("floorDivide", other);
  }
  /** Matrix product with broadcasting (torch.matmul). */
  matmul(other: Tensor): Tensor {
    return this.#binary("matmul", other);
  }
  /** this == other (bool). */
  eq(other: Tensor | number): Tensor {
    return this.#binary("eq", other);
  }
  /** this != other (bool). */
  ne(other: Tensor | number): Tensor {
    return this.#binary("ne", other);
  }
  /** this < other (bool). */
  lt(other: Tensor | number): Tensor {
    return this.#binary("lt", other);
  }
  /** this <= other (bool). */
  le(other: Tensor | number): Tensor {
    return this.#binary("le", other);
  }
  /** this > other (bool). */
  gt(other: Tensor | number): Tensor {
    return this.#binary("gt", other);
  }
  /** this >= other (bool). */
  ge(other: Tensor | number): Tensor {
    return this.#binary("ge", other);
  }
  /** Elementwise logical and. */
  logicalAnd(other: Tensor): Tensor {
    return this.#binary("logicalAnd", other);
  }
  /** Elementwise logical or. */
  logicalOr(other: Tensor): Tensor {
    return this.#binary("logicalOr", other);
  }
  /** Elementwise logical not. */
  logicalNot(): Tensor {
    return this.#unary("logicalNot");
  }
  /** -this */
  neg(): Tensor {
    return this.#unary("neg");
  }
  /** e^x */
  exp(): Tensor {
    return this.#unary("exp");
  }
  /** Natural logarithm. */
  log(): Tensor {
    return this.#unary("log");
  }
  /** log(1 + x) */
  log1p(): Tensor {
    return this.#unary("log1p");
  }
  /** Absolute value. */
  abs(): Tensor {
    return this.#unary("abs");
  }
  /** Square root. */
  sqrt(): Tensor {
    return this.#unary("sqrt");
  }
  /** 1 / sqrt(x) */
  rsqrt(): Tensor {
    return this.#unary("rsqrt");
  }
  /** x * x */
  square(): Tensor {
    return this.#unary("square");
  }
  /** 1 / x */
  reciprocal(): Tensor {
    return this.#unary("reciprocal");
  }
  /** Sign (-1, 0, 1). */
  sign(): Tensor {
    return this.#unary("sign");
  }
  /** Round down. */
  floor(): Tensor {
    return this.#unary("floor");
  }
  /** Round up. */
  ceil(): Tensor {
    return this.#unary("ceil");
  }
  /** Round half to even. */
  round(): Tensor {
    return this.#unary("round");
  }
  /** Sine. */
  sin(): Tensor {
    return this.#unary("sin");
  }
  /** Cosine. */
  cos(): Tensor {
    return this.#unary("cos");
  }
  /** Logistic sigmoid. */
  sigmoid(): Tensor {
    return this.#unary("sigmoid");
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    return this.#unary("tanh");
  }
  /** max(x, 0) */
  relu(): Tensor {
    return this.#unary("relu");
  }
  /** Error function. */
  erf(): Tensor {
    return this.#unary("erf");
  }
  /** Inverse error function. */
  erfinv(): Tensor {
    return this.#unary("erfinv");
  }
  /** True where NaN. */
  isnan(): Tensor {
    return this.#unary("isnan");
  }
  /** True where finite. */
  isfinite(): Tensor {
    return this.#unary("isfinite");
  }
  /** A copy with its own storage (recorded by autograd). */
  clone(): Tensor {
    return this.#unary("clone");
  }
  /**
   * A contiguous tensor (this data when already contiguous). `"channels-last"`: a 4-D tensor
   * laid out NHWC in memory, shape unchanged (torch.channels_last), which convolution kernels
   * may run faster on.
   */
  contiguous(format: MemoryFormat = "contiguous"): Tensor {
    if (format === "contiguous") return this.#unary("contiguous");
    return new Tensor(
      out1(lib.hlgm_memory_format(this.handle, memoryFormatCode(format), OUT_BUF), "contiguous"),
    );
  }

  /** Whether the data is laid out in `format` (default: plain row-major). */
  isContiguous(format: MemoryFormat = "contiguous"): boolean {
    const out = new Int32Array(1);
    check(
      lib.hlgm_is_memory_format(this.handle, memoryFormatCode(format), new Uint8Array(out.buffer)),
      "isContiguous",
    );
    return out[0] === 1;
  }
  /** Clamps into [min, max]; either bound may be omitted (undefined or null). */
  clamp(min?: number | null, max?: number | null): Tensor {
    const hasLo = min !== undefined && min !== null;
    const hasHi = max !== undefined && max !== null;
    const err = lib.hlgm_clamp(
      this.handle,
      hasLo ? min : 0,
      hasLo ? 1 : 0,
      hasHi ? max : 0,
      hasHi ? 1 : 0,
      OUT_BUF,
    );
    return new Tensor(out1(err, "clamp"));
  }
  /** Elements of this where `condition`, else of `other` (PyTorch's `Tensor.where`). */
  where(condition: Tensor, other: Tensor): Tensor {
    return new Tensor(
      out1(lib.hlgm_where(condition.handle, this.handle, other.handle, OUT_BUF), "where"),
    );
  }

  // ---- in place (return this) ----

  /** this += alpha * other */
  add_(other: Tensor | number, alpha = 1): this {
    if (typeof other === "number") return this.#inplace("add", other * alpha);
    if (alpha === 1) return this.#inplace("add", other);
    check(lib.hlgm_add_scaled(this.handle, other.handle, alpha, null), "add_");
    return this;
  }
  /** this -= alpha * other */
  sub_(other: Tensor | number, alpha = 1): this {
    return this.add_(other, -alpha);
  }
  /** this *= other */
  mul_(other: Tensor | number): this {
    return this.#inplace("mul", other);
  }
  /** this /= other */
  div_(other: Tensor | number): this {
    return this.#inplace("div", other);
  }
  /** Copies `src` (broadcast, converted) into this. */
  copy_(src: Tensor): this {
    return this.#inplace("copy", src);
  }
  /** Fills with a value. */
  fill_(value: number): this {
    check(lib.hlgm_binary_scalar_(BINARY.fill, this.handle, value), "fill_");
    return this;
  }
  /** Fills with zeros. */
  zero_(): this {
    check(lib.hlgm_unary_(UNARY.zero, this.handle), "zero_");
    return this;
  }
  /** Clamps in place; either bound may be omitted (undefined or null). */
  clamp_(min?: number | null, max?: number | null): this {
    if (min !== undefined && min !== null) this.#inplace("maximum", min);
    if (max !== undefined && max !== null) this.#inplace("minimum", max);
    return this;
  }
  /** this += value * a * b */
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    check(lib.hlgm_addc_(ADDC.addcmul, this.handle, a.handle, b.handle, value), "addcmul_");
    return this;
  }
  /** this += value * a / b */
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    check(lib.hlgm_addc_(ADDC.addcdiv, this.handle, a.handle, b.handle, value), "addcdiv_");
    return this;
  }

  // ---- reductions ----

  #reduce(
    op: keyof typeof REDUCE,
    dim: number | readonly number[] | undefined,
    keepdim: boolean,
  ): Tensor {
    const dims = dimList(dim);
    const err = lib.hlgm_reduce(
      REDUCE[op],
      this.handle,
      intList(dims),
      dims.length,
      keepdim ? 1 : 0,
      OUT_BUF,
    );
    return new Tensor(out1(err, op));
  }
  /** Sum over `dim` (all dims when omitted). */
  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("sum", dim, keepdim);
  }
  /** Mean over `dim` (all dims when omitted). */
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("mean", dim, keepdim);
  }
  /** Product over `dim` (all dims when omitted). */
  prod(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("prod", dim, keepdim);
  }
  /** Maximum value over `dim` (all dims when omitted). */
  amax(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("amax", dim, keepdim);
  }
  /** Minimum value over `dim` (all dims when omitted). */
  amin(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("amin", dim, keepdim);
  }
  /** log(sum(exp(x))) over `dim`. */
  logsumexp(dim: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("logsumexp", dim, keepdim);
  }
  /** True where all are non-zero over `dim` (all dims when omitted). */
  all(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("all", dim, keepdim);
  }
  /** True where any is non-zero over `dim` (all dims when omitted). */
  any(dim?: number | readonly number[], keepdim = false): Tensor {
    return this.#reduce("any", dim, keepdim);
  }
  /** Maximum of all elements. */
  max(): Tensor;
  /** Maximum values and their indices along `dim`. */
  max(dim: number, keepdim?: boolean): ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | ValuesIndices {
    if (dim === undefined) return this.amax();
    const d = this.#dim("max", dim);
    const [values, indices] = out2(
      lib.hlgm_max_min_dim(MAX_MIN_DIM.max, this.handle, d, keepdim ? 1 : 0, OUT_BUF),
      "max",
    );
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  /** Minimum of all elements. */
  min(): Tensor;
  /** Minimum values and their indices along `dim`. */
  min(dim: number, keepdim?: boolean): ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | ValuesIndices {
    if (dim === undefined) return this.amin();
    const d = this.#dim("min", dim);
    const [values, indices] = out2(
      lib.hlgm_max_min_dim(MAX_MIN_DIM.min, this.handle, d, keepdim ? 1 : 0, OUT_BUF),
      "min",
    );
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  /** Index of the maximum along `dim` (of the flattened tensor when omitted). */
  argmax(dim?: number, keepdim = false): Tensor {
    const err = lib.hlgm_arg_max_min(
      ARG_MAX_MIN.argmax,
      this.handle,
      dim === undefined ? 0 : this.#dim("argmax", dim),
      dim === undefined ? 0 : 1,
      keepdim ? 1 : 0,
      OUT_BUF,
    );
    return new Tensor(out1(err, "argmax"));
  }
  /** Index of the minimum along `dim` (of the flattened tensor when omitted). */
  argmin(dim?: number, keepdim = false): Tensor {
    const err = lib.hlgm_arg_max_min(
      ARG_MAX_MIN.argmin,
      this.handle,
      dim === undefined ? 0 : this.#dim("argmin", dim),
      dim === undefined ? 0 : 1,
      keepdim ? 1 : 0,
      OUT_BUF,
    );
    return new Tensor(out1(err, "argmin"));
  }
  /** Standard deviation over `dim` (all when omitted); unbiased (Bessel) by default. */
  std(dim?: number | readonly number[], unbiased = true, keepdim = false): Tensor {
    return this.#stdVar("std", dim, unbiased, keepdim);
  }
  /** Variance over `dim` (all when omitted); unbiased (Bessel) by default. */
  var(dim?: number | readonly number[], unbiased = true, keepdim = false): Tensor {
    return this.#stdVar("var", dim, unbiased, keepdim);
  }
  #stdVar(
    op: keyof typeof STD_VAR,
    dim: number | readonly number[] | undefined,
    unbiased: boolean,
    keepdim: boolean,
  ): Tensor {
    const dims = dimList(dim);
    const err = lib.hlgm_std_var(
      STD_VAR[op],
      this.handle,
      intList(dims),
      dims.length,
      unbiased ? 1 : 0,
      keepdim ? 1 : 0,
      OUT_BUF,
    );
    return new Tensor(out1(err, op));
  }

  // ---- shape ----

  #shapeOp(op: keyof typeof SHAPE, sizes: readonly number[]): Tensor {
    const err = lib.hlgm_shape_op(
      SHAPE[op],
      this.handle,
      intList(sizes, `${op} sizes`),
      sizes.length,
      OUT_BUF,
    );
    return new Tensor(out1(err, op));
  }
  /** Same data in a new shape (a view when possible); one size may be -1. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return this.#shapeOp("reshape", flatArgs(shape));
  }
  /** A view with a new shape (the data must be contiguous enough). */
  view(...shape: number[] | [readonly number[]]): Tensor {
    return this.#shapeOp("view", flatArgs(shape));
  }
  /** Reorders dimensions. */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return this.#shapeOp("permute", flatArgs(dims));
  }
  /** Broadcasts to a larger shape without copying (-1 keeps a size). */
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return this.#shapeOp("expand", flatArgs(shape));
  }
  /** Tiles the tensor. */
  repeat(...times: number[] | [readonly number[]]): Tensor {
    return this.#shapeOp("repeat", flatArgs(times));
  }
  /** Reverses the order along the given dims. */
  flip(...dims: number[] | [readonly number[]]): Tensor {
    return this.#shapeOp("flip", flatArgs(dims));
  }
  /** Swaps two dimensions. */
  transpose(dim0: number, dim1: number): Tensor {
    const d0 = this.#dim("transpose", dim0, "dim0");
    const d1 = this.#dim("transpose", dim1, "dim1");
    return new Tensor(out1(lib.hlgm_transpose(this.handle, d0, d1, OUT_BUF), "transpose"));
  }
  /** Flattens dims start..end (inclusive) into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    const start = this.#dim("flatten", startDim, "startDim");
    const end = this.#dim("flatten", endDim, "endDim");
    return new Tensor(out1(lib.hlgm_flatten(this.handle, start, end, OUT_BUF), "flatten"));
  }
  /** Removes size-1 dims (or only `dim`). */
  squeeze(dim?: number): Tensor {
    const d = dim === undefined ? 0 : this.#dim("squeeze", dim);
    const err = lib.hlgm_squeeze(this.handle, d, dim === undefined ? 0 : 1, OUT_BUF);
    return new Tensor(out1(err, "squeeze"));
  }
  /** Inserts a size-1 dim at `dim`. */
  unsqueeze(dim: number): Tensor {
    const d = this.#dim("unsqueeze", dim, "dim", 1);
    return new Tensor(out1(lib.hlgm_unsqueeze(this.handle, d, OUT_BUF), "unsqueeze"));
  }

  // ---- indexing ----

  /** Elements start..end (exclusive; negative counts from the end) by `step` along `dim`: a view. */
  slice(dim: number, start = 0, end: number = END, step = 1): Tensor {
    const d = this.#dim("slice", dim);
    // start and end are clamped to the dim, as in Python; step must be positive, as PyTorch's
    const from = clampEnd(intLike("slice", "start", start));
    const to = clampEnd(intLike("slice", "end", end));
    if (int("slice", "step", step) < 1) {
      throw new RangeError(`slice: step must be a positive integer, got ${step}`);
    }
    return new Tensor(out1(lib.hlgm_slice(this.handle, d, from, to, step, OUT_BUF), "slice"));
  }
  /** `length` elements from `start` along `dim`: a view. */
  narrow(dim: number, start: number, length: number): Tensor {
    const d = this.#dim("narrow", dim);
    const size = this.shape[d] ?? 1;
    int("narrow", "start", start);
    int("narrow", "length", length);
    if (start < -size || start > size) {
      throw new RangeError(
        `narrow: start ${start} is out of range for dim ${dim} of size ${size} ` +
          `(expected ${-size}..${size})`,
      );
    }
    const from = start < 0 ? start + size : start;
    if (length < 0 || from + length > size) {
      throw new RangeError(
        `narrow: start ${start} + length ${length} does not fit dim ${dim} of size ${size} ` +
          `(length must be in 0..${size - from})`,
      );
    }
    return new Tensor(out1(lib.hlgm_narrow(this.handle, d, start, length, OUT_BUF), "narrow"));
  }
  /** The slice at `index` along `dim`, with that dim removed: a view. */
  select(dim: number, index: number): Tensor {
    const d = this.#dim("select", dim);
    const size = this.shape[d];
    if (size === undefined) throw new RangeError("select: cannot select on a 0-d tensor");
    int("select", "index", index);
    if (index < -size || index >= size) {
      throw new RangeError(
        `select: index ${index} is out of range for dim ${dim} of size ${size} ` +
          `(tensor of size [${this.shape.join(", ")}]; expected ${-size}..${size - 1})`,
      );
    }
    return new Tensor(out1(lib.hlgm_select(this.handle, d, index, OUT_BUF), "select"));
  }
  /** Rows (along `dim`) picked by an int64 index tensor. */
  indexSelect(dim: number, index: Tensor): Tensor {
    const d = this.#dim("indexSelect", dim);
    return new Tensor(
      out1(lib.hlgm_index_select(this.handle, d, index.handle, OUT_BUF), "indexSelect"),
    );
  }
  /** out[i][j] = this[i][index[i][j]] (for dim 1), as torch.gather. */
  gather(dim: number, index: Tensor): Tensor {
    const d = this.#dim("gather", dim);
    return new Tensor(out1(lib.hlgm_gather(this.handle, d, index.handle, OUT_BUF), "gather"));
  }
  /** A copy with `src` (or a scalar) written at `index` along `dim`, as torch.scatter. */
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    const d = this.#dim("scatter", dim);
    const err = typeof src === "number"
      ? lib.hlgm_scatter(this.handle, d, index.handle, 0n, src, OUT_BUF)
      : lib.hlgm_scatter(this.handle, d, index.handle, src.handle, 0, OUT_BUF);
    return new Tensor(out1(err, "scatter"));
  }
  /** A copy with `value` where `mask` is true. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(
      out1(lib.hlgm_masked_fill(this.handle, mask.handle, value, OUT_BUF), "maskedFill"),
    );
  }
  /** The elements where `mask` is true, as a 1-D tensor. */
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(
      out1(lib.hlgm_masked_select(this.handle, mask.handle, OUT_BUF), "maskedSelect"),
    );
  }
  /** Sorts along `dim` (last by default); `stable` keeps the order of equal elements. */
  sort(dim = -1, descending = false, stable = false): ValuesIndices {
    const d = this.#dim("sort", dim);
    const err = lib.hlgm_sort(this.handle, d, descending ? 1 : 0, stable ? 1 : 0, OUT_BUF);
    const [values, indices] = out2(err, "sort");
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  /** The k largest (or smallest) elements along `dim`. */
  topk(k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
    const d = this.#dim("topk", dim);
    const size = this.shape[d] ?? 1;
    int("topk", "k", k);
    if (k < 0 || k > size) {
      throw new RangeError(`topk: k ${k} is out of range for dim ${dim} of size ${size}`);
    }
    const err = lib.hlgm_topk(this.handle, k, d, largest ? 1 : 0, sorted ? 1 : 0, OUT_BUF);
    const [values, indices] = out2(err, "topk");
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  /** int64 class indices to one-hot int64 vectors (numClasses -1 = max + 1). */
  oneHot(numClasses = -1): Tensor {
    if (int("oneHot", "numClasses", numClasses) < -1) {
      throw new RangeError(`oneHot: numClasses must be -1 or a class count, got ${numClasses}`);
    }
    return new Tensor(out1(lib.hlgm_one_hot(this.handle, numClasses, OUT_BUF), "oneHot"));
  }

  // ---- activations (more in functional) ----

  /** Softmax along `dim`. */
  softmax(dim: number): Tensor {
    const d = this.#dim("softmax", dim);
    return new Tensor(out1(lib.hlgm_softmax(0, this.handle, d, OUT_BUF), "softmax"));
  }
  /** Log-softmax along `dim`. */
  logSoftmax(dim: number): Tensor {
    const d = this.#dim("logSoftmax", dim);
    return new Tensor(out1(lib.hlgm_softmax(1, this.handle, d, OUT_BUF), "logSoftmax"));
  }

  /**
   * `dim` checked as PyTorch checks it: an integer (TypeError naming `op` and the argument)
   * in -n..n-1 for an n-D tensor (a 0-d tensor counts as 1-D; `extra` 1 allows -n-1..n, for
   * unsqueeze), else a RangeError; returned non-negative.
   */
  #dim(op: string, dim: number, name = "dim", extra = 0): number {
    int(op, name, dim);
    const n = extra ? this.ndim + extra : Math.max(this.ndim, 1);
    if (dim < -n || dim >= n) {
      throw new RangeError(
        `${op}: ${name} ${dim} is out of range for a ${this.ndim}-D tensor ` +
          `(expected ${-n}..${n - 1})`,
      );
    }
    return dim < 0 ? dim + n : dim;
  }

  /** A short description, with the values when there are few. */
  toString(): string {
    if (this.isDisposed) return "Tensor(disposed)";
    const head = `shape=[${this.shape.join(", ")}], dtype=${this.dtype}, device=${this.device}`;
    if (this.numel() > 32) return `Tensor(${head})`;
    return `Tensor(${JSON.stringify(this.toArray())}, ${head})`;
  }

  /** Used by console.log in Deno. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/** `v` when it is a safe integer; else a TypeError naming `op` and the argument (as PyTorch). */
function int(op: string, name: string, v: number): number {
  if (!Number.isSafeInteger(v)) {
    throw new TypeError(`${op}: ${name} must be an integer, got ${describe(v)}`);
  }
  return v;
}

/** `v` when it is an integer of any size (slice bounds, clamped later); else a TypeError. */
function intLike(op: string, name: string, v: number): number {
  if (!Number.isInteger(v)) {
    throw new TypeError(`${op}: ${name} must be an integer, got ${describe(v)}`);
  }
  return v;
}

/** A slice bound within +-2^62, where libtorch clamps it to the dim. */
function clampEnd(v: number): number {
  return Math.max(-END, Math.min(END, v));
}

function describe(v: unknown): string {
  return typeof v === "number" ? String(v) : `${typeof v} ${JSON.stringify(v) ?? String(v)}`;
}

function flatArgs(args: number[] | [readonly number[]]): readonly number[] {
  return args.length === 1 && Array.isArray(args[0]) ? args[0] : (args as number[]);
}

setTrackedPredicate((v): v is Tensor => v instanceof Tensor);
