/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (raw or gzipped), validating the
 * magic number, dimensions and length as it reads.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";

/** An unsigned-byte IDX array. */
export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28]. */
  shape: number[];
  /** The elements, row-major. */
  data: Uint8Array;
}

/** Parses IDX bytes (gzip is detected by its magic); `file` names the source in errors. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      const out = gunzipSync(bytes); // a view of it, not a copy (47 MB for Fashion-MNIST's train)
      bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw new Error(`${file}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) {
    throw new Error(`${file}: too short for an IDX header (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = (magic >> 8) & 0xff;
  const ndim = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08) {
    throw new Error(
      `${file}: not an unsigned-byte IDX file (magic 0x${magic.toString(16).padStart(8, "0")}, ` +
        "expected 0x00000801 or 0x00000803)",
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (ndim === 0 || bytes.length < headerBytes) {
    throw new Error(`${file}: truncated IDX header (${ndim} dims, ${bytes.length} bytes)`);
  }
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const got = bytes.length - headerBytes;
  if (got !== expected) {
    throw new Error(
      `${file}: IDX payload has ${got} bytes, header [${shape.join(", ")}] needs ${expected}` +
        (got < expected ? " (file truncated)" : ""),
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

/** Reads and validates one IDX file. */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
  return parseIdx(bytes, file);
}

/** Encodes an unsigned-byte IDX file (for tests and generated datasets). */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | shape.length, false);
  shape.forEach((s, i) => view.setUint32(4 + 4 * i, s, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
