/**
 * `hlgm saliency RUNDIR`: the saliency figure of a run's model for chosen test images (the
 * paper's Fig. 6; src/runs/saliency.ts): per row the image, the heat map, the blended heat map
 * and the top-x% mask (Captum's original_image, heat_map, blended_heat_map and masked_image
 * modes), with the object's box where the dataset has boxes. One line per row on stdout: the
 * image, its label, the prediction and, with boxes, SIB(x).
 *
 * @module
 */

import type { CheckpointRule } from "../../src/run_folder/mod.ts";
import { UsageError } from "../errors.ts";
import { FLAG_VOCABULARY } from "../flag_vocabulary.ts";
import { checkMethod, runsAndSplit } from "../run_args.ts";
import type { Colormap } from "../../src/report/colormap.ts";
import { saliencyFigure } from "../../src/runs/saliency.ts";
import { drawIndices, figureSignNote, trainedSign } from "../../src/runs/sib.ts";
import { uniqueRunNames } from "../../src/runs/summary.ts";
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
  checkpoint?: CheckpointRule;
  /** Device (default auto). */
  device?: string;
  /** Channel reduction (default mean). */
  reduction?: "mean" | "sum" | "max";
  /** Heat-map colours (default blues). */
  colormap?: Colormap;
  /** Whole-pixel upscaling of the panels (default: panels of at least 128 pixels). */
  scale?: number;
}

/** Parses "--indices 0,1,2" (non-negative integers, no repeats). */
function parseIndices(text: string): number[] {
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

/** Writes the figure; returns the PNG path and the rows' descriptions. */
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
  const { ds } = await runsAndSplit([runDir], {
    method,
    layer: opts.layer,
    dataset: opts.dataset,
    dataDir: opts.dataDir,
    needBoxes: false,
  });
  const indices = requested ?? drawIndices(Array.from({ length: ds.n }, (_, i) => i), n, seed);
  const outside = indices.find((i) => i >= ds.n);
  if (outside !== undefined) {
    throw new UsageError(`--indices: ${outside} is outside the test split (0..${ds.n - 1})`);
  }

  const which = opts.checkpoint ?? "best";
  const run = loadRun(runDir, { which, device: opts.device });
  if (run.checkpointNote) console.error(`note: ${run.checkpointNote}`);
  if (trainedSign(run.info.config) === "signed") {
    console.error(`note: ${figureSignNote(FLAG_VOCABULARY)}`);
  }
  let fig;
  try {
    fig = saliencyFigure([run], uniqueRunNames([runDir]), ds, indices, {
      method,
      layer: opts.layer,
      reduction: opts.reduction,
      percent,
      seed,
      colormap: opts.colormap,
      scale: opts.scale,
    });
  } finally {
    run.model.dispose();
  }
  const out = opts.out ?? "saliency.png";
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : "";
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  await Deno.writeFile(out, fig.png);
  for (const l of fig.lines) console.log(l);
  console.error(
    `wrote ${out} (${fig.width}x${fig.height}: ${indices.length} rows of image, heat map, ` +
      `blended, top ${percent}%; ${method}, ${which} checkpoint epoch ${run.epoch})`,
  );
  return { out, rows: fig.lines, width: fig.width, height: fig.height };
}
