/**
 * Loading PyTorch checkpoints (`torch.save`'s ZIP format, the default since PyTorch 1.6)
 * without Python and without running anything from the file.
 *
 * The archive holds `<prefix>/data.pkl` (a pickle of the saved object in which each tensor is
 * a call to `torch._utils._rebuild_tensor_v2` on a persistent storage id), the storages'
 * raw bytes as `<prefix>/data/<key>`, `<prefix>/version` and, since PyTorch 2.1,
 * `<prefix>/byteorder`. The pickle is decoded by a weights-only unpickler that accepts the
 * same kind of names as PyTorch's `torch.load(weights_only=True)`, fewer of them: tensor and
 * parameter rebuild functions, the storage classes of the dtypes hlgm has, dtypes,
 * `collections.OrderedDict`, `torch.Size`, `torch.device` and `_codecs.encode` (bytes). Any
 * other global (`os.system`, `builtins.eval`, a pickled `nn.Module` class, ...) is refused
 * with an error naming it.
 *
 * Every tensor is copied out of its storage into its own hlgm tensor: views that share a
 * storage in the file (a slice and its base, tied weights) load as independent tensors, with
 * the storage offset and strides applied (non-contiguous views are gathered element by
 * element). Tensors land on `options.device` (default: the default device), whatever device
 * they were saved from.
 *
 * @module
 */

import { fromBytes } from "../tensor/create.ts";
import type { Device } from "../tensor/device.ts";
import { type DType, dtypeSize, isFloating } from "../tensor/dtype.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type ByteSource, CheckpointError, type CheckpointSource, openSource } from "./io.ts";
import {
  isTuple,
  PickleDict,
  PickleGlobal,
  unpickle,
  UnpickleError,
  type UnpickleHooks,
} from "./pickle.ts";
import { ZipReader } from "./zip.ts";

/** Options of the PyTorch checkpoint loaders. */
export interface TorchLoadOptions {
  /** Device the tensors are created on (default: the default device). */
  device?: Device;
  /**
   * `loadTorchFile` only: the top-level entry to take the tensors from (e.g. "model_ema"),
   * instead of looking for the state dict.
   */
  key?: string;
}

/**
 * A decoded checkpoint value: `null`, booleans, numbers (bigint beyond 2^53), strings,
 * bytes, tensors, arrays (lists; tuples are frozen arrays), dicts ({@link PickleDict}, a
 * Map), sets, and {@link PickleGlobal} for allowed names that are data (dtypes).
 */
export type TorchValue = unknown;

/** Storage classes → dtype. */
const STORAGES: Record<string, DType> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

/** Storage classes PyTorch has but hlgm cannot hold. */
const OTHER_STORAGES = new Set([
  "ComplexFloatStorage",
  "ComplexDoubleStorage",
  "QUInt8Storage",
  "QInt8Storage",
  "QInt32Storage",
  "QUInt4x2Storage",
  "QUInt2x4Storage",
]);

const DTYPES: Record<string, DType> = {
  float32: "float32",
  float: "float32",
  float64: "float64",
  double: "float64",
  float16: "float16",
  half: "float16",
  bfloat16: "bfloat16",
  int64: "int64",
  long: "int64",
  int32: "int32",
  int: "int32",
  int16: "int16",
  short: "int16",
  int8: "int8",
  uint8: "uint8",
  bool: "bool",
};

const REBUILDS: Record<string, string> = {
  "torch._utils._rebuild_tensor": "rebuild_tensor",
  "torch._utils._rebuild_tensor_v2": "rebuild_tensor_v2",
  "torch._utils._rebuild_tensor_v3": "rebuild_tensor_v3",
  "torch._utils._rebuild_parameter": "rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state": "rebuild_parameter",
  "torch._tensor._rebuild_from_type_v2": "rebuild_from_type_v2",
};

const OTHER_ALLOWED: Record<string, string> = {
  "collections.OrderedDict": "ordered_dict",
  "torch.Tensor": "tensor_class",
  "torch.nn.parameter.Parameter": "parameter_class",
  "torch.Size": "size",
  "torch.device": "device",
  "_codecs.encode": "codecs_encode",
  "torch.UntypedStorage": "storage",
  "torch.storage.UntypedStorage": "storage",
};

/** A storage named by a persistent id: `("storage", type, key, location, numel)`. */
class StorageRef {
  constructor(
    readonly key: string,
    /** Element type, or null for an untyped (byte) storage. */
    readonly dtype: DType | null,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** A tensor as the pickle describes it: a view of a storage. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: DType,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
  ) {}
  withGrad(requiresGrad: boolean): TensorRef {
    return new TensorRef(
      this.storage,
      this.dtype,
      this.offset,
      this.shape,
      this.stride,
      requiresGrad,
    );
  }
}

function refuseGlobal(module: string, name: string): never {
  const full = `${module}.${name}`;
  let hint = "";
  if (module === "__main__" || module.startsWith("torch.nn.modules")) {
    hint = " The file pickles a Python object (such as torch.save(model)); save " +
      "model.state_dict() instead.";
  } else if (module.startsWith("numpy")) {
    hint = " NumPy arrays and scalars are not supported; save tensors instead.";
  }
  throw new Error(
    `refusing to load the global "${full}": a checkpoint may only rebuild tensors, ` +
      "storages and (ordered) dicts, and loading never runs code from the file." + hint,
  );
}

function findGlobal(module: string, name: string): unknown {
  const full = `${module}.${name}`;
  if (module === "torch" && name in STORAGES) return new PickleGlobal(module, name, "storage");
  if (module === "torch" && OTHER_STORAGES.has(name)) {
    throw new Error(`the storage type "${full}" (complex or quantized) is not supported by hlgm`);
  }
  if (module === "torch" && name in DTYPES) return new PickleGlobal(module, name, "dtype");
  const kind = REBUILDS[full] ?? OTHER_ALLOWED[full];
  if (kind) return new PickleGlobal(module, name, kind);
  return refuseGlobal(module, name);
}

function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new Error(`${what} must be a non-negative integer, got ${String(v)}`);
  }
  return v;
}

function ints(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new Error(`${what} must be a tuple, got ${String(v)}`);
  return v.map((x, i) => int(x, `${what}[${i}]`));
}

function rebuildTensor(
  storage: unknown,
  offset: unknown,
  size: unknown,
  stride: unknown,
  requiresGrad: unknown,
  dtype?: DType,
): TensorRef {
  if (!(storage instanceof StorageRef)) {
    throw new Error("a tensor rebuild needs a storage as first argument");
  }
  const d = dtype ?? storage.dtype;
  if (!d) throw new Error("a tensor on an untyped storage needs a dtype (_rebuild_tensor_v3)");
  if (storage.dtype && dtype && storage.dtype !== dtype) {
    throw new Error(`a ${dtype} tensor on a ${storage.dtype} storage is not supported`);
  }
  const shape = ints(size, "size");
  const strides = ints(stride, "stride");
  if (strides.length !== shape.length) {
    throw new Error(`size [${shape}] and stride [${strides}] differ in length`);
  }
  return new TensorRef(
    storage,
    d,
    int(offset, "storage offset"),
    shape,
    strides,
    requiresGrad === true,
  );
}

function dtypeOf(v: unknown): DType {
  if (v instanceof PickleGlobal && v.kind === "dtype") return DTYPES[v.name];
  throw new Error(`expected a torch dtype, got ${String(v)}`);
}

function call(fn: unknown, args: readonly unknown[]): unknown {
  if (!(fn instanceof PickleGlobal)) {
    throw new Error(`REDUCE on something that is not an allowed function (${typeof fn})`);
  }
  const a = args;
  switch (fn.kind) {
    case "ordered_dict": {
      const d = new PickleDict(true);
      if (a.length === 1 && Array.isArray(a[0])) {
        for (const pair of a[0]) {
          if (!Array.isArray(pair) || pair.length !== 2) {
            throw new Error("OrderedDict(items) needs (key, value) pairs");
          }
          d.set(pair[0], pair[1]);
        }
      } else if (a.length !== 0) {
        throw new Error(`OrderedDict takes no or one argument, got ${a.length}`);
      }
      return d;
    }
    case "rebuild_tensor":
      if (a.length !== 4) throw new Error(`_rebuild_tensor takes 4 arguments, got ${a.length}`);
      return rebuildTensor(a[0], a[1], a[2], a[3], false);
    case "rebuild_tensor_v2":
      if (a.length !== 6 && a.length !== 7) {
        throw new Error(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${a.length}`);
      }
      return rebuildTensor(a[0], a[1], a[2], a[3], a[4]);
    case "rebuild_tensor_v3":
      if (a.length !== 7 && a.length !== 8) {
        throw new Error(`_rebuild_tensor_v3 takes 7 or 8 arguments, got ${a.length}`);
      }
      return rebuildTensor(a[0], a[1], a[2], a[3], a[4], dtypeOf(a[6]));
    case "rebuild_parameter": {
      if (a.length !== 3 && a.length !== 4) {
        throw new Error(`${fn.name} takes 3 or 4 arguments, got ${a.length}`);
      }
      if (!(a[0] instanceof TensorRef)) throw new Error(`${fn.name} needs a tensor`);
      return a[0].withGrad(a[1] === true);
    }
    case "rebuild_from_type_v2": {
      // (func, new_type, args, state): a tensor subclass or a tensor with Python attributes;
      // the plain tensor is rebuilt and the attributes dropped.
      if (a.length !== 4) throw new Error(`_rebuild_from_type_v2 takes 4 arguments`);
      const [func, type, inner] = a;
      if (!(func instanceof PickleGlobal) || !Object.values(REBUILDS).includes(func.kind)) {
        throw new Error("_rebuild_from_type_v2 needs a tensor rebuild function");
      }
      if (
        !(type instanceof PickleGlobal) ||
        (type.kind !== "tensor_class" && type.kind !== "parameter_class")
      ) {
        throw new Error(`_rebuild_from_type_v2 of ${String(type)} is not supported`);
      }
      if (!isTuple(inner)) throw new Error("_rebuild_from_type_v2 arguments are not a tuple");
      return call(func, inner);
    }
    case "size":
      if (a.length !== 1 || !Array.isArray(a[0])) throw new Error("torch.Size takes a tuple");
      return Object.freeze(ints(a[0], "torch.Size"));
    case "device": {
      const [type, index] = a;
      if (
        typeof type !== "string" ||
        (index !== undefined && index !== null && typeof index !== "number")
      ) {
        throw new Error("torch.device takes a type string and an optional index");
      }
      return index === undefined || index === null ? type : `${type}:${index}`;
    }
    case "codecs_encode": {
      const [text, encoding] = a;
      if (typeof text !== "string" || (encoding !== "latin1" && encoding !== "latin-1")) {
        throw new Error("_codecs.encode is only allowed as encode(str, 'latin1') (bytes)");
      }
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 255) throw new Error("_codecs.encode: character outside latin-1");
        out[i] = c;
      }
      return out;
    }
    default:
      throw new Error(`"${fn.fullName}" cannot be called`);
  }
}

function makeHooks(): UnpickleHooks {
  return {
    findGlobal,
    call,
    newObject(cls, args) {
      if (cls instanceof PickleGlobal && cls.kind === "parameter_class") {
        if (!(args[0] instanceof TensorRef)) throw new Error("Parameter() needs a tensor");
        return args[0].withGrad(args.length < 2 || args[1] === true);
      }
      throw new Error(
        `refusing to create an object of ${String(cls)}: only nn.Parameter can be created`,
      );
    },
    build(target) {
      throw new Error(
        `BUILD (setting the state of an object) is only allowed on dicts, not on ${
          target instanceof TensorRef ? "a tensor" : typeof target
        }`,
      );
    },
    persistentLoad(pid) {
      if (!isTuple(pid) || pid.length !== 5 || pid[0] !== "storage") {
        throw new Error(
          "only persistent ids of the form ('storage', type, key, location, numel) are allowed",
        );
      }
      const [, type, key, location, numel] = pid;
      if (!(type instanceof PickleGlobal) || type.kind !== "storage") {
        throw new Error(`persistent id names ${String(type)}, not a storage type`);
      }
      if (typeof key !== "string" || typeof location !== "string") {
        throw new Error("persistent id key and location must be strings");
      }
      const dtype = type.name in STORAGES ? STORAGES[type.name] : null;
      return new StorageRef(key, dtype, location, int(numel, "storage size"));
    },
  };
}

/** An opened checkpoint: the decoded pickle, with lazy storages (internal). */
class Checkpoint {
  readonly root: unknown;
  readonly #zip: ZipReader;
  readonly #prefix: string;
  readonly #cache = new Map<string, Uint8Array>();

  constructor(readonly src: ByteSource) {
    const file = src.name;
    const head = src.read(0, Math.min(4, src.size), "file signature");
    if (head[0] === 0x80) {
      throw new CheckpointError(
        file,
        "this is the legacy (pre-1.6, or _use_new_zipfile_serialization=False) torch.save " +
          "format, which is not supported: re-save it with a current torch.save",
      );
    }
    if (!(head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)) {
      throw new CheckpointError(file, "not a PyTorch checkpoint (no ZIP signature at the start)");
    }
    this.#zip = new ZipReader(src);
    const first = this.#zip.names[0] ?? "";
    const slash = first.indexOf("/");
    if (slash <= 0) {
      throw new CheckpointError(file, "not a PyTorch checkpoint (entries are not in a folder)");
    }
    this.#prefix = first.slice(0, slash);
    const pkl = `${this.#prefix}/data.pkl`;
    if (!this.#zip.has(pkl)) {
      if (this.#zip.has(`${this.#prefix}/constants.pkl`)) {
        throw new CheckpointError(
          file,
          "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; " +
            "not supported",
        );
      }
      throw new CheckpointError(file, `not a PyTorch checkpoint (no "${pkl}" in the archive)`);
    }
    const order = `${this.#prefix}/byteorder`;
    if (this.#zip.has(order)) {
      const bo = new TextDecoder().decode(this.#zip.read(order)).trim();
      if (bo !== "little") {
        throw new CheckpointError(
          file,
          `the checkpoint was saved on a ${bo}-endian machine; only little-endian is supported`,
        );
      }
    }
    const data = this.#zip.read(pkl);
    try {
      this.root = unpickle(data, makeHooks());
    } catch (e) {
      if (e instanceof UnpickleError) {
        throw new CheckpointError(file, `${pkl}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  #storageBytes(s: StorageRef): Uint8Array {
    let bytes = this.#cache.get(s.key);
    if (!bytes) {
      const entry = `${this.#prefix}/data/${s.key}`;
      if (!this.#zip.has(entry)) {
        throw new CheckpointError(
          this.src.name,
          `storage "${s.key}" is missing from the archive (no "${entry}")`,
        );
      }
      bytes = this.#zip.read(entry);
      this.#cache.set(s.key, bytes);
    }
    const need = s.numel * (s.dtype ? dtypeSize(s.dtype) : 1);
    if (bytes.byteLength !== need) {
      throw new CheckpointError(
        this.src.name,
        `storage "${s.key}" has ${bytes.byteLength} bytes, but the pickle says ${s.numel} ` +
          `${s.dtype ?? "byte"} elements (${need} bytes)`,
      );
    }
    return bytes;
  }

  /** The tensor's bytes, row-major (a copy or a view of the storage bytes). */
  #tensorBytes(t: TensorRef, name: string): Uint8Array {
    const file = this.src.name;
    const es = dtypeSize(t.dtype);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(numel * es)) {
      throw new CheckpointError(file, `tensor "${name}" of shape [${t.shape}] is too large`);
    }
    if (numel === 0) return new Uint8Array(0);
    const storage = this.#storageBytes(t.storage);
    const available = Math.floor(storage.byteLength / es);
    let last = t.offset;
    for (let d = 0; d < t.shape.length; d++) last += (t.shape[d] - 1) * t.stride[d];
    if (last >= available) {
      throw new CheckpointError(
        file,
        `tensor "${name}" (offset ${t.offset}, size [${t.shape}], stride [${t.stride}]) reads ` +
          `element ${last} of a storage of ${available} ${t.dtype} elements`,
      );
    }
    let contiguous = true;
    let expected = 1;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      if (t.shape[d] !== 1 && t.stride[d] !== expected) contiguous = false;
      expected *= t.shape[d];
    }
    if (contiguous) return storage.subarray(t.offset * es, (t.offset + numel) * es);
    if (numel > available && numel * es > 2 ** 30) {
      throw new CheckpointError(
        file,
        `tensor "${name}" expands ${available} stored elements to ${numel}: too large to gather`,
      );
    }
    return gather(storage, es, t.offset, t.shape, t.stride, numel);
  }

  /** A new hlgm tensor for a tensor or storage of the pickle. */
  materialize(v: TensorRef | StorageRef, name: string, device?: Device): Tensor {
    const file = this.src.name;
    const t = v instanceof StorageRef
      ? new TensorRef(v, v.dtype ?? "uint8", 0, [v.numel], [1], false)
      : v;
    const bytes = this.#tensorBytes(t, name);
    try {
      return fromBytes(bytes, t.dtype, t.shape, {
        device,
        requiresGrad: t.requiresGrad && isFloating(t.dtype),
      });
    } catch (e) {
      throw new CheckpointError(file, `tensor "${name}": ${(e as Error).message}`, { cause: e });
    }
  }

  /** Drops one storage's cached bytes (once no tensor left to load uses it). */
  forget(v: TensorRef): void {
    this.#cache.delete(v.storage.key);
  }

  /** Drops the cached storage bytes. */
  release(): void {
    this.#cache.clear();
  }
}

function gather(
  src: Uint8Array,
  es: number,
  offset: number,
  shape: readonly number[],
  stride: readonly number[],
  numel: number,
): Uint8Array {
  const out = new Uint8Array(numel * es);
  const nd = shape.length;
  const last = nd - 1;
  const innerN = shape[last];
  const innerS = stride[last];
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  let o = 0;
  while (true) {
    if (innerS === 1) {
      out.set(src.subarray(base * es, (base + innerN) * es), o);
      o += innerN * es;
    } else {
      for (let j = 0, s = base * es; j < innerN; j++, s += innerS * es) {
        for (let k = 0; k < es; k++) out[o++] = src[s + k];
      }
    }
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < shape[d]) break;
      base -= stride[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return out;
  }
}

const MAX_DEPTH = 1000;

function isContainer(v: unknown): v is PickleDict | unknown[] | Set<unknown> {
  return v instanceof PickleDict || Array.isArray(v) || v instanceof Set;
}

function containsTensor(v: unknown, seen = new Set<unknown>(), depth = 0): boolean {
  if (v instanceof TensorRef) return true;
  if (!isContainer(v) || seen.has(v) || depth > MAX_DEPTH) return false;
  seen.add(v);
  const values = v instanceof PickleDict ? v.values() : v.values();
  for (const x of values) if (containsTensor(x, seen, depth + 1)) return true;
  return false;
}

/** Tensors under `v`, named by their dotted path; each container is visited once. */
function flatten(file: string, v: unknown): [string, TensorRef][] {
  const out: [string, TensorRef][] = [];
  const seen = new Set<unknown>();
  const walk = (x: unknown, name: string, depth: number) => {
    if (x instanceof TensorRef) {
      out.push([name, x]);
      return;
    }
    if (!isContainer(x) || x instanceof Set || seen.has(x)) return;
    if (depth > MAX_DEPTH) {
      throw new CheckpointError(file, `the saved object nests deeper than ${MAX_DEPTH} levels`);
    }
    seen.add(x);
    const entries: Iterable<[unknown, unknown]> = x instanceof PickleDict ? x : x.entries();
    for (const [k, y] of entries) {
      walk(y, name === "" ? String(k) : `${name}.${String(k)}`, depth + 1);
    }
  };
  walk(v, "", 0);
  return out;
}

const WRAPPER_KEYS = ["state_dict", "model_state_dict", "model", "module"];

/** The state dict's entries: see `loadTorchFile`. */
function selectTensors(file: string, root: unknown, key?: string): [string, TensorRef][] {
  if (key !== undefined) {
    if (!(root instanceof PickleDict)) {
      throw new CheckpointError(file, `key "${key}" given, but the file does not hold a dict`);
    }
    if (!root.has(key)) {
      const keys = [...root.keys()].map((k) => JSON.stringify(k)).join(", ");
      throw new CheckpointError(file, `no entry "${key}" at the top level (it has ${keys})`);
    }
    return flatten(file, root.get(key));
  }
  if (root instanceof PickleDict) {
    if (root.size > 0 && [...root.values()].every((x) => x instanceof TensorRef)) {
      return flatten(file, root);
    }
    for (const k of WRAPPER_KEYS) {
      const inner = root.get(k);
      if (inner instanceof PickleDict && containsTensor(inner)) return flatten(file, inner);
    }
  }
  return flatten(file, root);
}

function withCheckpoint<T>(source: CheckpointSource, fn: (c: Checkpoint) => T): T {
  const src = openSource(source);
  let c: Checkpoint | undefined;
  try {
    c = new Checkpoint(src);
    return fn(c);
  } finally {
    c?.release();
    src.close();
  }
}

/**
 * Loads the tensors of a PyTorch checkpoint (a path, file URL or the file's bytes) as a flat
 * Map from names to tensors:
 *
 * - a state dict (`torch.save(model.state_dict(), path)`) gives its entries as they are;
 * - a dict that wraps one under "state_dict", "model_state_dict", "model" or "module" (as
 *   training checkpoints do, next to "epoch", "optimizer", ...) gives that one's tensors;
 * - `options.key` picks a top-level entry explicitly;
 * - anything else gives every tensor in the file, named by its dotted path through dicts and
 *   lists ("optimizer.state.0.exp_avg"); a bare tensor is named "".
 *
 * Each name gets its own tensor (copied out of the file's storages; tied or overlapping
 * tensors do not share memory once loaded). Use `loadTorchObject` for the whole structure.
 * Throws a CheckpointError for damaged files and for any Python global outside the
 * weights-only allowlist (nothing from the file is ever executed).
 */
export function loadTorchFile(
  source: CheckpointSource,
  options: TorchLoadOptions = {},
): Map<string, Tensor> {
  return withCheckpoint(source, (c) => {
    const selected = selectTensors(c.src.name, c.root, options.key);
    const out = new Map<string, Tensor>();
    // Storage bytes are kept only while a tensor still to be loaded uses them.
    const uses = new Map<string, number>();
    for (const [, ref] of selected) uses.set(ref.storage.key, (uses.get(ref.storage.key) ?? 0) + 1);
    try {
      for (const [name, ref] of selected) {
        if (out.has(name)) {
          throw new CheckpointError(c.src.name, `two tensors are both named "${name}"`);
        }
        out.set(name, c.materialize(ref, name, options.device));
        const left = uses.get(ref.storage.key)! - 1;
        uses.set(ref.storage.key, left);
        if (left === 0) c.forget(ref);
      }
    } catch (e) {
      for (const t of out.values()) t.dispose();
      throw e;
    }
    return out;
  });
}

/**
 * Loads a PyTorch checkpoint's whole saved object (the `torch.load` result): dicts as
 * {@link PickleDict} (a Map; an OrderedDict's attributes such as a state dict's `_metadata`
 * are in `.attributes`), lists as arrays, tuples as frozen arrays, numbers, strings, bytes
 * and tensors. An object that appears several times (the same tensor under two names)
 * appears as the same JS object. The caller owns every tensor in it.
 */
export function loadTorchObject(
  source: CheckpointSource,
  options: Omit<TorchLoadOptions, "key"> = {},
): TorchValue {
  return withCheckpoint(source, (c) => {
    const file = c.src.name;
    const made: Tensor[] = [];
    const done = new Map<unknown, unknown>();
    const convert = (v: unknown, name: string, depth: number): unknown => {
      if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
      if (v instanceof PickleGlobal) return v;
      const prior = done.get(v);
      if (prior !== undefined) return prior;
      if (depth > MAX_DEPTH) {
        throw new CheckpointError(file, `the saved object nests deeper than ${MAX_DEPTH} levels`);
      }
      const sub = (k: unknown) => (name === "" ? String(k) : `${name}.${String(k)}`);
      if (v instanceof TensorRef || v instanceof StorageRef) {
        const t = c.materialize(v, name, options.device);
        made.push(t);
        done.set(v, t);
        return t;
      }
      if (v instanceof PickleDict) {
        const d = new PickleDict(v.ordered);
        done.set(v, d);
        for (const [k, x] of v) d.set(convert(k, name, depth + 1), convert(x, sub(k), depth + 1));
        for (const [k, x] of Object.entries(v.attributes)) {
          Object.defineProperty(d.attributes, k, {
            value: convert(x, sub(k), depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return d;
      }
      if (Array.isArray(v)) {
        const a: unknown[] = [];
        done.set(v, a);
        v.forEach((x, i) => a.push(convert(x, sub(i), depth + 1)));
        return Object.isFrozen(v) ? Object.freeze(a) : a;
      }
      if (v instanceof Set) {
        const s = new Set<unknown>();
        done.set(v, s);
        for (const x of v) s.add(convert(x, name, depth + 1));
        return s;
      }
      return v;
    };
    try {
      return convert(c.root, "", 0);
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  });
}
