/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of UTF-8 JSON, then the tensors' raw little-endian bytes.
 *
 * The header maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
 * (offsets relative to the byte buffer after the header) and may hold `"__metadata__"`, a
 * string-to-string map. Writing follows the reference writer (safetensors >= 0.3, checked
 * byte for byte against 0.8.0): tensors sorted by dtype alignment, largest first, then by
 * name (UTF-8 byte order); contiguous offsets from 0; compact JSON with `__metadata__` first
 * and each entry as dtype, shape, data_offsets; the header padded with spaces to a multiple
 * of 8 bytes. The reference keeps metadata in a hash map (no fixed order); here its keys are
 * sorted, so output is deterministic.
 *
 * Reading checks everything the reference reader checks (header length, UTF-8, JSON, dtypes,
 * shape against byte length, offsets contiguous from 0 and covering the buffer exactly) and
 * throws a {@link CheckpointError} naming the file and the problem.
 *
 * @module
 */

import { fromBytes } from "../tensor/create.ts";
import type { Device } from "../tensor/device.ts";
import { type DType, dtypeSize } from "../tensor/dtype.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  type ByteSource,
  CheckpointError,
  type CheckpointSource,
  openSource,
  writeFileAtomic,
} from "./io.ts";

/** Tensors to save: a Map or a plain object from names to tensors. */
export type TensorDict = Map<string, Tensor> | Record<string, Tensor>;

/** Options of the safetensors loaders. */
export interface SafetensorsLoadOptions {
  /** Device the tensors are created on (default: the default device). */
  device?: Device;
}

/** What a safetensors file holds. */
export interface SafetensorsContents {
  /** The tensors by name, in file order (ascending data offsets). */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` strings ({} when absent). */
  metadata: Record<string, string>;
}

/** One tensor's header entry. */
export interface SafetensorsEntry {
  /** hlgm dtype. */
  dtype: DType;
  /** The format's dtype name ("F32", "BF16", ...). */
  format: string;
  /** Sizes. */
  shape: number[];
  /** [begin, end) in the byte buffer after the header. */
  dataOffsets: [number, number];
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** Entries in file order (ascending data offsets). */
  tensors: Map<string, SafetensorsEntry>;
  /** The `__metadata__` strings ({} when absent). */
  metadata: Record<string, string>;
  /** Whether the header had a `__metadata__` entry. */
  hasMetadata: boolean;
  /** N, the header's byte length (padding included). */
  headerLength: number;
}

/** hlgm dtype -> format name. */
const TO_FORMAT: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  float16: "F16",
  bfloat16: "BF16",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};

const FROM_FORMAT = new Map<string, DType>(
  Object.entries(TO_FORMAT).map(([dtype, format]) => [format, dtype as DType]),
);

/** Position of each dtype in the reference's `Dtype` enum (increasing alignment). */
const FORMAT_RANK: Record<string, number> = {
  BOOL: 0,
  U8: 4,
  I8: 5,
  I16: 11,
  F16: 13,
  BF16: 14,
  I32: 15,
  F32: 17,
  F64: 19,
  I64: 20,
};

/** Format dtypes that exist but have no hlgm dtype. */
const UNSUPPORTED_FORMATS = new Set([
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F8_E4M3FNUZ",
  "F8_E5M2FNUZ",
  "U16",
  "U32",
  "U64",
  "C64",
]);

/** The reference reader refuses headers larger than this. */
const MAX_HEADER = 100_000_000;

const encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function checkString(file: string, s: string, what: string): void {
  if (typeof s !== "string") throw new CheckpointError(file, `${what} must be a string`);
  if (!s.isWellFormed()) {
    throw new CheckpointError(file, `${what} ${JSON.stringify(s)} holds a lone UTF-16 surrogate`);
  }
}

interface PlannedTensor {
  name: string;
  tensor: Tensor;
  dtype: DType;
  shape: readonly number[];
  begin: number;
  end: number;
}

interface Plan {
  header: Uint8Array; // 8-byte length + padded JSON
  tensors: PlannedTensor[];
  total: number;
}

function plan(file: string, tensors: TensorDict, metadata?: Record<string, string>): Plan {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const items = entries.map(([name, tensor]) => {
    checkString(file, name, "tensor name");
    if (name === "__metadata__") {
      throw new CheckpointError(file, 'the tensor name "__metadata__" is reserved by the format');
    }
    if (!tensor || typeof tensor !== "object" || typeof tensor.bytes !== "function") {
      throw new CheckpointError(file, `"${name}" is not a Tensor`);
    }
    let dtype: DType;
    let shape: readonly number[];
    try {
      dtype = tensor.dtype;
      shape = tensor.shape;
    } catch (e) {
      throw new CheckpointError(file, `tensor "${name}": ${(e as Error).message}`, { cause: e });
    }
    const format = TO_FORMAT[dtype];
    return { name, tensor, dtype, shape, format, key: encoder.encode(name) };
  });
  // The reference order: dtype alignment descending, then name in byte order.
  items.sort((a, b) => FORMAT_RANK[b.format] - FORMAT_RANK[a.format] || compareBytes(a.key, b.key));
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort((a, b) =>
      compareBytes(encoder.encode(a), encoder.encode(b))
    );
    const meta: string[] = [];
    for (const k of keys) {
      const v = metadata[k];
      checkString(file, k, "metadata key");
      if (typeof v !== "string") {
        throw new CheckpointError(
          file,
          `metadata value of "${k}" must be a string, got ${typeof v} (the format only stores ` +
            "strings)",
        );
      }
      checkString(file, v, `metadata value of "${k}"`);
      meta.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${meta.join(",")}}`);
  }
  let offset = 0;
  const planned: PlannedTensor[] = [];
  for (const it of items) {
    const n = it.shape.reduce((a, b) => a * b, 1) * dtypeSize(it.dtype);
    parts.push(
      `${JSON.stringify(it.name)}:{"dtype":"${it.format}","shape":[${it.shape.join(",")}],` +
        `"data_offsets":[${offset},${offset + n}]}`,
    );
    planned.push({ ...it, begin: offset, end: offset + n });
    offset += n;
  }
  const json = encoder.encode(`{${parts.join(",")}}`);
  const n = Math.ceil(json.length / 8) * 8;
  if (n > MAX_HEADER) {
    throw new CheckpointError(file, `header of ${n} bytes exceeds the format's ${MAX_HEADER}`);
  }
  const header = new Uint8Array(8 + n).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(n), true);
  header.set(json, 8);
  return { header, tensors: planned, total: header.length + offset };
}

function* chunks(file: string, p: Plan): Generator<Uint8Array> {
  yield p.header;
  for (const t of p.tensors) {
    let bytes: Uint8Array;
    try {
      bytes = t.tensor.bytes();
    } catch (e) {
      throw new CheckpointError(file, `tensor "${t.name}": ${(e as Error).message}`, { cause: e });
    }
    if (bytes.byteLength !== t.end - t.begin) {
      throw new CheckpointError(
        file,
        `tensor "${t.name}" gave ${bytes.byteLength} bytes, expected ${t.end - t.begin} ` +
          "(changed while saving?)",
      );
    }
    yield bytes;
  }
}

/**
 * The safetensors bytes of some tensors (any device; copied to the host), with optional
 * string metadata.
 */
export function encodeSafetensors(
  tensors: TensorDict,
  metadata?: Record<string, string>,
): Uint8Array {
  const p = plan("<bytes>", tensors, metadata);
  const out = new Uint8Array(p.total);
  let at = 0;
  for (const c of chunks("<bytes>", p)) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Saves tensors (and optional string metadata) to a safetensors file. The write is atomic:
 * the data goes to a temporary file in the same folder, is flushed to disk and renamed over
 * `path`, so a failure leaves any previous file intact.
 */
export function saveSafetensors(
  path: string | URL,
  tensors: TensorDict,
  metadata?: Record<string, string>,
): void {
  const name = path instanceof URL ? path.pathname : path;
  const p = plan(name, tensors, metadata);
  writeFileAtomic(path, chunks(name, p));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readHeader(src: ByteSource): SafetensorsHeader {
  const { json, length } = headerJson(src);
  const file = src.name;
  const metadata: [string, string][] = [];
  const hasMetadata = Object.hasOwn(json, "__metadata__");
  if (hasMetadata) {
    const m = json.__metadata__;
    if (!isObject(m)) throw new CheckpointError(file, "__metadata__ is not an object");
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== "string") {
        throw new CheckpointError(file, `__metadata__ value of "${k}" is not a string`);
      }
      metadata.push([k, v]);
    }
  }
  const dataSize = src.size - 8 - length;
  const entries = Object.entries(json)
    .filter(([name]) => name !== "__metadata__")
    .map(([name, info]): [string, SafetensorsEntry] => [
      name,
      headerEntry(file, name, info, dataSize),
    ]);
  entries.sort((a, b) =>
    a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]
  );
  checkCoverage(file, entries, dataSize);
  return {
    tensors: new Map(entries),
    metadata: Object.fromEntries(metadata),
    hasMetadata,
    headerLength: length,
  };
}

/** The header's length and JSON object, checked against the file's size and the format. */
function headerJson(src: ByteSource): { json: Record<string, unknown>; length: number } {
  const file = src.name;
  if (src.size < 8) {
    throw new CheckpointError(
      file,
      `only ${src.size} bytes: too short for a safetensors file (8-byte header length first)`,
    );
  }
  const n64 = new DataView(src.read(0, 8, "header length").slice().buffer).getBigUint64(0, true);
  if (n64 > BigInt(src.size - 8)) {
    throw new CheckpointError(
      file,
      `header length ${n64} exceeds the ${src.size - 8} bytes after it (truncated file, or not ` +
        "a safetensors file)",
    );
  }
  const n = Number(n64);
  if (n > MAX_HEADER) {
    throw new CheckpointError(file, `header length ${n} exceeds the format's limit ${MAX_HEADER}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(src.read(8, n, "header"));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(file, "header is not valid UTF-8", { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `header is not valid JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!isObject(json)) throw new CheckpointError(file, "header JSON is not an object");
  return { json, length: n };
}

/** One tensor's header entry, checked: a known dtype, its shape's bytes, offsets in the data. */
function headerEntry(
  file: string,
  name: string,
  info: unknown,
  dataSize: number,
): SafetensorsEntry {
  const bad = (problem: string) => new CheckpointError(file, `tensor "${name}": ${problem}`);
  if (!isObject(info)) throw bad("entry is not an object");
  const format = info.dtype;
  if (typeof format !== "string") throw bad("dtype is missing or not a string");
  const dtype = FROM_FORMAT.get(format);
  if (!dtype) {
    if (UNSUPPORTED_FORMATS.has(format)) {
      throw bad(`dtype ${format} is valid safetensors but not supported by hlgm`);
    }
    throw bad(`unknown dtype ${JSON.stringify(format)}`);
  }
  const shape = info.shape;
  if (
    !Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && (s as number) >= 0)
  ) {
    throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const offs = info.data_offsets;
  if (
    !Array.isArray(offs) || offs.length !== 2 ||
    !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    throw bad(`data_offsets ${JSON.stringify(offs)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
  let need = BigInt(dtypeSize(dtype));
  for (const s of shape as number[]) need *= BigInt(s);
  if (need !== BigInt(end - begin)) {
    throw bad(
      `shape [${shape.join(", ")}] of ${format} needs ${need} bytes but data_offsets ` +
        `[${begin}, ${end}] span ${end - begin}`,
    );
  }
  if (end > dataSize) {
    throw bad(
      `data_offsets [${begin}, ${end}] lie beyond the ${dataSize} data bytes of the file ` +
        "(truncated file?)",
    );
  }
  return { dtype, format, shape: shape as number[], dataOffsets: [begin, end] };
}

/**
 * The tensors' bytes (entries in offset order) tile the data buffer: no overlap, no gap, nothing
 * after the last.
 */
function checkCoverage(
  file: string,
  entries: [string, SafetensorsEntry][],
  dataSize: number,
): void {
  let at = 0;
  let prev = "";
  for (const [name, e] of entries) {
    const [begin, end] = e.dataOffsets;
    if (begin < at) {
      throw new CheckpointError(
        file,
        `tensor "${name}" (bytes ${begin}..${end}) overlaps tensor "${prev}" (ends at ${at})`,
      );
    }
    if (begin > at) {
      throw new CheckpointError(
        file,
        `bytes ${at}..${begin} of the data buffer belong to no tensor (before "${name}"); ` +
          "offsets must be contiguous",
      );
    }
    at = end;
    prev = name;
  }
  if (at !== dataSize) {
    throw new CheckpointError(
      file,
      `the tensors cover ${at} data bytes but the file has ${dataSize} after the header ` +
        "(trailing bytes)",
    );
  }
}

function loadFrom(src: ByteSource, options: SafetensorsLoadOptions): SafetensorsContents {
  const header = readHeader(src);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, e] of header.tensors) {
      const [begin, end] = e.dataOffsets;
      const bytes = src.read(8 + header.headerLength + begin, end - begin, `tensor "${name}"`);
      tensors.set(name, fromBytes(bytes, e.dtype, e.shape, { device: options.device }));
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(src.name, (e as Error).message, { cause: e });
  }
  return { tensors, metadata: header.metadata };
}

/** Reads and validates only the header of a safetensors file (or bytes). */
export function readSafetensorsHeader(source: CheckpointSource): SafetensorsHeader {
  const src = openSource(source);
  try {
    return readHeader(src);
  } finally {
    src.close();
  }
}

/**
 * Loads a safetensors file: every tensor (onto `device`) and the metadata. The whole file is
 * validated before any tensor is created; problems throw a CheckpointError naming the file.
 */
export function loadSafetensors(
  path: string | URL,
  options: SafetensorsLoadOptions = {},
): SafetensorsContents {
  const src = openSource(path);
  try {
    return loadFrom(src, options);
  } finally {
    src.close();
  }
}

/** Decodes safetensors bytes (as `loadSafetensors`, from memory). */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: SafetensorsLoadOptions = {},
): SafetensorsContents {
  return loadFrom(openSource(bytes), options);
}
