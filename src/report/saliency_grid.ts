/**
 * Saliency grids as in the paper's Fig. 6: for fixed test images, the image, the saliency map
 * of the true label as a heat map, and the map laid over the image, for one run or several
 * runs side by side (one image row, then a heat-map row and an overlay row per run).
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import { DataLoader } from "../data/loader.ts";
import { type AttributionChoice, evalTransforms, pixelSaliencyFn } from "../runs/sib.ts";
import { noGrad } from "../tensor/autograd.ts";
import { tidy } from "../tensor/engine.ts";
import type { LoadedRun } from "../train/load_run.ts";
import {
  type Colormap,
  datasetImage,
  drawBox,
  type GridRow,
  heatmapImage,
  imageGridSvg,
  normalizeSaliency,
  overlayImage,
  resampleMap,
  upscale,
} from "./images.ts";

/** One image's saliency under one run. */
export interface SaliencyPanel {
  /** Index in the split. */
  index: number;
  /** True class. */
  label: number;
  /** Predicted class. */
  predicted: number;
  /** Saliency scaled to [0, 1] for display, at the stored image's size. */
  heat: Float32Array;
}

/**
 * Saliency maps of the true label (default: Saliency, |grad| averaged over channels) and the
 * predictions of `run` for the images `indices` of `ds`.
 */
export function saliencyPanels(
  run: LoadedRun,
  ds: ImageDataset,
  indices: readonly number[],
  choice: AttributionChoice = {},
): SaliencyPanel[] {
  const transforms = evalTransforms(run.info, ds, run.path);
  const device = run.model.parameters()[0].device;
  using loader = new DataLoader(ds, {
    batchSize: indices.length,
    shuffle: false,
    device,
    transforms,
  });
  const saliencyOf = pixelSaliencyFn(run.model, run.info.config.model, choice);
  const { maps, preds, labels, h, w } = tidy(() => {
    const b = loader.batchOf(indices);
    const s = saliencyOf(b.x, b.y);
    const p = noGrad(() => run.model.forward(b.x).argmax(1));
    return {
      maps: Float32Array.from(s.to({ device: "cpu", dtype: "float32" }).data() as Float32Array),
      preds: Array.from(p.to({ device: "cpu" }).data() as BigInt64Array, Number),
      labels: Array.from(b.y.to({ device: "cpu" }).data() as BigInt64Array, Number),
      h: s.shape[1],
      w: s.shape[2],
    };
  });
  return indices.map((index, i) => {
    const raw = maps.subarray(i * h * w, (i + 1) * h * w);
    const map = h === ds.height && w === ds.width
      ? raw
      : resampleMap(raw, h, w, ds.height, ds.width);
    return { index, label: labels[i], predicted: preds[i], heat: normalizeSaliency(map) };
  });
}

/** Options of {@link saliencyGridSvg}. */
export interface SaliencyGridOptions {
  /** Title. */
  title?: string;
  /** Heat map colours (default "hot": high saliency yellow-white). */
  colormap?: Colormap;
  /** Whole-pixel upscaling (default: tiles of about 112 px). */
  scale?: number;
}

/** A class name cut to `max` characters. */
function short(name: string | undefined, max = 14): string {
  const s = name ?? "?";
  return s.length > max ? `${s.slice(0, max - 1)}.` : s;
}

/**
 * The grid: a row of the images (with their boxes), then per run a heat-map row captioned with
 * the prediction and an overlay row. All runs must have panels for the same images of `ds`.
 */
export function saliencyGridSvg(
  ds: ImageDataset,
  runs: readonly { label: string; panels: readonly SaliencyPanel[] }[],
  options: SaliencyGridOptions = {},
): string {
  const map = options.colormap ?? "hot";
  const scale = options.scale ?? Math.max(1, Math.round(112 / Math.max(ds.height, ds.width)));
  const first = runs[0]?.panels ?? [];
  const boxOf = (i: number) => (ds.boxes ? Array.from(ds.boxes.subarray(i * 4, i * 4 + 4)) : null);
  const tile = (
    i: number,
    f: (img: ReturnType<typeof datasetImage>) => ReturnType<typeof datasetImage>,
  ) => {
    const img = datasetImage(ds.images, i, ds.channels, ds.height, ds.width);
    const big = upscale(f(img), scale);
    const box = boxOf(i);
    return box ? drawBox(big, box, scale) : big;
  };
  const rows: GridRow[] = [
    { label: "image", images: first.map((p) => tile(p.index, (x) => x)) },
  ];
  for (const r of runs) {
    if (r.panels.length !== first.length || r.panels.some((p, i) => p.index !== first[i].index)) {
      throw new RangeError(`saliency grid: ${r.label} has panels for other images`);
    }
    const prefix = runs.length > 1 ? `${r.label}: ` : "";
    rows.push({
      label: `${prefix}saliency`,
      images: r.panels.map((p) => upscale(heatmapImage(p.heat, ds.width, ds.height, map), scale)),
      captions: r.panels.map((p) => `pred ${short(ds.classes[p.predicted])}`),
      captionColors: r.panels.map((p) => (p.predicted === p.label ? "#1a7f37" : "#cf222e")),
    });
    rows.push({
      label: `${prefix}overlay`,
      images: r.panels.map((p) => tile(p.index, (img) => overlayImage(img, p.heat, map))),
    });
  }
  return imageGridSvg(rows, {
    title: options.title,
    columnLabels: first.map((p) => `#${p.index} ${short(ds.classes[p.label])}`),
    footnote:
      `saliency of the true label (|gradient|, channel mean), scaled to its 99th percentile; colour map ${map}` +
      (ds.boxes ? "; boxes: the object" : "") + "; green/red: prediction right/wrong",
  });
}
