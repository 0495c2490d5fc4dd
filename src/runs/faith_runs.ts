/**
 * Faithfulness of several runs on the same test images (`hlgm faith`, compare's faithfulness
 * table): each run's scores per image (faith.ts), RUNDIR/faith.json per run as soon as it is
 * scored, the combined DIR/faith.json with the paired differences, and the plots: deletion and
 * insertion curves (mean with a 95% band per run) and the randomisation check (Spearman against
 * the layers randomised), as SVG and PNG. A stop (`shouldStop`) keeps the runs already scored.
 *
 * Paired differences: every run against the first (`against`), image by image on the same
 * images, with a 95% t interval and a paired t test over the images. Images are the unit here
 * (the maps of one model); whether a difference holds across seeds is compare's question, paired
 * by seed.
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import { faithPlots } from "../report/faith_plots.ts";
import { svgToPng } from "../report/render.ts";
import type { CheckpointRule } from "../run_folder/mod.ts";
import { ATTRIBUTION_DEFAULTS } from "../saliency/names.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";
import { type PairedTest, pairedTTest } from "../util/stats.ts";
import { evaluateFaith, type EvaluateFaithOptions, type FaithEvaluation } from "./faith.ts";
import { FAITH_METRIC_INFO, type FaithMetric } from "./faith_defaults.ts";
import { scoreEachRun } from "./run_scoring.ts";
import { DEFAULT_SIB_CHECKPOINT } from "./sib_defaults.ts";

/** Options of {@link faithOfRuns}. */
export interface FaithOfRunsOptions
  extends Omit<EvaluateFaithOptions, "onProgress" | "which" | "dataDir"> {
  /** Which checkpoint of each run (default DEFAULT_SIB_CHECKPOINT). */
  which?: CheckpointRule;
  /** Output folder of the combined faith.json and the plots (none written when absent). */
  out?: string;
  /** Called after every batch with (run index, images done, total). */
  onProgress?: (run: number, done: number, total: number) => void;
  /** Called when a run is scored, with its evaluation and the seconds it took. */
  onRun?: (run: number, result: FaithEvaluation, seconds: number) => void;
}

/** One run's column. */
export interface FaithRunResult extends FaithEvaluation {
  /** Column name. */
  name: string;
  /** Run folder. */
  path: string;
}

/** A run against the first, on one score, paired image by image. */
export interface FaithPairedDifference {
  /** The run. */
  run: string;
  /** The run it is compared with. */
  against: string;
  /** The score. */
  metric: FaithMetric;
  /** run - against, over the images. */
  test: PairedTest;
}

/** What {@link faithOfRuns} computed and wrote. */
export interface FaithOfRuns {
  /** Test indices of the images, ascending. */
  indices: number[];
  /** Per run. */
  runs: FaithRunResult[];
  /** Every run but the first against the first. */
  paired: FaithPairedDifference[];
  /** Output folder (when written). */
  out?: string;
  /** Files written. */
  files: string[];
}

/** Every run but the first against the first, per score, paired on the images. */
function faithPairedDifferences(runs: readonly FaithRunResult[]): FaithPairedDifference[] {
  const [first, ...rest] = runs;
  const out: FaithPairedDifference[] = [];
  for (const r of rest) {
    if (r.indices.join() !== first.indices.join()) {
      throw new RangeError(`${r.name} and ${first.name} were scored on different images`);
    }
    for (const metric of r.metrics) {
      const a = r.per_image[metric], b = first.per_image[metric];
      if (!a || !b) continue;
      out.push({ run: r.name, against: first.name, metric, test: pairedTTest(a, b) });
    }
  }
  return out;
}

/**
 * Scores the runs `paths` (named `names`) on the same images of `ds` and writes faith.json files
 * and plots (see the module notes).
 */
export async function faithOfRuns(
  paths: readonly string[],
  names: readonly string[],
  ds: ImageDataset,
  options: FaithOfRunsOptions = {},
): Promise<FaithOfRuns> {
  const which = options.which ?? DEFAULT_SIB_CHECKPOINT;
  const { runs, files } = await scoreEachRun(
    paths,
    names,
    "faith.json",
    (path, r) =>
      evaluateFaith(path, ds, {
        ...options,
        which,
        onProgress: (done, total) => options.onProgress?.(r, done, total),
      }),
    options.onRun,
  );
  const paired = faithPairedDifferences(runs);
  const out = options.out;
  if (out !== undefined) {
    Deno.mkdirSync(out, { recursive: true });
    const first = runs[0];
    writeJsonAtomic(`${out}/faith.json`, {
      dataset: first.dataset,
      split: first.split,
      method: first.method,
      method_settings: ATTRIBUTION_DEFAULTS[first.method],
      reduction: first.reduction,
      target: first.target,
      metrics: first.metrics,
      better: Object.fromEntries(first.metrics.map((m) => [m, FAITH_METRIC_INFO[m].better])),
      settings: first.settings,
      n: first.n,
      n_requested: first.n_requested,
      seed: first.seed,
      checkpoint: which,
      created: new Date().toISOString(),
      indices: first.indices,
      runs: runs.map((r) => ({
        name: r.name,
        path: r.path,
        epoch: r.epoch,
        ...(r.checkpoint_note ? { checkpoint_note: r.checkpoint_note } : {}),
        saliency_sign: r.saliency_sign,
        summary: r.summary,
        curves: r.curves,
        per_image: r.per_image,
      })),
      paired,
    });
    files.push(`${out}/faith.json`);
    for (const [stem, svg] of faithPlots(runs, ds.name)) {
      Deno.writeTextFileSync(`${out}/${stem}.svg`, svg);
      Deno.writeFileSync(`${out}/${stem}.png`, await svgToPng(svg));
      files.push(`${out}/${stem}.svg`, `${out}/${stem}.png`);
    }
  }
  return { indices: runs[0].indices, runs, paired, ...(out !== undefined ? { out } : {}), files };
}
