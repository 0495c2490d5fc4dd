/**
 * Byte helpers shared by the file formats (PNG, ZIP, tar, TensorBoard events): concatenation,
 * CRC-32 and CRC-32C.
 *
 * @module
 */

import * as zlib from "node:zlib";

/** The parts joined into one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The lookup table of a reflected CRC-32 polynomial. */
function crcTable(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function crcWith(table: Uint32Array, bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

let CRC_TABLE: Uint32Array | undefined;
let CRC32C_TABLE: Uint32Array | undefined;

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE 802.3, as PNG, ZIP and gzip use): node:zlib's when there is one (40x faster). */
export function crc32(bytes: Uint8Array): number {
  if (typeof nativeCrc32 === "function") return nativeCrc32(bytes) >>> 0;
  return crc32js(bytes);
}

/** CRC-32 computed in JS with a lookup table. */
export function crc32js(bytes: Uint8Array): number {
  return crcWith(CRC_TABLE ??= crcTable(0xedb88320), bytes);
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord files frame records. */
export function crc32c(bytes: Uint8Array): number {
  return crcWith(CRC32C_TABLE ??= crcTable(0x82f63b78), bytes);
}
