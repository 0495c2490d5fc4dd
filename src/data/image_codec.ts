/**
 * Image decoding and resizing for the dataset readers, in plain TypeScript and WebAssembly
 * (no libtorch, so it runs in worker threads):
 *
 * - JPEG: MozJPEG (libjpeg-turbo) compiled to WebAssembly (`@jsquash/jpeg`), about 4x faster
 *   than pure-JS decoders; CMYK/YCCK JPEGs, which libjpeg cannot turn into RGB, are decoded
 *   by `jpeg-js` instead. A truncated JPEG is an error (as in PIL), not a grey-filled image.
 * - PNG: 8-bit non-interlaced files (the common case, trimaps included) are inflated with
 *   node:zlib and unfiltered here; other bit depths and interlaced files go through
 *   `fast-png`.
 * - GIF: the first frame, through `omggif`.
 *
 * The format is sniffed from the bytes, not the file name. {@link resizeToChw} is PIL's
 * bilinear resize (a triangle filter widened by the scale when shrinking, so it antialiases
 * as torchvision's `Resize` does on PIL images), writing planar RGB.
 *
 * @module
 */

import mozjpegFactory, {
  type MozJPEGModule,
} from "npm:@jsquash/jpeg@1.6.0/codec/dec/mozjpeg_dec.js";
import jpegJs from "npm:jpeg-js@0.4.4";
import { decode as fastPngDecode } from "npm:fast-png@8.0.0";
// @ts-types="npm:@types/omggif@1.0.5"
import { GifReader } from "npm:omggif@1.0.10";
import { inflateSync } from "node:zlib";
import { concatBytes } from "../util/bytes.ts";

/** A decoded image: 8-bit samples, interleaved, 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA). */
export interface RawImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Samples per pixel. */
  channels: 1 | 2 | 3 | 4;
  /** width * height * channels bytes, row-major. */
  data: Uint8Array;
}

/** An image format recognised from its first bytes. */
export type ImageFormat = "jpeg" | "png" | "gif" | "unknown";

/** The format of encoded image bytes, from their signature. */
function sniffImageFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "jpeg";
  }
  if (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e &&
    bytes[3] === 0x47 && bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a &&
    bytes[7] === 0x0a
  ) {
    return "png";
  }
  if (
    bytes.length >= 6 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 &&
    bytes[3] === 0x38
  ) {
    return "gif";
  }
  return "unknown";
}

/** Decodes a JPEG, PNG or GIF (whatever its name says); errors name `file`. */
export async function decodeImage(bytes: Uint8Array, file: string): Promise<RawImage> {
  const format = sniffImageFormat(bytes);
  switch (format) {
    case "jpeg":
      return await decodeJpeg(bytes, file);
    case "png":
      return pngToImage(decodePng(bytes, file), file);
    case "gif":
      return decodeGif(bytes, file);
    default: {
      const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
      throw new Error(
        `${file}: not a JPEG, PNG or GIF image (${bytes.length} bytes, starting ${
          head.join(" ") || "with nothing"
        })`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// JPEG

let mozMessages: string[] = [];
let mozModule: Promise<MozJPEGModule> | null = null;

function mozInit(): Promise<MozJPEGModule> {
  // Keep libjpeg's messages (warnings, errors) instead of printing them.
  const module = mozjpegFactory({
    noInitialRun: true,
    print: (s: string) => mozMessages.push(s),
    printErr: (s: string) => mozMessages.push(s),
  });
  mozModule = module;
  return module;
}

/** Decodes a JPEG to RGBA (alpha 255; grey replicated); errors name `file`. */
async function decodeJpeg(bytes: Uint8Array, file: string): Promise<RawImage> {
  const moz = await (mozModule ?? mozInit());
  // From here on synchronous, so concurrent callers never mix their messages.
  mozMessages = [];
  let decoded: { width: number; height: number; data: ArrayBufferView } | null = null;
  let failure = "";
  try {
    decoded = moz.decode(bytes as Uint8Array<ArrayBuffer>, false);
    if (!decoded) failure = "decoder returned nothing";
  } catch (e) {
    failure = mozMessages.join("; ") || (e as Error).message;
    mozModule = null; // a libjpeg error exits the module: the next call starts a fresh one
  }
  const messages = mozMessages.join("; ");
  if (decoded && /premature end of jpeg file/i.test(messages)) {
    throw new Error(`${file}: truncated JPEG (${messages})`);
  }
  if (decoded) {
    const d = decoded.data;
    return {
      width: decoded.width,
      height: decoded.height,
      channels: 4,
      data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
    };
  }
  // libjpeg cannot convert CMYK/YCCK to RGB: jpeg-js can (and gets a second try at the rest).
  try {
    const d = jpegJs.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxMemoryUsageInMB: 1024,
    });
    return { width: d.width, height: d.height, channels: 4, data: d.data };
  } catch (e) {
    throw new Error(`${file}: cannot decode JPEG (${failure || (e as Error).message})`);
  }
}

// ---------------------------------------------------------------------------------------
// PNG

/** A decoded PNG: 8-bit samples; palette images keep their indices and the palette. */
export interface PngImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Samples per pixel (1 for palette images: the index). */
  channels: 1 | 2 | 3 | 4;
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  /** width * height * channels bytes. */
  data: Uint8Array;
  /** Palette entries as [r, g, b] (colour type 3). */
  palette?: number[][];
}

const PNG_CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Decodes a PNG to 8-bit samples (16-bit ones keep their high byte); errors name `file`. */
export function decodePng(bytes: Uint8Array, file: string): PngImage {
  if (sniffImageFormat(bytes) !== "png") throw new Error(`${file}: not a PNG file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
  let palette: number[][] | undefined;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  while (pos < bytes.length) {
    if (pos + 8 > bytes.length) throw new Error(`${file}: truncated PNG (chunk header at ${pos})`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const start = pos + 8;
    if (start + length + 4 > bytes.length) {
      throw new Error(`${file}: truncated PNG (${type} chunk of ${length} bytes at ${pos})`);
    }
    const data = bytes.subarray(start, start + length);
    if (pos === 8 && type !== "IHDR") throw new Error(`${file}: PNG does not start with IHDR`);
    if (type === "IHDR") {
      if (length !== 13) throw new Error(`${file}: PNG IHDR has ${length} bytes, expected 13`);
      width = view.getUint32(start);
      height = view.getUint32(start + 4);
      depth = data[8];
      colorType = data[9];
      interlace = data[12];
    } else if (type === "PLTE") {
      palette = [];
      for (let i = 0; i + 2 < length; i += 3) palette.push([data[i], data[i + 1], data[i + 2]]);
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "IEND") {
      sawEnd = true;
      break;
    }
    pos = start + length + 4;
  }
  const channels = PNG_CHANNELS[colorType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new Error(`${file}: unsupported PNG colour type ${colorType} / bit depth ${depth}`);
  }
  if (width < 1 || height < 1 || width > 1 << 15 || height > 1 << 15) {
    throw new Error(`${file}: PNG size ${width}x${height} is out of range`);
  }
  if (idat.length === 0) throw new Error(`${file}: PNG has no image data (IDAT)`);
  if (colorType === 3 && !palette) throw new Error(`${file}: palette PNG without a PLTE chunk`);
  if (depth !== 8 || interlace !== 0) return decodePngGeneric(bytes, file, colorType, palette);

  const compressed = idat.length === 1 ? idat[0] : concatBytes(idat);
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(compressed));
  } catch (e) {
    throw new Error(`${file}: corrupt PNG data (${(e as Error).message})`);
  }
  const stride = width * channels;
  const need = height * (stride + 1);
  if (raw.length < need) {
    throw new Error(
      `${file}: truncated PNG data (${raw.length} bytes inflated, ${need} needed${
        sawEnd ? "" : ", no IEND"
      })`,
    );
  }
  const out = new Uint8Array(height * stride);
  unfilter(raw, out, width, height, channels, file);
  return { width, height, channels, colorType, data: out, palette };
}

/** Undoes PNG's per-row filters (8-bit samples, `bpp` bytes per pixel). */
function unfilter(
  raw: Uint8Array,
  out: Uint8Array,
  width: number,
  height: number,
  bpp: number,
  file: string,
): void {
  const stride = width * bpp;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride; // previous output row (y > 0)
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), dst);
        break;
      case 1:
        for (let i = 0; i < stride; i++) {
          out[dst + i] = raw[src + i] + (i >= bpp ? out[dst + i - bpp] : 0);
        }
        break;
      case 2:
        for (let i = 0; i < stride; i++) out[dst + i] = raw[src + i] + (y > 0 ? out[up + i] : 0);
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? out[dst + i - bpp] : 0;
          const b = y > 0 ? out[up + i] : 0;
          out[dst + i] = raw[src + i] + ((a + b) >> 1);
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? out[dst + i - bpp] : 0;
          const b = y > 0 ? out[up + i] : 0;
          const c = i >= bpp && y > 0 ? out[up + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          out[dst + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new Error(`${file}: corrupt PNG data (row ${y} has filter type ${filter})`);
    }
  }
}

/** Other bit depths and interlaced PNGs, through fast-png. */
function decodePngGeneric(
  bytes: Uint8Array,
  file: string,
  colorType: number,
  palette: number[][] | undefined,
): PngImage {
  let png;
  try {
    png = fastPngDecode(bytes);
  } catch (e) {
    throw new Error(`${file}: cannot decode PNG (${(e as Error).message})`);
  }
  const channels = PNG_CHANNELS[colorType];
  const n = png.width * png.height * channels;
  if (png.data.length !== n) {
    throw new Error(`${file}: unsupported PNG layout (bit depth ${png.depth})`);
  }
  const data = new Uint8Array(n);
  const max = (1 << png.depth) - 1;
  for (let i = 0; i < n; i++) {
    const v = png.data[i];
    // indices stay indices; 16-bit keeps the high byte; 1/2/4-bit grey is stretched to 0..255
    data[i] = colorType === 3 ? v : png.depth === 16 ? v >> 8 : Math.round((v * 255) / max);
  }
  return {
    width: png.width,
    height: png.height,
    channels,
    colorType,
    data,
    palette: palette ?? png.palette?.map((c) => [c[0], c[1], c[2]]),
  };
}

/** A PNG as an image: palettes expanded, alpha kept for the caller to drop. */
function pngToImage(png: PngImage, file: string): RawImage {
  if (png.colorType !== 3) {
    return { width: png.width, height: png.height, channels: png.channels, data: png.data };
  }
  const pal = png.palette!;
  const n = png.width * png.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = pal[png.data[i]];
    if (!c) throw new Error(`${file}: palette index ${png.data[i]} outside the PLTE chunk`);
    rgb[i * 3] = c[0];
    rgb[i * 3 + 1] = c[1];
    rgb[i * 3 + 2] = c[2];
  }
  return { width: png.width, height: png.height, channels: 3, data: rgb };
}

// ---------------------------------------------------------------------------------------
// GIF

function decodeGif(bytes: Uint8Array, file: string): RawImage {
  try {
    const reader = new GifReader(bytes);
    const rgba = new Uint8Array(reader.width * reader.height * 4);
    reader.decodeAndBlitFrameRGBA(0, rgba);
    return { width: reader.width, height: reader.height, channels: 4, data: rgba };
  } catch (e) {
    throw new Error(`${file}: cannot decode GIF (${(e as Error).message})`);
  }
}

// ---------------------------------------------------------------------------------------
// Resize

interface Coeffs {
  /** Per output index: first input index and tap count. */
  bounds: Int32Array;
  /** Per output index: `ksize` normalised weights. */
  weights: Float64Array;
  ksize: number;
}

const coeffCache = new Map<string, Coeffs>();

/** PIL's bilinear resampling coefficients (ImagingResample with a triangle filter). */
function coefficients(inSize: number, outSize: number): Coeffs {
  const cacheKey = `${inSize}>${outSize}`;
  const hit = coeffCache.get(cacheKey);
  if (hit) return hit;
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale; // bilinear support 1, widened when shrinking
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < count; x++) {
      const w = Math.max(0, 1 - Math.abs((x + xmin - center + 0.5) / filterscale));
      weights[i * ksize + x] = w;
      total += w;
    }
    if (total > 0) { for (let x = 0; x < count; x++) weights[i * ksize + x] /= total; }
    bounds[i * 2] = xmin;
    bounds[i * 2 + 1] = count;
  }
  const c = { bounds, weights, ksize };
  if (coeffCache.size > 64) coeffCache.clear();
  coeffCache.set(cacheKey, c);
  return c;
}

/** Rounds (the caller added 0.5) and clips to 0..255. */
function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
}

/**
 * Resizes an image to `outW` x `outH` with PIL's bilinear filter (antialiased when
 * shrinking, rounding to 8 bits after each pass as PIL does) and returns planar RGB
 * (3 * outH * outW bytes: R plane, G plane, B plane). Grey is copied to the three planes;
 * alpha is dropped.
 */
export function resizeToChw(img: RawImage, outW: number, outH: number = outW): Uint8Array {
  const { width: inW, height: inH, channels } = img;
  const src = img.data;
  const nc = channels >= 3 ? 3 : 1;
  const hc = coefficients(inW, outW);
  const vc = coefficients(inH, outH);

  // Horizontal pass: inH rows of outW pixels, nc interleaved samples each.
  const tmp = new Uint8Array(inH * outW * nc);
  const hw = hc.weights, hb = hc.bounds, hk = hc.ksize;
  for (let y = 0; y < inH; y++) {
    const row = y * inW * channels;
    let t = y * outW * nc;
    for (let x = 0; x < outW; x++) {
      const count = hb[x * 2 + 1];
      const wo = x * hk;
      let p = row + hb[x * 2] * channels;
      if (nc === 3) {
        let r = 0.5, g = 0.5, b = 0.5;
        for (let k = 0; k < count; k++, p += channels) {
          const w = hw[wo + k];
          r += src[p] * w;
          g += src[p + 1] * w;
          b += src[p + 2] * w;
        }
        tmp[t++] = clip8(r);
        tmp[t++] = clip8(g);
        tmp[t++] = clip8(b);
      } else {
        let v = 0.5;
        for (let k = 0; k < count; k++, p += channels) v += src[p] * hw[wo + k];
        tmp[t++] = clip8(v);
      }
    }
  }

  // Vertical pass into planes.
  const plane = outW * outH;
  const out = new Uint8Array(3 * plane);
  const rowStride = outW * nc;
  const vw = vc.weights, vb = vc.bounds, vk = vc.ksize;
  for (let y = 0; y < outH; y++) {
    const count = vb[y * 2 + 1];
    const wo = y * vk;
    const base = vb[y * 2] * rowStride;
    let o = y * outW;
    for (let x = 0; x < outW; x++, o++) {
      let p = base + x * nc;
      if (nc === 3) {
        let r = 0.5, g = 0.5, b = 0.5;
        for (let k = 0; k < count; k++, p += rowStride) {
          const w = vw[wo + k];
          r += tmp[p] * w;
          g += tmp[p + 1] * w;
          b += tmp[p + 2] * w;
        }
        out[o] = clip8(r);
        out[plane + o] = clip8(g);
        out[2 * plane + o] = clip8(b);
      } else {
        let v = 0.5;
        for (let k = 0; k < count; k++, p += rowStride) v += tmp[p] * vw[wo + k];
        out[o] = clip8(v);
      }
    }
  }
  if (nc === 1) {
    out.copyWithin(plane, 0, plane);
    out.copyWithin(2 * plane, 0, plane);
  }
  return out;
}
