/**
 * SIB of several runs on the same test images (`hlgm sib`, the paper's Section V): each run's
 * SIB(x) per image (sib.ts), RUNDIR/sib.json per run as soon as it is scored and the combined
 * DIR/sib.json (one writer, sib_file.ts), and per x a box plot and a paired scatter (Fig. 8) as
 * SVG and PNG. A stop (`shouldStop`) keeps the runs already scored.
 *
 * @module
 */

import type { CheckpointRule } from "../run_folder/mod.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { boxPlotSvg, pairedScatterSvg } from "../report/charts.ts";
import { svgToPng } from "../report/render.ts";
import { ATTRIBUTION_DEFAULTS } from "../saliency/names.ts";
import {
  type AttributionChoice,
  drawIndices,
  evaluateSib,
  type SibEvaluation,
  type SibSign,
} from "./sib.ts";
import { DEFAULT_SIB_CHECKPOINT } from "./sib_defaults.ts";
import { scoreEachRun } from "./run_scoring.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";

/** Options of {@link sibOfRuns}. */
export interface SibOfRunsOptions extends Omit<AttributionChoice, "abs"> {
  /** The x values in percent. */
  percents: readonly number[];
  /** Number of test images with a box (all of them when fewer), or "all". */
  n: number | "all";
  /** Seed of the image draw and of SmoothGrad's noise. */
  seed: number;
  /** Which checkpoint of each run (default DEFAULT_SIB_CHECKPOINT). */
  which?: CheckpointRule;
  /** What is ranked (default "run": each run as it was trained). */
  sign?: SibSign;
  /** Device (default auto). */
  device?: string;
  /** Output folder of the combined sib.json and the plots. */
  out: string;
  /** Images in the paired scatter (default 120, as the paper). */
  scatterN?: number;
  /** Called after every batch with (run index, images done, total). */
  onProgress?: (run: number, done: number, total: number) => void;
  /** Checked after every batch: when it returns true, an InterruptedError is thrown. */
  shouldStop?: () => boolean;
  /** Called when a run is scored, with its evaluation and the seconds it took. */
  onRun?: (run: number, result: SibEvaluation, seconds: number) => void;
}

/** One run's column. */
export interface SibRunResult extends SibEvaluation {
  /** Column name. */
  name: string;
  /** Run folder. */
  path: string;
}

/** What {@link sibOfRuns} computed and wrote. */
export interface SibOfRuns {
  /** The x values. */
  percents: number[];
  /** Test-set indices of the images, ascending. */
  indices: number[];
  /** Per run. */
  runs: SibRunResult[];
  /** Output folder. */
  out: string;
  /** Files written. */
  files: string[];
}

/**
 * Scores the runs `paths` (named `names`) on the same images of `ds` and writes sib.json files
 * and plots (see the module notes).
 */
export async function sibOfRuns(
  paths: readonly string[],
  names: readonly string[],
  ds: ImageDataset,
  options: SibOfRunsOptions,
): Promise<SibOfRuns> {
  const method = options.method ?? "saliency";
  const which = options.which ?? DEFAULT_SIB_CHECKPOINT;
  const { runs, files } = await scoreEachRun(
    paths,
    names,
    "sib.json",
    (path, r) =>
      evaluateSib(path, ds, {
        ...options,
        method,
        which,
        onProgress: (done, total) => options.onProgress?.(r, done, total),
      }),
    options.onRun,
  );
  const { out, seed } = options;
  const percents = [...options.percents];
  const indices = runs[0].indices;

  // the combined sib.json
  Deno.mkdirSync(out, { recursive: true });
  const {
    per_image: _p,
    summary: _s,
    epoch: _e,
    checkpoint_note: _c,
    name: _n,
    path: _path,
    saliency_sign: _ss,
    trained_saliency_sign: _ts,
    localisation: _loc,
    ...common
  } = runs[0];
  writeJsonAtomic(`${out}/sib.json`, {
    ...common,
    created: new Date().toISOString(),
    method_settings: ATTRIBUTION_DEFAULTS[method],
    runs: runs.map((r) => ({
      name: r.name,
      path: r.path,
      epoch: r.epoch,
      ...(r.checkpoint_note ? { checkpoint_note: r.checkpoint_note } : {}),
      saliency_sign: r.saliency_sign,
      trained_saliency_sign: r.trained_saliency_sign,
      summary: r.summary,
      per_image: r.per_image,
      ...(r.localisation ? { localisation: r.localisation } : {}),
    })),
  });
  files.push(`${out}/sib.json`);

  // per x: box plot (one box per run) and the paired scatter (Fig. 8)
  const datasetName = ds.name;
  const boxTitle = (key: string) =>
    `SIB(${key}), ${method}, ${indices.length} ${datasetName} test images`;
  const scatterN = Math.min(options.scatterN ?? 120, indices.length);
  const scatterIdx = drawIndices(indices.map((_, i) => i), scatterN, seed + 1);
  for (const p of percents) {
    const key = String(p);
    const svgs: [string, string][] = [
      [
        `sib_box_${key}`,
        boxPlotSvg(runs.map((r) => ({ label: r.name, values: r.per_image[key] })), {
          title: boxTitle(key),
          yLabel: `SIB(${key})`,
          width: Math.max(360, 100 + 120 * runs.length, 40 + 8.5 * boxTitle(key).length),
        }),
      ],
      [
        `sib_scatter_${key}`,
        pairedScatterSvg(
          runs.map((r) => ({ label: r.name, values: scatterIdx.map((i) => r.per_image[key][i]) })),
          {
            title: `SIB(${key}), ${method}, ${scatterN} random ${datasetName} test images`,
            yLabel: `SIB(${key})`,
            maxPoints: scatterN,
          },
        ),
      ],
    ];
    for (const [base, svg] of svgs) {
      Deno.writeTextFileSync(`${out}/${base}.svg`, svg);
      Deno.writeFileSync(`${out}/${base}.png`, await svgToPng(svg));
      files.push(`${out}/${base}.svg`, `${out}/${base}.png`);
    }
  }
  return { percents, indices, runs, out, files };
}
