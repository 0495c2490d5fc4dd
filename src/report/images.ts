/**
 * Pixels for saliency figures (the paper's Fig. 6): images from dataset bytes, saliency maps
 * as heat maps (matplotlib's "hot" or "viridis"), blends of the two, box outlines, whole-pixel
 * upscaling, PNG encoding (png.ts), and a grid of such tiles as an SVG with the PNGs embedded
 * and titles as text, which {@link svgToPng} turns into one PNG.
 *
 * @module
 */

import { encodePng, pngDataUrl, type RgbImage } from "./png.ts";

export { encodePng, pngDataUrl, type RgbImage };
import { esc, n2, svgDocument, textWidth } from "./svg.ts";

/** Colour maps for heat maps. */
export type Colormap = "hot" | "viridis";

// viridis at 0, 1/8, ..., 1 (matplotlib's table), interpolated linearly in between
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The colour of v in [0, 1] (clamped) under a colour map, as [r, g, b] bytes. */
export function colormap(v: number, map: Colormap = "hot"): [number, number, number] {
  const x = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
  if (map === "viridis") {
    const p = x * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(p));
    const t = p - i;
    const a = VIRIDIS[i];
    const b = VIRIDIS[i + 1];
    return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * t)) as [number, number, number];
  }
  // matplotlib "hot": black -> red -> yellow -> white
  const clip = (u: number) => Math.round(255 * Math.min(1, Math.max(0, u)));
  return [clip((8 / 3) * x), clip((8 / 3) * x - 1), clip(4 * x - 3)];
}

/** Image `index` of a (N, C, H, W) uint8 array as RGB (grey images are replicated). */
export function datasetImage(
  images: Uint8Array,
  index: number,
  channels: number,
  height: number,
  width: number,
): RgbImage {
  const px = height * width;
  const base = index * channels * px;
  const data = new Uint8Array(px * 3);
  for (let p = 0; p < px; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = images[base + (channels >= 3 ? c : 0) * px + p];
  }
  return { width, height, data };
}

/**
 * Saliency values scaled to [0, 1] for display: divided by the map's 99th percentile and
 * clipped (a few extreme pixels would otherwise leave the rest black); all zeros stay zero.
 */
export function normalizeSaliency(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  const finite = Array.from(values, (v) => (Number.isFinite(v) ? Math.abs(v) : 0));
  const sorted = [...finite].sort((a, b) => a - b);
  let top = sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]
    : 0;
  if (!(top > 0)) top = sorted.length ? sorted[sorted.length - 1] : 0;
  if (!(top > 0)) return out;
  for (let i = 0; i < finite.length; i++) out[i] = Math.min(1, finite[i] / top);
  return out;
}

/** Nearest-neighbour resampling of a (h, w) map to (height, width). */
export function resampleMap(
  map: ArrayLike<number>,
  h: number,
  w: number,
  height: number,
  width: number,
): Float32Array {
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / width));
      out[y * width + x] = map[sy * w + sx];
    }
  }
  return out;
}

/** A heat map of values in [0, 1] (see {@link normalizeSaliency}). */
export function heatmapImage(
  values: ArrayLike<number>,
  width: number,
  height: number,
  map: Colormap = "hot",
): RgbImage {
  if (values.length !== width * height) {
    throw new RangeError(
      `heat map of ${width}x${height} needs ${width * height} values, got ${values.length}`,
    );
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(colormap(values[i], map), i * 3);
  return { width, height, data };
}

/**
 * The image in grey with the heat map laid over it, each pixel's opacity growing with its
 * saliency (0.75 * v), so salient regions show in colour on the object.
 */
export function overlayImage(
  image: RgbImage,
  values: ArrayLike<number>,
  map: Colormap = "hot",
): RgbImage {
  const { width, height } = image;
  if (values.length !== width * height) {
    throw new RangeError(
      `overlay of ${width}x${height} needs ${width * height} values, got ${values.length}`,
    );
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const d = image.data;
    const grey = 0.299 * d[i * 3] + 0.587 * d[i * 3 + 1] + 0.114 * d[i * 3 + 2];
    const v = Math.min(1, Math.max(0, values[i]));
    const a = 0.75 * v;
    const c = colormap(v, map);
    for (let k = 0; k < 3; k++) data[i * 3 + k] = Math.round(grey * (1 - a) + c[k] * a);
  }
  return { width, height, data };
}

/** Each pixel becomes a scale x scale block. */
export function upscale(image: RgbImage, scale: number): RgbImage {
  if (scale === 1) return image;
  const width = image.width * scale;
  const height = image.height * scale;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < width; x++) {
      const s = (sy * image.width + Math.floor(x / scale)) * 3;
      data.set(image.data.subarray(s, s + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/**
 * Draws a box outline [x0, y0, x1, y1] (pixels of the unscaled image, x1/y1 exclusive) on a copy
 * of an image that was upscaled by `scale`.
 */
export function drawBox(
  image: RgbImage,
  box: readonly number[],
  scale = 1,
  color: readonly [number, number, number] = [0, 200, 255],
): RgbImage {
  const [bx0, by0, bx1, by1] = box;
  if (![bx0, by0, bx1, by1].every(Number.isFinite)) return image;
  const out = { ...image, data: image.data.slice() };
  const clampX = (v: number) => Math.min(image.width - 1, Math.max(0, Math.round(v)));
  const clampY = (v: number) => Math.min(image.height - 1, Math.max(0, Math.round(v)));
  const x0 = clampX(bx0 * scale);
  const x1 = clampX(bx1 * scale - 1);
  const y0 = clampY(by0 * scale);
  const y1 = clampY(by1 * scale - 1);
  const put = (x: number, y: number) => out.data.set(color, (y * image.width + x) * 3);
  for (let x = x0; x <= x1; x++) {
    put(x, y0);
    put(x, y1);
  }
  for (let y = y0; y <= y1; y++) {
    put(x0, y);
    put(x1, y);
  }
  return out;
}

/** A row of the image grid. */
export interface GridRow {
  /** Title at the left of the row. */
  label: string;
  /** The tiles, left to right (any size; each is drawn at its own size). */
  images: readonly RgbImage[];
  /** A caption under each tile. */
  captions?: readonly string[];
  /** Colour of each caption (default dark grey). */
  captionColors?: readonly string[];
}

/** Options of {@link imageGridSvg}. */
export interface ImageGridOptions {
  /** Title on top. */
  title?: string;
  /** One caption per column, above the first row. */
  columnLabels?: readonly string[];
  /** A note under the grid. */
  footnote?: string;
}

/**
 * Tiles in rows with row titles at the left and column captions on top, as an SVG with every
 * tile embedded as a PNG data URL (`<image class="tile">`). Tiles are drawn at their own size,
 * so upscale them first ({@link upscale}) for pixel-exact blocks in every renderer.
 */
export function imageGridSvg(rows: readonly GridRow[], options: ImageGridOptions = {}): string {
  const gap = 6;
  const columns = Math.max(0, ...rows.map((r) => r.images.length));
  const colW = Array.from(
    { length: columns },
    (_, c) => Math.max(0, ...rows.map((r) => r.images[c]?.width ?? 0)),
  );
  const captionH = 14;
  const imgH = rows.map((r) => Math.max(0, ...r.images.map((im) => im.height)));
  const rowH = rows.map((r, i) => imgH[i] + (r.captions ? captionH : 0));
  const labelW = Math.ceil(Math.max(40, ...rows.map((r) => textWidth(r.label, 12)))) + 12;
  const top = (options.title ? 34 : 8) + (options.columnLabels ? 18 : 0);
  const width = labelW + colW.reduce((a, b) => a + b + gap, 0) + gap;
  const height = top + rowH.reduce((a, b) => a + b + gap, 0) + (options.footnote ? 22 : 4);
  const body: string[] = [];
  const colX = colW.map((_, c) => labelW + gap + colW.slice(0, c).reduce((a, b) => a + b + gap, 0));
  if (options.columnLabels) {
    options.columnLabels.forEach((t, c) => {
      if (c >= columns) return;
      body.push(
        `<text class="column-label" x="${n2(colX[c] + colW[c] / 2)}" y="${
          n2(top - 6)
        }" text-anchor="middle" font-size="11">${esc(t)}</text>`,
      );
    });
  }
  let y = top;
  rows.forEach((r, i) => {
    body.push(
      `<text class="row-label" x="${n2(labelW - 4)}" y="${
        n2(y + imgH[i] / 2 + 4)
      }" text-anchor="end" font-size="12">${esc(r.label)}</text>`,
    );
    r.images.forEach((im, c) => {
      body.push(
        `<image class="tile" x="${n2(colX[c])}" y="${
          n2(y)
        }" width="${im.width}" height="${im.height}" href="${pngDataUrl(im)}"/>`,
      );
      const caption = r.captions?.[c];
      if (caption !== undefined) {
        body.push(
          `<text class="caption" x="${n2(colX[c] + colW[c] / 2)}" y="${
            n2(y + imgH[i] + captionH - 3)
          }" text-anchor="middle" font-size="10" fill="${esc(r.captionColors?.[c] ?? "#333333")}">${
            esc(caption)
          }</text>`,
        );
      }
    });
    y += rowH[i] + gap;
  });
  if (options.footnote) {
    body.push(
      `<text class="footnote" x="${gap}" y="${n2(height - 8)}" font-size="10" fill="#555555">${
        esc(options.footnote)
      }</text>`,
    );
  }
  return svgDocument(Math.ceil(width), Math.ceil(height), body.join(""), options.title);
}
