/**
 * `hlgm saliency RUNDIR`: a PNG grid of saliency maps of a run's model for chosen test images
 * (the paper's Fig. 6): per row the image, the heat map, the blended heat map and the top-x%
 * mask (Captum's original_image, heat_map, blended_heat_map and masked_image modes), with the
 * object's box where the dataset has boxes. One line per row on stdout: the image, its label,
 * the prediction and, with boxes, SIB(x).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import {
  checkLayer,
  checkMethod,
  chooseDataset,
  loadSplitFor,
  readRunInfos,
  transformsFor,
} from "./sib.ts";
import { drawIndices, pixelSaliencyFn } from "../../src/runs/sib.ts";
import { encodePng } from "../../src/report/png.ts";
import { DataLoader } from "../../src/data/loader.ts";
import { sib } from "../../src/metrics/sib.ts";
import { renderSaliencyGrid, type SaliencyRow } from "../../src/report/heatmap.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { manualSeed, tensor } from "../../src/tensor/create.ts";
import { tidy } from "../../src/tensor/engine.ts";
import { loadRun } from "../../src/train/load_run.ts";

/** Options of `hlgm saliency`. */
export interface SaliencyCliOptions {
  /** Dataset (default: the run's). */
  dataset?: string;
  /** Dataset root (default: the run's, else the usual places). */
  dataDir?: string;
  /** Comma-separated test indices. */
  indices?: string;
  /** Random test images when no indices are given (default 8). */
  n?: number;
  /** Seed of the random choice and of SmoothGrad's noise (default 0). */
  seed?: number;
  /** Attribution method (default saliency). */
  method?: string;
  /** Grad-CAM layer. */
  layer?: string;
  /** x of the top-x% mask (default 10). */
  percent?: string | number;
  /** PNG file (default saliency.png). */
  out?: string;
  /** Which checkpoint (default best). */
  checkpoint?: "best" | "last";
  /** Device (default auto). */
  device?: string;
  /** Channel reduction (default mean). */
  reduction?: "mean" | "sum" | "max";
  /** Whole-pixel upscaling of the panels (default: panels of at least 128 pixels). */
  scale?: number;
}

/** Parses "--indices 0,1,2" (non-negative integers, no repeats). */
export function parseIndices(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const bad = parts.find((s) => !/^\d+$/.test(s));
  if (bad !== undefined) {
    throw new UsageError(`--indices: "${bad}" is not a non-negative integer (got "${text}")`);
  }
  const values = parts.map(Number);
  if (new Set(values).size !== values.length) {
    throw new UsageError(`--indices: repeated index in "${text}"`);
  }
  return values;
}

/** Writes the grid; returns the PNG path and the rows' descriptions. */
export async function runSaliency(
  runDir: string,
  opts: SaliencyCliOptions = {},
): Promise<{ out: string; rows: string[]; width: number; height: number }> {
  const method = checkMethod(opts.method);
  const percent = Number(opts.percent ?? 10);
  if (!(percent > 0 && percent <= 100)) {
    throw new UsageError(`--percent must be in (0, 100], got "${opts.percent}"`);
  }
  const n = opts.n ?? 8;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--n must be a positive integer`);
  const seed = opts.seed ?? 0;
  const requested = opts.indices !== undefined ? parseIndices(opts.indices) : undefined;
  const [info] = readRunInfos([runDir]);
  checkLayer(method, info.config.model, opts.layer);
  const datasetName = chooseDataset(opts.dataset, [info], false);
  const ds = await loadSplitFor(datasetName, info, opts.dataDir);
  const transforms = transformsFor(runDir, info, ds);
  const indices = requested ?? drawIndices(Array.from({ length: ds.n }, (_, i) => i), n, seed);
  const outside = indices.find((i) => i >= ds.n);
  if (outside !== undefined) {
    throw new UsageError(`--indices: ${outside} is outside the test split (0..${ds.n - 1})`);
  }

  const run = loadRun(runDir, { which: opts.checkpoint ?? "best", device: opts.device });
  const device = run.model.parameters()[0].device;
  const loader = new DataLoader(ds, {
    batchSize: indices.length,
    shuffle: false,
    device,
    transforms,
  });
  let rows: SaliencyRow[];
  let lines: string[];
  let size: [number, number];
  try {
    const saliencyOf = pixelSaliencyFn(run.model, info.config.model, {
      method,
      layer: opts.layer,
      reduction: opts.reduction,
    });
    manualSeed(seed);
    const r = tidy(() => {
      const b = loader.batchOf(indices);
      const maps = saliencyOf(b.x, b.y);
      const pred = noGrad(() => run.model.forward(b.x).argmax(1));
      // SIB(x) of the images that have a box
      const boxes = b.boxes ? (b.boxes.to("cpu").data() as Float32Array) : undefined;
      const withBox = indices.flatMap((_, i) =>
        boxes && boxes[i * 4 + 2] > boxes[i * 4] && boxes[i * 4 + 3] > boxes[i * 4 + 1] ? [i] : []
      );
      const sibs: (number | null)[] = indices.map(() => null);
      if (b.boxes && withBox.length) {
        const sel = tensor(Int32Array.from(withBox), { dtype: "int64", device });
        const values = sib(maps.indexSelect(0, sel), b.boxes.indexSelect(0, sel), [percent])[0];
        withBox.forEach((i, k) => (sibs[i] = values[k]));
      }
      // back to [0, 1] pixels for display
      const stat = (v: readonly number[]) => tensor([...v], { shape: [1, v.length, 1, 1], device });
      const [mean, std] = [stat(ds.mean), stat(ds.std)];
      const shown = (transforms.normalize ?? true) ? b.x.mul(std).add(mean) : b.x;
      return {
        images: shown.to("cpu").data() as Float32Array,
        maps: maps.to({ device: "cpu", dtype: "float32" }).data() as Float32Array,
        boxes,
        pred: Array.from(pred.to("cpu").data() as BigInt64Array, Number),
        labels: Array.from(b.y.to("cpu").data() as BigInt64Array, Number),
        sibs,
        shape: [b.x.shape[1], b.x.shape[2], b.x.shape[3]],
      };
    });
    const [c, h, w] = r.shape;
    size = [w, h];
    rows = [];
    lines = [];
    indices.forEach((index, i) => {
      const box = r.boxes?.slice(i * 4, i * 4 + 4);
      const cls = (k: number) => info.data.classes[k] ?? ds.classes[k] ?? String(k);
      const sibText = r.sibs[i] === null ? "" : ` SIB(${percent}) ${r.sibs[i]!.toFixed(2)}`;
      const line = `#${index} ${cls(r.labels[i])} -> ${cls(r.pred[i])}${sibText}`;
      lines.push(line);
      // the grid's pixel font has no '#', '>' or '%'
      const label = `${index}: ${cls(r.labels[i])} - pred ${cls(r.pred[i])}${
        sibText ? ` -${sibText}` : ""
      }`;
      rows.push({
        image: r.images.slice(i * c * h * w, (i + 1) * c * h * w),
        channels: c,
        map: r.maps.slice(i * h * w, (i + 1) * h * w),
        boxes: box && box[2] > box[0] && box[3] > box[1]
          ? [[box[0], box[1], box[2], box[3]]]
          : undefined,
        label,
      });
    });
  } finally {
    loader.dispose();
    run.model.dispose();
  }
  const { image } = renderSaliencyGrid(rows, size[0], size[1], { percent, scale: opts.scale });
  const out = opts.out ?? "saliency.png";
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : "";
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  await Deno.writeFile(out, encodePng(image));
  for (const l of lines) console.log(l);
  console.error(
    `wrote ${out} (${image.width}x${image.height}: ${rows.length} rows of image, heat map, ` +
      `blended, top ${percent}%; ${method}, ${
        opts.checkpoint ?? "best"
      } checkpoint epoch ${run.epoch})`,
  );
  return { out, rows: lines, width: image.width, height: image.height };
}
