/**
 * Drawing on RGB images: filled rectangles, box outlines, text in the pixel font (font.ts),
 * whole-pixel upscaling, and the colours every raster figure shares (background, text, boxes).
 *
 * @module
 */

import { glyph, GLYPH_H, GLYPH_W } from "./font.ts";
import type { RgbImage } from "./png.ts";

export type { RgbImage };

/** An RGB colour, bytes. */
export type Rgb = readonly [number, number, number];

/** Colour of box outlines (the object's box, on every panel). */
export const BOX_COLOR: Rgb = [255, 40, 40];
/** Colour of text. */
export const TEXT_COLOR: Rgb = [255, 255, 255];
/** Colour of the background between panels. */
export const BACKGROUND: Rgb = [40, 40, 40];
/** Caption colour of a right prediction. */
export const RIGHT_COLOR: Rgb = [80, 220, 100];
/** Caption colour of a wrong prediction. */
export const WRONG_COLOR: Rgb = [255, 110, 110];

/** A new image filled with `color`. */
export function blankImage(width: number, height: number, color: Rgb = BACKGROUND): RgbImage {
  const image: RgbImage = { width, height, data: new Uint8Array(width * height * 3) };
  fillRect(image, 0, 0, width, height, color);
  return image;
}

/** Fills the rectangle at (x0, y0) of w x h pixels, clipped to the image. */
function fillRect(
  img: RgbImage,
  x0: number,
  y0: number,
  w: number,
  h: number,
  color: Rgb,
): void {
  const xa = Math.max(0, x0), ya = Math.max(0, y0);
  const xb = Math.min(img.width, x0 + w), yb = Math.min(img.height, y0 + h);
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) img.data.set(color, (y * img.width + x) * 3);
  }
}

/** The outline of [x0, x1) x [y0, y1) with `t` pixels inside the rectangle. */
function outlineRect(
  img: RgbImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  t: number,
  color: Rgb,
): void {
  fillRect(img, x0, y0, x1 - x0, t, color);
  fillRect(img, x0, y1 - t, x1 - x0, t, color);
  fillRect(img, x0, y0, t, y1 - y0, color);
  fillRect(img, x1 - t, y0, t, y1 - y0, color);
}

/** Pixels of text in the font: 6 per character (a glyph and a space). */
export function textWidth(text: string): number {
  return text.length * (GLYPH_W + 1) - (text.length ? 1 : 0);
}

/** Draws `text` with its top-left at (x, y), clipped to `maxWidth` pixels (ends with '.'). */
export function drawText(
  img: RgbImage,
  text: string,
  x: number,
  y: number,
  maxWidth: number,
  color: Rgb = TEXT_COLOR,
): void {
  const fit = Math.floor((maxWidth + 1) / (GLYPH_W + 1));
  const shown = text.length > fit ? text.slice(0, Math.max(0, fit - 1)) + "." : text;
  for (let i = 0; i < shown.length; i++) {
    const rows = glyph(shown[i]);
    for (let r = 0; r < GLYPH_H; r++) {
      for (let c = 0; c < GLYPH_W; c++) {
        if (rows[r][c] === "#") fillRect(img, x + i * (GLYPH_W + 1) + c, y + r, 1, 1, color);
      }
    }
  }
}

/** Box outline thickness at an upscaling: 2 pixels from scale 3 on, else 1. */
export function boxThickness(scale: number): number {
  return scale >= 3 ? 2 : 1;
}

/**
 * Outlines a box [x0, y0, x1, y1] (pixels of the unscaled image, x1/y1 exclusive) on a panel
 * drawn at (left, top) with `scale`; boxes that are not finite or are empty are skipped.
 */
export function drawBox(
  img: RgbImage,
  box: ArrayLike<number>,
  panel: { left: number; top: number; width: number; height: number; scale: number },
): void {
  const [x0, y0, x1, y1] = [box[0], box[1], box[2], box[3]];
  if (![x0, y0, x1, y1].every(Number.isFinite) || !(x1 > x0 && y1 > y0)) return;
  const { left, top, width, height, scale } = panel;
  const cx = (v: number) => Math.max(0, Math.min(width, Math.round(v * scale)));
  const cy = (v: number) => Math.max(0, Math.min(height, Math.round(v * scale)));
  outlineRect(
    img,
    left + cx(x0),
    top + cy(y0),
    left + cx(x1),
    top + cy(y1),
    boxThickness(scale),
    BOX_COLOR,
  );
}

/** Copies `src` into `dst` at (x, y), each source pixel as a scale x scale block. */
export function blitScaled(
  dst: RgbImage,
  src: RgbImage,
  x: number,
  y: number,
  scale: number,
): void {
  for (let r = 0; r < src.height * scale; r++) {
    const dy = y + r;
    if (dy < 0 || dy >= dst.height) continue;
    const sr = Math.floor(r / scale);
    for (let c = 0; c < src.width * scale; c++) {
      const dx = x + c;
      if (dx < 0 || dx >= dst.width) continue;
      const s = (sr * src.width + Math.floor(c / scale)) * 3;
      const o = (dy * dst.width + dx) * 3;
      dst.data[o] = src.data[s];
      dst.data[o + 1] = src.data[s + 1];
      dst.data[o + 2] = src.data[s + 2];
    }
  }
}
