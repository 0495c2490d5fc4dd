/**
 * Grids for looking at a dataset (`hlgm data show`): chosen images as tiles of the one panel
 * grid (panel_grid.ts), each with its label under it and its object box outlined.
 *
 * @module
 */

import { imageBytes, type ImageDataset } from "../data/dataset.ts";
import { GRID_GAP, renderPanelGrid } from "./panel_grid.ts";
import type { RgbImage } from "./raster.ts";

export { BACKGROUND, BOX_COLOR, TEXT_COLOR } from "./raster.ts";
export type { RgbImage };

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

/** Image `index` of a dataset as RGB bytes (grey images replicated over the channels). */
function datasetImage(ds: ImageDataset, index: number): RgbImage {
  const plane = ds.height * ds.width;
  const base = index * imageBytes(ds);
  const data = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      data[p * 3 + c] = ds.images[base + (ds.channels >= 3 ? c : 0) * plane + p];
    }
  }
  return { width: ds.width, height: ds.height, data };
}

/** The label text of image `i`: "<label> <class name>". */
function labelText(ds: ImageDataset, i: number): string {
  const label = ds.labels[i];
  return `${label} ${ds.classes[label] ?? "?"}`;
}

/** The box of image `i`, when the dataset has boxes. */
function datasetBox(ds: ImageDataset, i: number): Float32Array | undefined {
  return ds.boxes ? ds.boxes.subarray(i * 4, i * 4 + 4) : undefined;
}

/**
 * Renders the images at `indices` as a grid: each tile is the image upscaled by `scale`
 * (grey images as grey RGB), its box outlined, and its label under it. Returns the image and
 * where each tile went.
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
  for (const index of indices) {
    if (!(Number.isInteger(index) && index >= 0 && index < ds.n)) {
      throw new RangeError(`renderGrid: index ${index} outside 0..${ds.n - 1}`);
    }
  }
  const rows = Array.from(
    { length: Math.ceil(indices.length / columns) },
    (_, r) =>
      indices.slice(r * columns, (r + 1) * columns).map((index) => {
        const box = options.boxes === false ? undefined : datasetBox(ds, index);
        return {
          image: datasetImage(ds, index),
          boxes: box ? [box] : undefined,
          caption: options.labels === false ? undefined : labelText(ds, index),
        };
      }),
  );
  const { image, layout } = renderPanelGrid(rows, ds.width, ds.height, {
    scale,
    captions: options.labels !== false,
  });
  const tiles = layout.cells.flatMap((row, r) =>
    row.map((cell, c) => ({ ...cell!, index: indices[r * columns + c] }))
  );
  return {
    image,
    layout: {
      tiles,
      scale,
      gap: GRID_GAP,
      labelHeight: layout.labelHeight,
      boxThickness: layout.boxThickness,
    },
  };
}
