/**
 * `hlgm sib RUNDIR...`: the paper's Saliency-In-the-Box evaluation (Section V, Table III,
 * Fig. 8). For each run, the saliency of the true label is computed for the same test images
 * (by default every one that has a box, as the paper; `--n N` draws N of them with a seed) on
 * the checkpoint of one rule (default best-after-switch: src/runs/sib_defaults.ts), ranked as
 * the run was trained (its --saliency-sign) unless `--saliency-sign` says otherwise, reduced to
 * pixel maps and scored with SIB(x) for every x, batched on the device (src/runs/sib.ts).
 * Prints Table III
 * (median SIB per x and run), writes DIR/sib.json with every per-image value, RUNDIR/sib.json
 * per run (read by the report), and per x a box plot and a paired scatter, as SVG and PNG.
 *
 * The argument checks (run folders, dataset choice, method names) are cli/run_args.ts's; the
 * work is src/runs/sib_runs.ts's.
 *
 * @module
 */

import type { CheckpointRule } from "../../src/run_folder/mod.ts";
import { UsageError } from "../errors.ts";
import { FLAG_VOCABULARY } from "../flag_vocabulary.ts";
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
import { DEFAULT_SIB_PERCENTS } from "../../src/metrics/sib.ts";
import { formatSibTable, localisationRows, textTable } from "../../src/report/tables.ts";
import { imagesWithBoxes, type SibSign, signNote } from "../../src/runs/sib.ts";
import { DEFAULT_SIB_CHECKPOINT, DEFAULT_SIB_N } from "../../src/runs/sib_defaults.ts";
import { type SibOfRuns, sibOfRuns } from "../../src/runs/sib_runs.ts";
import { uniqueRunNames } from "../../src/runs/summary.ts";

/** Parses "--percents 0.5,1,2,5,10": numbers in (0, 100], no repeats; UsageError otherwise. */
function parsePercents(text: string | undefined): number[] {
  if (text === undefined) return [...DEFAULT_SIB_PERCENTS];
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  const bad = parts.findIndex((s, i) => s === "" || !(values[i] > 0 && values[i] <= 100));
  if (bad >= 0) {
    throw new UsageError(
      `--percents: "${parts[bad]}" is not a percentage in (0, 100] (got "${text}")`,
    );
  }
  if (new Set(values).size !== values.length) {
    throw new UsageError(`--percents: repeated value in "${text}"`);
  }
  return values;
}

/** Options of `hlgm sib`. */
export interface SibOptions {
  /** Dataset with boxes (default: the first run's). */
  dataset?: string;
  /** Dataset root (default: the first run's, else the usual places). */
  dataDir?: string;
  /** Attribution method (default saliency). */
  method?: string;
  /** Grad-CAM layer. */
  layer?: string;
  /** Comma-separated x values (default 0.5,1,2,5,10). */
  percents?: string;
  /** Number of test images, or "all" (default DEFAULT_SIB_N: all). */
  n?: number | "all";
  /** Seed of the image draw and of SmoothGrad's noise (default 0). */
  seed?: number;
  /** Which checkpoint (default DEFAULT_SIB_CHECKPOINT: best-after-switch). */
  checkpoint?: CheckpointRule;
  /** What is ranked: "run" (default: as each run was trained), "abs" or "signed". */
  saliencySign?: SibSign;
  /** Device (default auto). */
  device?: string;
  /** Output folder (default ./sib-<timestamp>). */
  out?: string;
  /** Channel reduction (default mean). */
  reduction?: "mean" | "sum" | "max";
  /** Images per batch (default 100). */
  batchSize?: number;
  /** Images in the paired scatter (default 120, as the paper). */
  scatterN?: number;
  /** No notes on stderr (default false). */
  quiet?: boolean;
}

/** What `hlgm sib` computed and wrote, and the printed table. */
export interface SibResult extends SibOfRuns {
  /** The printed table (without its title line). */
  table: string;
}

/** `hlgm sib RUNDIR...`: checks the arguments, scores the runs, prints Table III. */
export async function runSib(paths: string[], opts: SibOptions = {}): Promise<SibResult> {
  // ---- arguments: usage errors before any heavy work
  const method = checkMethod(opts.method);
  const percents = parsePercents(opts.percents);
  const n = checkCount(opts.n ?? DEFAULT_SIB_N);
  const which = opts.checkpoint ?? DEFAULT_SIB_CHECKPOINT;
  const sign = checkSign(opts.saliencySign);
  const log = (s: string) => {
    if (!opts.quiet) console.error(s);
  };
  // the data, loaded once: every run sees the same images
  const { infos, dataset: datasetName, ds } = await runsAndSplit(paths, {
    method,
    layer: opts.layer,
    dataset: opts.dataset,
    dataDir: opts.dataDir,
    needBoxes: true,
  });
  noteOtherDatasets(paths, infos, datasetName, log);
  const withBox = imagesWithBoxes(ds).length;
  if (withBox === 0) throw new Error(`${datasetName}: no test image has a box`);
  if (n !== "all" && withBox < n) {
    log(`note: ${withBox} ${datasetName} test images have a box; using all`);
  }

  const names = uniqueRunNames(paths);
  const progress = new ProgressLine({ plainEvery: SCORING_LOG_EVERY_MS });
  const result = await withInterrupt(progress, ({ stopping }) =>
    sibOfRuns(paths, names, ds, {
      method,
      layer: opts.layer,
      reduction: opts.reduction,
      batchSize: opts.batchSize,
      percents,
      n,
      seed: opts.seed ?? 0,
      which,
      sign,
      device: opts.device,
      out: opts.out ?? stampedFolder("sib"),
      scatterN: opts.scatterN,
      shouldStop: stopping,
      onProgress: (r, done, total) =>
        progress.update(`${names[r]}: ${done}/${total} images`, done / total),
      onRun: (r, e, seconds) => {
        progress.done();
        const ranked = signNote(e, FLAG_VOCABULARY) ??
          (e.saliency_sign === "signed" ? "signed saliency, as trained" : null);
        log(
          `${names[r]}: ${which} checkpoint (epoch ${e.epoch}${
            e.checkpoint_note ? `; ${e.checkpoint_note}` : ""
          }), ${ranked ? `${ranked}, ` : ""}${e.n} images in ${seconds.toFixed(1)} s`,
        );
      },
    }));
  const signs = new Set(result.runs.map((r) => r.saliency_sign));
  if (signs.size > 1) {
    log(
      `note: the runs rank different maps (${
        result.runs.map((r) => `${r.name} ${r.saliency_sign}`).join(", ")
      }): --saliency-sign abs or signed scores them all one way`,
    );
  }
  const table = formatSibTable(percents, result.runs);
  console.log(
    `Median SIB (${method}, ${result.indices.length} ${datasetName} test images, ${which} checkpoints)`,
  );
  console.log(table);
  const local = textTable(
    ["localisation", ...result.runs.map((r) => r.name)],
    localisationRows(result.runs),
    (j) => j > 0,
  );
  console.log(`\nLocalisation: mean [95% interval over the images]`);
  console.log(local);
  log(
    `wrote ${result.out}/sib.json, sib.json in ${result.runs.length} run folder(s), ${
      percents.length * 4
    } plot files in ${result.out}`,
  );
  return { ...result, table };
}
