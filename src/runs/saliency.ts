/**
 * The saliency figure of runs (the paper's Fig. 6), computed here and drawn by
 * report/saliency_figure.ts: for chosen test images, each run's saliency of the true label
 * (the attribution registry's method and defaults), its prediction, and SIB(x) where the image
 * has a box. Used by `hlgm saliency` and by the report.
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import { DataLoader } from "../data/loader.ts";
import { sib } from "../metrics/sib.ts";
import type { Colormap } from "../report/colormap.ts";
import { encodePng } from "../report/png.ts";
import {
  type FigureImage,
  type FigureRun,
  renderSaliencyFigure,
  type SaliencyPanelMode,
} from "../report/saliency_figure.ts";
import { noGrad } from "../tensor/autograd.ts";
import { manualSeed, tensor } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import type { LoadedRun } from "../train/load_run.ts";
import { withRunNormalization } from "../train/normalization.ts";
import { type AttributionChoice, pixelSaliencyFn, runTransforms } from "./sib.ts";

/** One image's saliency under one run. */
export interface ImageSaliency {
  /** Index in the split. */
  index: number;
  /** True class. */
  label: number;
  /** Predicted class. */
  predicted: number;
  /** SIB(percent) of the map, or null when the image has no box. */
  sib: number | null;
  /** Saliency per pixel at the model's input size (H, W), unnormalised. */
  map: Float32Array;
}

/** The images as the model saw them, for drawing. */
export interface ShownImages {
  /** (C, H, W) floats in [0, 1] per image (the eval transforms applied, normalisation undone). */
  images: Float32Array[];
  /** Boxes in pixels of the shown image, or undefined where the image has none. */
  boxes: (Float32Array | undefined)[];
  /** Channels, height, width. */
  shape: [number, number, number];
}

/** Options of {@link saliencyOfRun}. */
export interface RunSaliencyOptions extends AttributionChoice {
  /** x of SIB(x) per image (default 10). */
  percent?: number;
  /** Seed of SmoothGrad's noise (default 0). */
  seed?: number;
}

const hasBox = (b: ArrayLike<number> | undefined) => !!b && b[2] > b[0] && b[3] > b[1];

/**
 * The saliency of the true label, prediction and SIB of `run` for the images `indices` of `ds`,
 * and the images as the model saw them.
 */
export function saliencyOfRun(
  run: LoadedRun,
  ds: ImageDataset,
  indices: readonly number[],
  options: RunSaliencyOptions = {},
): { maps: ImageSaliency[]; shown: ShownImages } {
  const percent = options.percent ?? 10;
  const transforms = runTransforms(run.info, ds, run.path);
  const device = run.model.parameters()[0].device;
  const seen = withRunNormalization(run.info.config, ds); // normalised as the run was trained
  using loader = new DataLoader(seen, {
    batchSize: indices.length,
    shuffle: false,
    device,
    transforms,
  });
  const saliencyOf = pixelSaliencyFn(run.model, run.info.config.model, options);
  manualSeed(options.seed ?? 0);
  const r = tidy(() => {
    const b = loader.batchOf(indices);
    const maps = saliencyOf(b.x, b.y);
    const pred = noGrad(() => run.model.forward(b.x).argmax(1));
    const boxes = b.boxes ? (b.boxes.to("cpu").data() as Float32Array) : undefined;
    const withBox = indices.flatMap((
      _,
      i,
    ) => (hasBox(boxes?.subarray(i * 4, i * 4 + 4)) ? [i] : []));
    const sibs: (number | null)[] = indices.map(() => null);
    if (b.boxes && withBox.length) {
      const sel = tensor(Int32Array.from(withBox), { dtype: "int64", device });
      const values = sib(maps.indexSelect(0, sel), b.boxes.indexSelect(0, sel), [percent])[0];
      withBox.forEach((i, k) => (sibs[i] = values[k]));
    }
    // back to [0, 1] pixels for display
    const stat = (v: readonly number[]) => tensor([...v], { shape: [1, v.length, 1, 1], device });
    const shown = (transforms.normalize ?? true)
      ? b.x.mul(stat(seen.std)).add(stat(seen.mean))
      : b.x;
    return {
      images: shown.to({ device: "cpu", dtype: "float32" }).data() as Float32Array,
      maps: maps.to({ device: "cpu", dtype: "float32" }).data() as Float32Array,
      boxes,
      pred: Array.from(pred.to("cpu").data() as BigInt64Array, Number),
      labels: Array.from(b.y.to("cpu").data() as BigInt64Array, Number),
      sibs,
      shape: [b.x.shape[1], b.x.shape[2], b.x.shape[3]] as [number, number, number],
    };
  });
  const [c, h, w] = r.shape;
  return {
    maps: indices.map((index, i) => ({
      index,
      label: r.labels[i],
      predicted: r.pred[i],
      sib: r.sibs[i],
      map: r.maps.slice(i * h * w, (i + 1) * h * w),
    })),
    shown: {
      images: indices.map((_, i) => r.images.slice(i * c * h * w, (i + 1) * c * h * w)),
      boxes: indices.map((_, i) => {
        const box = r.boxes?.slice(i * 4, i * 4 + 4);
        return hasBox(box) ? box : undefined;
      }),
      shape: r.shape,
    },
  };
}

/** Options of {@link saliencyFigure}. */
export interface SaliencyFigureOptions extends RunSaliencyOptions {
  /** Heat-map colours (default blues). */
  colormap?: Colormap;
  /** Whole-pixel upscaling (default: panels of at least 128 pixels). */
  scale?: number;
  /** Panels per run (default heat map, blended, top x%). */
  panels?: readonly SaliencyPanelMode[];
}

/** The figure of one or more runs, as PNG bytes, and one text line per image. */
export interface SaliencyFigure {
  /** The PNG. */
  png: Uint8Array;
  /** Pixel size. */
  width: number;
  /** Pixel size. */
  height: number;
  /** Per image: "#index class -> prediction [SIB(x) v]" (one run) or one such part per run. */
  lines: string[];
  /** Per run, per image. */
  maps: ImageSaliency[][];
}

/** One run's saliency of the figure's images (what {@link saliencyOfRun} returns). */
export type RunSaliency = ReturnType<typeof saliencyOfRun>;

/**
 * The saliency figure of `runs` (named by `names`) for the images `indices` of `ds`: computed
 * per run ({@link saliencyOfRun}) and drawn ({@link drawSaliencyFigure}).
 */
export function saliencyFigure(
  runs: readonly LoadedRun[],
  names: readonly string[],
  ds: ImageDataset,
  indices: readonly number[],
  options: SaliencyFigureOptions = {},
): SaliencyFigure {
  const results = runs.map((run) => saliencyOfRun(run, ds, indices, options));
  return drawSaliencyFigure(results, names, ds.classes, options);
}

/**
 * Draws runs' saliency of the same images as one figure (report/saliency_figure.ts), encoded
 * as PNG, with one text line per image. The first run's images and boxes are shown.
 */
export function drawSaliencyFigure(
  results: readonly RunSaliency[],
  names: readonly string[],
  classes: readonly string[],
  options: SaliencyFigureOptions = {},
): SaliencyFigure {
  const percent = options.percent ?? 10;
  const { shown } = results[0];
  const indices = results[0].maps.map((m) => m.index);
  const cls = (k: number) => classes[k] ?? String(k);
  const sibText = (m: ImageSaliency) =>
    m.sib === null ? "" : ` SIB(${percent}) ${m.sib.toFixed(2)}`;
  const images: FigureImage[] = indices.map((index, i) => ({
    image: shown.images[i],
    channels: shown.shape[0],
    boxes: shown.boxes[i] ? [shown.boxes[i]!] : undefined,
    label: `#${index} ${cls(results[0].maps[i].label)}`,
  }));
  const figureRuns: FigureRun[] = results.map((r, k) => ({
    name: names[k],
    maps: r.maps.map((m) => m.map),
    captions: r.maps.map((m) => ({
      text: `pred ${cls(m.predicted)}${sibText(m)}`,
      right: m.predicted === m.label,
    })),
  }));
  const { image } = renderSaliencyFigure(images, figureRuns, shown.shape[2], shown.shape[1], {
    percent,
    scale: options.scale,
    colormap: options.colormap,
    panels: options.panels,
  });
  const lines = indices.map((index, i) => {
    const parts = results.map((r, k) => {
      const m = r.maps[i];
      return `${results.length > 1 ? `${names[k]}: ` : ""}${cls(m.predicted)}${sibText(m)}`;
    });
    return `#${index} ${cls(results[0].maps[i].label)} -> ${parts.join(", ")}`;
  });
  return {
    png: encodePng(image),
    width: image.width,
    height: image.height,
    lines,
    maps: results.map((r) => r.maps),
  };
}
