/**
 * The saliency figure (the paper's Fig. 6), one pipeline for `hlgm saliency` and the report:
 * per test image a row with the image and, for each run, Captum's heat_map, blended_heat_map
 * and masked_image panels (the map normalised as in colormap.ts, the top-x% pixels as SIB
 * counts them), the object's box on every panel, the true label under the image and each run's
 * caption (prediction, SIB) under its heat map in green when right, red when wrong.
 *
 * @module
 */

import { sibCount } from "../metrics/sib.ts";
import { type Colormap, colormap, DEFAULT_COLORMAP, normalizeAttribution } from "./colormap.ts";
import { type Panel, type PanelGridLayout, panelGridSize, renderPanelGrid } from "./panel_grid.ts";
import { type RgbImage, RIGHT_COLOR, WRONG_COLOR } from "./raster.ts";

/** The panels a run can show after the image, as Captum names the modes. */
const SALIENCY_PANELS = ["heat_map", "blended_heat_map", "masked_image"] as const;

/** A panel mode. */
export type SaliencyPanelMode = typeof SALIENCY_PANELS[number];

/** One test image of the figure. */
export interface FigureImage {
  /** Pixels as floats in [0, 1], (C, H, W) with C = 1 or 3 (what the model saw, unnormalised). */
  image: Float32Array;
  /** Channels of `image`. */
  channels: number;
  /** Object boxes [x0, y0, x1, y1] in pixels (x1, y1 exclusive). */
  boxes?: readonly ArrayLike<number>[];
  /** Text under the image (the index and the true class). */
  label: string;
}

/** One run's maps of the figure's images. */
export interface FigureRun {
  /** Run name, written above its columns when the figure shows several runs. */
  name: string;
  /** Saliency per pixel for each image, (H, W), any scale (absolute values are shown). */
  maps: readonly ArrayLike<number>[];
  /** Text under the heat map of each image, coloured by `right` (true green, false red). */
  captions?: readonly { text: string; right?: boolean }[];
}

/** Options of {@link renderSaliencyFigure}. */
export interface SaliencyFigureOptions {
  /** x of the top-x% panel (default 10). */
  percent?: number;
  /** Whole-pixel upscaling (default {@link defaultScale}). */
  scale?: number;
  /** Heat-map colours (default "blues", Captum's). */
  colormap?: Colormap;
  /** Which panels each run shows (default all three). */
  panels?: readonly SaliencyPanelMode[];
  /** Column titles (default true). */
  titles?: boolean;
}

/** Default upscaling: the smallest whole factor making panels at least 128 pixels. */
export function defaultScale(width: number, height: number): number {
  return Math.max(1, Math.ceil(128 / Math.max(width, height)));
}

function panelsOf(options: SaliencyFigureOptions): readonly SaliencyPanelMode[] {
  const panels = options.panels ?? SALIENCY_PANELS;
  const bad = panels.find((p) => !SALIENCY_PANELS.includes(p));
  if (bad !== undefined || panels.length === 0) {
    throw new RangeError(`panels must be some of ${SALIENCY_PANELS.join(", ")}, got ${panels}`);
  }
  return panels;
}

/** The figure's pixel size for `rows` images and `runs` runs. */
export function saliencyFigureSize(
  rows: number,
  runs: number,
  width: number,
  height: number,
  options: SaliencyFigureOptions = {},
): { width: number; height: number } {
  const columns = 1 + runs * panelsOf(options).length;
  const titleLines = options.titles === false ? 0 : runs > 1 ? 2 : 1;
  const { width: w, height: h } = panelGridSize(rows, columns, width, height, {
    scale: options.scale ?? defaultScale(width, height),
    titles: Array.from({ length: columns }, () => Array(titleLines).fill("")),
  });
  return { width: w, height: h };
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

const TITLES: Record<SaliencyPanelMode, string> = {
  heat_map: "heat map",
  blended_heat_map: "blended",
  masked_image: "top x%",
};

function toRgb(img: FigureImage, width: number, height: number): RgbImage {
  const px = width * height;
  if (img.image.length !== img.channels * px) {
    throw new RangeError(
      `image "${img.label}": ${img.image.length} values for ${img.channels}x${width}x${height}`,
    );
  }
  const data = new Uint8Array(px * 3);
  for (let i = 0; i < px; i++) {
    for (let c = 0; c < 3; c++) {
      const v = img.image[(img.channels === 1 ? 0 : c) * px + i];
      data[i * 3 + c] = Math.round(255 * Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0)));
    }
  }
  return { width, height, data };
}

function modePanel(
  mode: SaliencyPanelMode,
  orig: RgbImage,
  map: ArrayLike<number>,
  percent: number,
  cmap: Colormap,
): RgbImage {
  const px = orig.width * orig.height;
  const data = new Uint8Array(px * 3);
  const heat = mode === "masked_image" ? null : normalizeAttribution(map);
  const mask = mode === "masked_image"
    ? topMask(Float64Array.from(map, (v) => (Number.isFinite(v) ? Math.abs(v) : 0)), percent)
    : null;
  for (let i = 0; i < px; i++) {
    const o = orig.data.subarray(i * 3, i * 3 + 3);
    let rgb: number[];
    if (mode === "heat_map") {
      rgb = colormap(heat![i], cmap);
    } else if (mode === "blended_heat_map") {
      // Captum: the heat map at alpha 0.5 over the grey image
      const grey = Math.round((o[0] + o[1] + o[2]) / 3);
      rgb = colormap(heat![i], cmap).map((c) => Math.round(0.5 * c + 0.5 * grey));
    } else {
      rgb = mask![i]
        ? Array.from(o, (c, k) => Math.round(0.5 * c + 0.5 * [255, 220, 0][k]))
        : Array.from(o, (c) => Math.round(0.25 * c));
    }
    data.set(rgb, i * 3);
  }
  return { width: orig.width, height: orig.height, data };
}

/**
 * Renders the figure: one row per image, columns image then each run's panels. Every run must
 * have a map of `width` x `height` values per image.
 */
export function renderSaliencyFigure(
  images: readonly FigureImage[],
  runs: readonly FigureRun[],
  width: number,
  height: number,
  options: SaliencyFigureOptions = {},
): { image: RgbImage; layout: PanelGridLayout } {
  if (images.length === 0) throw new RangeError("a saliency figure needs at least one image");
  if (runs.length === 0) throw new RangeError("a saliency figure needs at least one run");
  const percent = options.percent ?? 10;
  const cmap = options.colormap ?? DEFAULT_COLORMAP;
  const modes = panelsOf(options);
  const px = width * height;
  for (const r of runs) {
    if (r.maps.length !== images.length) {
      throw new RangeError(`${r.name}: ${r.maps.length} maps for ${images.length} images`);
    }
    const bad = r.maps.findIndex((m) => m.length !== px);
    if (bad >= 0) {
      throw new RangeError(
        `${r.name}, image ${bad}: map of ${r.maps[bad].length} values for ${width}x${height}`,
      );
    }
  }
  const rows = images.map((img, i): Panel[] => {
    const orig = toRgb(img, width, height);
    const row: Panel[] = [{ image: orig, boxes: img.boxes, caption: img.label }];
    for (const r of runs) {
      modes.forEach((mode, k) => {
        const caption = k === 0 ? r.captions?.[i] : undefined;
        row.push({
          image: modePanel(mode, orig, r.maps[i], percent, cmap),
          boxes: img.boxes,
          caption: caption?.text,
          captionColor: caption?.right === undefined
            ? undefined
            : caption.right
            ? RIGHT_COLOR
            : WRONG_COLOR,
        });
      });
    }
    return row;
  });
  const title = (m: SaliencyPanelMode) => m === "masked_image" ? `top ${percent} pct` : TITLES[m];
  const titles = options.titles === false ? undefined : [
    runs.length > 1 ? ["", "image"] : "image",
    ...runs.flatMap((r) => modes.map((m) => (runs.length > 1 ? [r.name, title(m)] : title(m)))),
  ];
  return renderPanelGrid(rows, width, height, {
    scale: options.scale ?? defaultScale(width, height),
    titles,
  });
}
