/**
 * RGB images and the one PNG writer (8-bit truecolour, zlib-compressed) every figure uses.
 *
 * @module
 */

import { deflateSync } from "node:zlib";
import { concatBytes, crc32 } from "../util/bytes.ts";

/** An RGB image, 3 bytes per pixel, row-major. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** width * height * 3 bytes. */
  data: Uint8Array;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes an RGB image as PNG (8-bit truecolour, no filtering, zlib-compressed). */
export function encodePng(img: RgbImage): Uint8Array {
  const { width, height, data } = img;
  if (data.length !== width * height * 3) {
    throw new RangeError(`encodePng: ${data.length} bytes for ${width}x${height} RGB`);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // depth 8, truecolour, deflate, adaptive filters, no interlace
  const raw = new Uint8Array(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    raw.set(data.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  return concatBytes(parts);
}
