/**
 * The one raster grid every picture of images is drawn with (`hlgm data show`, `hlgm saliency`,
 * the report's saliency figures): panels of equal size upscaled by whole pixels, column titles
 * on top, a caption under each panel, the object's box outlined on every panel of its row, all
 * text in the pixel font, encoded by png.ts.
 *
 * @module
 */

import { checkMemory } from "../util/memory.ts";
import { GLYPH_H } from "./font.ts";
import {
  BACKGROUND,
  blankImage,
  blitScaled,
  boxThickness,
  drawBox,
  drawText,
  type Rgb,
  type RgbImage,
  TEXT_COLOR,
} from "./raster.ts";

/** One panel: an image at the grid's panel size, and what is written and drawn on it. */
export interface Panel {
  /** The pixels, width x height of the grid (before upscaling). */
  image: RgbImage;
  /** Boxes [x0, y0, x1, y1] in image pixels (x1, y1 exclusive) to outline. */
  boxes?: readonly ArrayLike<number>[];
  /** Text under the panel; it may run on under the next panels while they have none. */
  caption?: string;
  /** Colour of the caption (default white). */
  captionColor?: Rgb;
}

/** Options of {@link renderPanelGrid}. */
export interface PanelGridOptions {
  /** Whole-pixel upscaling of every panel. */
  scale: number;
  /** Column titles, one or more lines each; no header band without them. */
  titles?: readonly (string | readonly string[])[];
  /** Leave a caption band under each row (default true). */
  captions?: boolean;
}

/** Where things went, for callers that annotate further (and tests). */
export interface PanelGridLayout {
  /** The upscaling. */
  scale: number;
  /** Panel size in pixels after upscaling. */
  tile: { width: number; height: number };
  /** Pixels between panels and around the grid. */
  gap: number;
  /** Height of the title band on top (0 without titles). */
  header: number;
  /** Height of the caption band under each row (0 without captions). */
  labelHeight: number;
  /** Outline thickness of boxes. */
  boxThickness: number;
  /** Top-left corner of each panel: cells[row][column] (null where the row has no panel). */
  cells: ({ x: number; y: number } | null)[][];
}

/** Pixels between panels and around the grid. */
export const GRID_GAP = 4;
const LINE = GLYPH_H + 2;

function titleLines(options: PanelGridOptions): number {
  return Math.max(0, ...(options.titles ?? []).map((t) => (typeof t === "string" ? 1 : t.length)));
}

/** The size of a grid of `rows` x `columns` panels of width x height at the options' scale. */
export function panelGridSize(
  rows: number,
  columns: number,
  width: number,
  height: number,
  options: PanelGridOptions,
): { width: number; height: number; header: number; labelHeight: number } {
  const lines = titleLines(options);
  const header = lines ? lines * LINE + 2 : 0;
  const labelHeight = options.captions === false ? 0 : GLYPH_H + 4;
  return {
    width: GRID_GAP + columns * (width * options.scale + GRID_GAP),
    height: GRID_GAP + header + rows * (height * options.scale + labelHeight + GRID_GAP),
    header,
    labelHeight,
  };
}

/** Renders rows of panels (all `width` x `height`), see the module notes. */
export function renderPanelGrid(
  rows: readonly (readonly (Panel | null)[])[],
  width: number,
  height: number,
  options: PanelGridOptions,
): { image: RgbImage; layout: PanelGridLayout } {
  const { scale } = options;
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`scale must be a positive integer, got ${scale}`);
  }
  if (rows.length === 0) throw new RangeError("a grid needs at least one row of panels");
  const columns = Math.max(options.titles?.length ?? 0, ...rows.map((r) => r.length));
  const size = panelGridSize(rows.length, columns, width, height, options);
  // the raster and the PNG's filtered rows, before anything is allocated
  checkMemory(
    2 * 3 * size.width * size.height,
    `a ${size.width}x${size.height} picture (${rows.length} x ${columns} panels of ` +
      `${width}x${height} pixels at scale ${scale})`,
  );
  const image = blankImage(size.width, size.height, BACKGROUND);
  const tw = width * scale, th = height * scale;
  const colX = (c: number) => GRID_GAP + c * (tw + GRID_GAP);
  (options.titles ?? []).forEach((t, c) => {
    const lines = typeof t === "string" ? [t] : t;
    lines.forEach((line, l) => drawText(image, line, colX(c), GRID_GAP + 1 + l * LINE, tw));
  });
  const cells = rows.map((row, r) => {
    const y = GRID_GAP + size.header + r * (th + size.labelHeight + GRID_GAP);
    return row.map((panel, c) => {
      if (!panel) return null;
      if (panel.image.width !== width || panel.image.height !== height) {
        throw new RangeError(
          `row ${r}, panel ${c}: ${panel.image.width}x${panel.image.height} pixels in a grid of ${width}x${height} panels`,
        );
      }
      const x = colX(c);
      blitScaled(image, panel.image, x, y, scale);
      for (const box of panel.boxes ?? []) {
        drawBox(image, box, { left: x, top: y, width: tw, height: th, scale });
      }
      if (panel.caption && size.labelHeight > 0) {
        let end = c + 1; // the caption may run on under caption-less panels
        while (end < columns && !row[end]?.caption) end++;
        const room = colX(end) - GRID_GAP - x;
        drawText(image, panel.caption, x, y + th + 2, room, panel.captionColor ?? TEXT_COLOR);
      }
      return { x, y };
    });
  });
  return {
    image,
    layout: {
      scale,
      tile: { width: tw, height: th },
      gap: GRID_GAP,
      header: size.header,
      labelHeight: size.labelHeight,
      boxThickness: boxThickness(scale),
      cells,
    },
  };
}
