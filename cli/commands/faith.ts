/**
 * `hlgm faith RUNDIR...`: the faithfulness of runs' saliency maps where no boxes are needed
 * (real CIFAR-10 included). For each run, the maps of the true label for the same test images
 * (N drawn with a seed, or all), on the checkpoint of one rule (default best-after-switch, as
 * SIB), scored by the chosen metrics (src/runs/faith.ts). Prints the means with 95% intervals
 * and every run's paired difference from the first; writes RUNDIR/faith.json per run,
 * DIR/faith.json and the curve plots (src/runs/faith_runs.ts).
 *
 * @module
 */

import { cliMessage } from "../flag_vocabulary.ts";
import type { CheckpointRule } from "../../src/run_folder/mod.ts";
import { textTable } from "../../src/report/tables.ts";
import { faithMeanRows, faithPairedRows } from "../../src/report/faith_tables.ts";
import { checkFaithMetrics } from "../../src/runs/faith.ts";
import { DEFAULT_FAITH_METRICS, DEFAULT_FAITH_N } from "../../src/runs/faith_defaults.ts";
import { type FaithOfRuns, faithOfRuns } from "../../src/runs/faith_runs.ts";
import type { SibSign } from "../../src/runs/sib.ts";
import { DEFAULT_SIB_CHECKPOINT } from "../../src/runs/sib_defaults.ts";
import { uniqueRunNames } from "../../src/runs/summary.ts";
import { UsageError } from "../errors.ts";
import { withInterrupt } from "../interrupt.ts";
import { stampedFolder } from "../paths.ts";
import { ProgressLine, SCORING_LOG_EVERY_MS } from "../progress.ts";
import {
  checkCount,
  checkMethod,
  checkSign,
  noteOtherDatasets,
  runsAndSplit,
} from "../run_args.ts";

/** Options of `hlgm faith`. */
export interface FaithOptions {
  /** Comma-separated scores (default all). */
  metrics?: string;
  /** Dataset (default: the first run's). */
  dataset?: string;
  /** Dataset root (default: the first run's, else the usual places). */
  dataDir?: string;
  /** Attribution method (default saliency). */
  method?: string;
  /** Grad-CAM layer. */
  layer?: string;
  /** Test images, or "all" (default DEFAULT_FAITH_N). */
  n?: number | "all";
  /** Seed of the image draw and the noise (default 0). */
  seed?: number;
  /** Which checkpoint (default DEFAULT_SIB_CHECKPOINT). */
  checkpoint?: CheckpointRule;
  /** What is ranked (default "run"). */
  saliencySign?: SibSign;
  /** Device (default auto). */
  device?: string;
  /** Output folder (default ./faith-<timestamp>). */
  out?: string;
  /** Channel reduction (default mean). */
  reduction?: "mean" | "sum" | "max";
  /** Images per batch (default 100). */
  batchSize?: number;
  /** No notes on stderr (default false). */
  quiet?: boolean;
}

/** What `hlgm faith` computed and wrote, and the printed tables. */
export interface FaithResult extends FaithOfRuns {
  /** The printed tables (without their title lines). */
  table: string;
}

/** `hlgm faith RUNDIR...`: checks the arguments, scores the runs, prints the tables. */
export async function runFaith(paths: string[], opts: FaithOptions = {}): Promise<FaithResult> {
  const method = checkMethod(opts.method);
  let metrics;
  try {
    metrics = checkFaithMetrics(
      (opts.metrics ?? DEFAULT_FAITH_METRICS.join(",")).split(",").map((s) => s.trim()),
    );
  } catch (e) {
    throw new UsageError(`--metrics: ${cliMessage(e)}`);
  }
  const n = checkCount(opts.n ?? DEFAULT_FAITH_N);
  const sign = checkSign(opts.saliencySign);
  const which = opts.checkpoint ?? DEFAULT_SIB_CHECKPOINT;
  const log = (s: string) => {
    if (!opts.quiet) console.error(s);
  };
  const { infos, dataset: datasetName, ds } = await runsAndSplit(paths, {
    method,
    layer: opts.layer,
    dataset: opts.dataset,
    dataDir: opts.dataDir,
    needBoxes: false,
  });
  noteOtherDatasets(paths, infos, datasetName, log);
  if (n !== "all" && ds.n < n) log(`note: ${datasetName} has ${ds.n} test images; using all`);

  const names = uniqueRunNames(paths);
  const progress = new ProgressLine({ plainEvery: SCORING_LOG_EVERY_MS });
  const result = await withInterrupt(progress, ({ stopping }) =>
    faithOfRuns(paths, names, ds, {
      metrics,
      method,
      layer: opts.layer,
      reduction: opts.reduction,
      batchSize: opts.batchSize,
      n,
      seed: opts.seed ?? 0,
      which,
      sign,
      device: opts.device,
      out: opts.out ?? stampedFolder("faith"),
      shouldStop: stopping,
      onProgress: (r, done, total) =>
        progress.update(`${names[r]}: ${done}/${total} images`, done / total),
      onRun: (r, e, seconds) => {
        progress.done();
        log(
          `${names[r]}: ${which} checkpoint (epoch ${e.epoch}${
            e.checkpoint_note ? `; ${e.checkpoint_note}` : ""
          }), ${e.n} images in ${seconds.toFixed(1)} s`,
        );
      },
    }));
  const right = (j: number) => j >= 2;
  const means = faithMeanRows(result.runs);
  const parts = [textTable(means.head, means.rows, right)];
  console.log(
    `Faithfulness (${method}, ${result.indices.length} ${datasetName} test images, ${which} ` +
      `checkpoints): mean [95% interval over the images]`,
  );
  console.log(parts[0]);
  if (result.paired.length > 0) {
    const paired = faithPairedRows(result.paired);
    parts.push(textTable(paired.head, paired.rows, right));
    console.log(
      `\nPaired differences from ${names[0]} on the same images: mean [95% interval], p (paired t)`,
    );
    console.log(parts[1]);
  }
  log(`wrote ${result.out}/faith.json, faith.json in ${result.runs.length} run folder(s), plots`);
  return { ...result, table: parts.join("\n\n") };
}
