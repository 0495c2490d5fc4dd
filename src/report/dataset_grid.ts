/**
 * Image grids for looking at a dataset: tiles of chosen images (scaled up by whole pixels),
 * each with its label written underneath in a built-in 5x7 pixel font and its object box drawn
 * as a rectangle (`hlgm data show`); png.ts encodes it.
 *
 * @module
 */

import { imageBytes, type ImageDataset } from "../data/dataset.ts";
import type { RgbImage } from "./png.ts";

export type { RgbImage };

/** Colour of box outlines. */
export const BOX_COLOR: readonly [number, number, number] = [255, 40, 40];
/** Colour of the label text. */
export const TEXT_COLOR: readonly [number, number, number] = [255, 255, 255];
/** Colour of the background between tiles. */
export const BACKGROUND: readonly [number, number, number] = [40, 40, 40];

/** Options of {@link renderGrid}. */
export interface GridOptions {
  /** Tiles per row (default ceil(sqrt(count))). */
  columns?: number;
  /** Whole-pixel upscaling of each image (default: the smallest making tiles >= 96 px). */
  scale?: number;
  /** Write the labels under the tiles (default true). */
  labels?: boolean;
  /** Draw the boxes where the dataset has them (default true). */
  boxes?: boolean;
}

/** Where each tile went, for callers that annotate further (and tests). */
export interface GridLayout {
  /** Top-left pixel of each tile's image, in grid order. */
  tiles: { x: number; y: number; index: number }[];
  /** The upscaling used. */
  scale: number;
  /** Pixels between tiles (and around the grid). */
  gap: number;
  /** Height of the label band under each tile. */
  labelHeight: number;
  /** Box outline thickness in pixels. */
  boxThickness: number;
}

const GAP = 4;
const GLYPH_W = 5;
const GLYPH_H = 7;

// 5x7 glyphs, rows top to bottom, '#' = ink; lower case is drawn as upper case
const FONT_ROWS: Record<string, string> = {
  "A": ".###. #...# #...# ##### #...# #...# #...#",
  "B": "####. #...# #...# ####. #...# #...# ####.",
  "C": ".###. #...# #.... #.... #.... #...# .###.",
  "D": "####. #...# #...# #...# #...# #...# ####.",
  "E": "##### #.... #.... ####. #.... #.... #####",
  "F": "##### #.... #.... ####. #.... #.... #....",
  "G": ".###. #...# #.... #.### #...# #...# .####",
  "H": "#...# #...# #...# ##### #...# #...# #...#",
  "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
  "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  "L": "#.... #.... #.... #.... #.... #.... #####",
  "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
  "O": ".###. #...# #...# #...# #...# #...# .###.",
  "P": "####. #...# #...# ####. #.... #.... #....",
  "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
  "R": "####. #...# #...# ####. #.#.. #..#. #...#",
  "S": ".#### #.... #.... .###. ....# ....# ####.",
  "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  "U": "#...# #...# #...# #...# #...# #...# .###.",
  "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
  "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  "Z": "##### ....# ...#. ..#.. .#... #.... #####",
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  " ": "..... ..... ..... ..... ..... ..... .....",
  "-": "..... ..... ..... ##### ..... ..... .....",
  "/": "..... ....# ...#. ..#.. .#... #.... .....",
  "_": "..... ..... ..... ..... ..... ..... #####",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  "'": "..#.. ..#.. .#... ..... ..... ..... .....",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
};

/** The glyph rows of a character ('?' for one the font lacks). */
export function glyph(ch: string): string[] {
  return (FONT_ROWS[ch.toUpperCase()] ?? FONT_ROWS["?"]).split(" ");
}

/** Characters the font draws (besides lower case, drawn as upper case). */
export const FONT_CHARS: string = Object.keys(FONT_ROWS).join("");

function fill(
  img: RgbImage,
  x0: number,
  y0: number,
  w: number,
  h: number,
  color: readonly number[],
): void {
  const xa = Math.max(0, x0), ya = Math.max(0, y0);
  const xb = Math.min(img.width, x0 + w), yb = Math.min(img.height, y0 + h);
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const o = (y * img.width + x) * 3;
      img.data[o] = color[0];
      img.data[o + 1] = color[1];
      img.data[o + 2] = color[2];
    }
  }
}

/** Draws `text` with its top-left at (x, y), clipped to `maxWidth` pixels (ends with '.'). */
export function drawText(
  img: RgbImage,
  text: string,
  x: number,
  y: number,
  maxWidth: number,
  color: readonly number[] = TEXT_COLOR,
): void {
  const fit = Math.floor((maxWidth + 1) / (GLYPH_W + 1));
  const shown = text.length > fit ? text.slice(0, Math.max(0, fit - 1)) + "." : text;
  for (let i = 0; i < shown.length; i++) {
    const rows = glyph(shown[i]);
    for (let r = 0; r < GLYPH_H; r++) {
      for (let c = 0; c < GLYPH_W; c++) {
        if (rows[r][c] === "#") fill(img, x + i * (GLYPH_W + 1) + c, y + r, 1, 1, color);
      }
    }
  }
}

/** The outline of [x0, y0, x1, y1) with `t` pixels inside the rectangle. */
function outline(
  img: RgbImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  t: number,
  color: readonly number[],
): void {
  fill(img, x0, y0, x1 - x0, t, color);
  fill(img, x0, y1 - t, x1 - x0, t, color);
  fill(img, x0, y0, t, y1 - y0, color);
  fill(img, x1 - t, y0, t, y1 - y0, color);
}

/** The label text of image `i`: "<label> <class name>". */
export function labelText(ds: ImageDataset, i: number): string {
  const label = ds.labels[i];
  return `${label} ${ds.classes[label] ?? "?"}`;
}

/**
 * Renders the images at `indices` as a grid: each tile is the image upscaled by `scale`
 * (grey images as grey RGB), its box (x0, y0, x1, y1 in image pixels, scaled) outlined in
 * {@link BOX_COLOR}, and its label under it. Returns the image and where each tile went.
 */
export function renderGrid(
  ds: ImageDataset,
  indices: readonly number[],
  options: GridOptions = {},
): { image: RgbImage; layout: GridLayout } {
  if (indices.length === 0) throw new RangeError("renderGrid: no images to show");
  if (ds.channels !== 1 && ds.channels !== 3) {
    throw new RangeError(`renderGrid: ${ds.channels} channels (expected 1 or 3)`);
  }
  const scale = options.scale ?? Math.max(1, Math.ceil(96 / Math.max(ds.height, ds.width)));
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`renderGrid: scale must be a positive integer, got ${scale}`);
  }
  const columns = Math.min(indices.length, options.columns ?? Math.ceil(Math.sqrt(indices.length)));
  const rows = Math.ceil(indices.length / columns);
  const tw = ds.width * scale, th = ds.height * scale;
  const labelHeight = options.labels === false ? 0 : GLYPH_H + 4;
  const width = GAP + columns * (tw + GAP);
  const height = GAP + rows * (th + labelHeight + GAP);
  const image: RgbImage = { width, height, data: new Uint8Array(width * height * 3) };
  fill(image, 0, 0, width, height, BACKGROUND);
  const px = imageBytes(ds);
  const plane = ds.height * ds.width;
  const thickness = scale >= 3 ? 2 : 1;
  const tiles: GridLayout["tiles"] = [];
  indices.forEach((index, k) => {
    if (!(Number.isInteger(index) && index >= 0 && index < ds.n)) {
      throw new RangeError(`renderGrid: index ${index} outside 0..${ds.n - 1}`);
    }
    const x = GAP + (k % columns) * (tw + GAP);
    const y = GAP + Math.floor(k / columns) * (th + labelHeight + GAP);
    tiles.push({ x, y, index });
    const base = index * px;
    for (let r = 0; r < th; r++) {
      const sr = Math.floor(r / scale);
      let o = ((y + r) * width + x) * 3;
      for (let c = 0; c < tw; c++, o += 3) {
        const s = base + sr * ds.width + Math.floor(c / scale);
        if (ds.channels === 1) {
          image.data[o] = image.data[o + 1] = image.data[o + 2] = ds.images[s];
        } else {
          image.data[o] = ds.images[s];
          image.data[o + 1] = ds.images[s + plane];
          image.data[o + 2] = ds.images[s + 2 * plane];
        }
      }
    }
    if (ds.boxes && options.boxes !== false) {
      const [x0, y0, x1, y1] = ds.boxes.subarray(index * 4, index * 4 + 4);
      if ([x0, y0, x1, y1].every(Number.isFinite) && x1 > x0 && y1 > y0) {
        const clampX = (v: number) => Math.max(0, Math.min(tw, Math.round(v * scale)));
        const clampY = (v: number) => Math.max(0, Math.min(th, Math.round(v * scale)));
        outline(
          image,
          x + clampX(x0),
          y + clampY(y0),
          x + clampX(x1),
          y + clampY(y1),
          thickness,
          BOX_COLOR,
        );
      }
    }
    if (labelHeight > 0) drawText(image, labelText(ds, index), x, y + th + 2, tw);
  });
  return { image, layout: { tiles, scale, gap: GAP, labelHeight, boxThickness: thickness } };
}
