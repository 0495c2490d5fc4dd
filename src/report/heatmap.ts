/**
 * Saliency pictures in the manner of Captum's visualize_image_attr, for one map per image:
 * the image, the heat map (sign "absolute_value": |attribution| scaled by the value at which
 * the sorted cumulative sum reaches 98% of the total, clipped to [0, 1], colour map "Blues"),
 * the blended heat map (the heat map at alpha 0.5 over the grey image) and the top-x% mask
 * (the x% most salient pixels, as counted by SIB, over the dimmed image), each with the
 * object's box. Rendered as an RGB grid, one row per image, and encoded with the grids' PNG
 * writer.
 *
 * @module
 */

import { BACKGROUND, BOX_COLOR, drawText, type RgbImage } from "./dataset_grid.ts";
import { sibCount } from "../metrics/sib.ts";

/** matplotlib's "Blues" (the 9 anchors of its segmented map), from 0 to 1. */
const BLUES: readonly (readonly [number, number, number])[] = [
  [247, 251, 255],
  [222, 235, 247],
  [198, 219, 239],
  [158, 202, 225],
  [107, 174, 214],
  [66, 146, 198],
  [33, 113, 181],
  [8, 81, 156],
  [8, 48, 107],
];

/** Colour of a value in [0, 1] in the "Blues" map (linear between anchors). */
export function blues(v: number): [number, number, number] {
  const t = Math.max(0, Math.min(1, Number.isNaN(v) ? 0 : v)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(t));
  const f = t - i;
  const [a, b] = [BLUES[i], BLUES[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as [number, number, number];
}

/**
 * Captum's _normalize_attr for sign "absolute_value": |a| divided by the value at which the
 * ascending cumulative sum first reaches (100 - outlierPerc)% of the total, clipped to [0, 1].
 * An all-zero map stays zero.
 */
export function normalizeAttribution(map: ArrayLike<number>, outlierPerc = 2): Float32Array {
  const abs = Float32Array.from(map, (v) => Math.abs(v));
  const sorted = Float64Array.from(abs).sort();
  let total = 0;
  for (const v of sorted) total += v;
  const target = total * 0.01 * (100 - outlierPerc);
  let threshold = sorted[sorted.length - 1] ?? 0;
  let cum = 0;
  for (const v of sorted) {
    cum += v;
    if (cum >= target) {
      threshold = v;
      break;
    }
  }
  if (!(threshold > 0)) return new Float32Array(abs.length);
  return abs.map((v) => Math.min(1, v / threshold));
}

/**
 * 1 for the x% most salient pixels (count max(1, round(x% of the pixels)), ties to the lower
 * index, exactly as SIB counts them), else 0.
 */
export function topMask(map: ArrayLike<number>, percent: number): Uint8Array {
  const count = sibCount(percent, map.length);
  const order = Array.from({ length: map.length }, (_, i) => i).sort((a, b) =>
    map[b] - map[a] || a - b
  );
  const mask = new Uint8Array(map.length);
  for (let i = 0; i < count; i++) mask[order[i]] = 1;
  return mask;
}

/** One row of the grid. */
export interface SaliencyRow {
  /** The image as floats in [0, 1], (C, H, W) with C = 1 or 3. */
  image: Float32Array;
  /** Channels of `image`. */
  channels: number;
  /** Saliency per pixel, (H, W), any scale (absolute values are shown). */
  map: ArrayLike<number>;
  /** Object boxes [x0, y0, x1, y1] in pixels (x1, y1 exclusive). */
  boxes?: readonly (readonly [number, number, number, number])[];
  /** Text under the row (upper-cased by the pixel font). */
  label?: string;
}

/** Where things went in a saliency grid. */
export interface SaliencyGridLayout {
  /** Whole-pixel upscaling of every panel. */
  scale: number;
  /** Panel side in pixels (image size x scale). */
  tile: number;
  /** Pixels between panels and around the grid. */
  gap: number;
  /** Height of the header band (panel titles). */
  header: number;
  /** Height of the text band under each row. */
  labelHeight: number;
  /** Top-left corner of every panel: panels[row][column]. */
  panels: { x: number; y: number }[][];
  /** Box outline thickness. */
  boxThickness: number;
}

/** Panel order, as Captum names the modes. */
export const SALIENCY_PANELS = ["original_image", "heat_map", "blended_heat_map", "masked_image"];

const GAP = 4;
const TEXT_BAND = 11;

/** Sizes of a grid of `rows` rows of `width` x `height` images at `scale`. */
export function saliencyGridSize(
  rows: number,
  width: number,
  height: number,
  scale: number,
): { width: number; height: number } {
  return {
    width: GAP + SALIENCY_PANELS.length * (width * scale + GAP),
    height: GAP + TEXT_BAND + rows * (height * scale + TEXT_BAND + GAP),
  };
}

/** Default upscaling: the smallest whole factor making panels at least 128 pixels. */
export function defaultScale(width: number, height: number): number {
  return Math.max(1, Math.ceil(128 / Math.max(width, height)));
}

function put(img: RgbImage, x: number, y: number, c: readonly number[]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = (y * img.width + x) * 3;
  img.data[o] = c[0];
  img.data[o + 1] = c[1];
  img.data[o + 2] = c[2];
}

/**
 * Renders rows of (image, heat map, blended heat map, top-`percent`% mask), every panel
 * `scale` times the image size, the boxes outlined in the grids' box colour.
 */
export function renderSaliencyGrid(
  rows: readonly SaliencyRow[],
  width: number,
  height: number,
  options: { percent?: number; scale?: number; titles?: boolean } = {},
): { image: RgbImage; layout: SaliencyGridLayout } {
  if (rows.length === 0) throw new RangeError("renderSaliencyGrid: no rows");
  const percent = options.percent ?? 10;
  const scale = options.scale ?? defaultScale(width, height);
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`scale must be a positive integer, got ${scale}`);
  }
  const size = saliencyGridSize(rows.length, width, height, scale);
  const img: RgbImage = {
    width: size.width,
    height: size.height,
    data: new Uint8Array(size.width * size.height * 3),
  };
  for (let p = 0; p < img.width * img.height; p++) img.data.set(BACKGROUND, p * 3);
  const tw = width * scale, th = height * scale;
  const px = width * height;
  const titles = ["image", "heat map", "blended", `top ${percent} pct`];
  if (options.titles ?? true) {
    titles.forEach((t, k) => drawText(img, t, GAP + k * (tw + GAP), GAP + 1, tw));
  }
  const thickness = scale >= 3 ? 2 : 1;
  const panels: { x: number; y: number }[][] = [];
  rows.forEach((row, r) => {
    if (row.image.length !== row.channels * px || row.map.length !== px) {
      throw new RangeError(
        `row ${r}: image of ${row.image.length} values and map of ${row.map.length} for ${width}x${height}`,
      );
    }
    const y0 = GAP + TEXT_BAND + r * (th + TEXT_BAND + GAP);
    const xs = SALIENCY_PANELS.map((_, k) => GAP + k * (tw + GAP));
    panels.push(xs.map((x) => ({ x, y: y0 })));
    const heat = normalizeAttribution(row.map);
    const mask = topMask(Float64Array.from(row.map, Math.abs), percent);
    for (let i = 0; i < px; i++) {
      const rgb = row.channels === 1
        ? [row.image[i], row.image[i], row.image[i]]
        : [row.image[i], row.image[i + px], row.image[i + 2 * px]];
      const orig = rgb.map((v) => Math.round(255 * Math.max(0, Math.min(1, v))));
      const grey = Math.round((orig[0] + orig[1] + orig[2]) / 3);
      const h = blues(heat[i]);
      const blended = h.map((c) => Math.round(0.5 * c + 0.5 * grey));
      const masked = mask[i]
        ? orig.map((c, k) => Math.round(0.5 * c + 0.5 * [255, 220, 0][k]))
        : orig.map((c) => Math.round(0.25 * c));
      const colours = [orig, h, blended, masked];
      const iy = Math.floor(i / width), ix = i % width;
      for (let k = 0; k < 4; k++) {
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            put(img, xs[k] + ix * scale + dx, y0 + iy * scale + dy, colours[k]);
          }
        }
      }
    }
    for (const [bx0, by0, bx1, by1] of row.boxes ?? []) {
      if (![bx0, by0, bx1, by1].every(Number.isFinite) || !(bx1 > bx0 && by1 > by0)) continue;
      const cx = (v: number) => Math.max(0, Math.min(tw, Math.round(v * scale)));
      const cy = (v: number) => Math.max(0, Math.min(th, Math.round(v * scale)));
      for (const x of xs) {
        const [a, b, c, d] = [x + cx(bx0), y0 + cy(by0), x + cx(bx1), y0 + cy(by1)];
        for (let t = 0; t < thickness; t++) {
          for (let u = a; u < c; u++) {
            put(img, u, b + t, BOX_COLOR);
            put(img, u, d - 1 - t, BOX_COLOR);
          }
          for (let v = b; v < d; v++) {
            put(img, a + t, v, BOX_COLOR);
            put(img, c - 1 - t, v, BOX_COLOR);
          }
        }
      }
    }
    if (row.label) drawText(img, row.label, GAP, y0 + th + 2, img.width - 2 * GAP);
  });
  return {
    image: img,
    layout: {
      scale,
      tile: tw,
      gap: GAP,
      header: TEXT_BAND,
      labelHeight: TEXT_BAND,
      panels,
      boxThickness: thickness,
    },
  };
}
