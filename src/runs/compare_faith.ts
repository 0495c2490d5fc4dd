/**
 * compare's faithfulness table, after Table III: each run's faithfulness scores on the same test
 * images and the same checkpoint rule as the accuracy tables (cached in its faith.json), then per
 * method and score the mean over seeds of each run's mean over the images (± sd over seeds, as
 * Table II). The paired differences against the baseline, seed by seed, join compare's paired
 * table (metrics `faith@<score>`).
 *
 * @module
 */

import type { CheckpointRule } from "../run_folder/mod.ts";
import { meanSd } from "../report/svg.ts";
import { sig4 } from "../report/faith_tables.ts";
import type { Method } from "../train/schedule.ts";
import { faithOfRunCached } from "./run_jobs.ts";
import { FAITH_METRIC_INFO, type FaithMetric } from "./faith_defaults.ts";
import type { SibMethod } from "./sib.ts";

/** The faithfulness table of a comparison (compare.json's `faith`). */
export interface CompareFaith {
  /** Attribution method. */
  method: string;
  /** Images per run. */
  n: number;
  /** The checkpoint rule. */
  checkpoint: CheckpointRule;
  /** The scores, in table order. */
  metrics: FaithMetric[];
  /** Which way each is better. */
  better: Record<string, "lower" | "higher">;
  /** Per method and score: each seed's mean over the images, their mean and sd. */
  mean: Record<string, Record<string, { mean: number; sd: number | null; values: number[] }>>;
}

/** A compare run as this table needs it. */
interface FaithRun {
  method: Method;
  seed: number;
  dir: string;
  status: string;
  checkpoint_epoch: number | null;
  faith_mean?: Record<string, number>;
}

/** What to score, and how to report. */
export interface CompareFaithChoice {
  /** Test images, or "all". */
  n: number | "all";
  /** The scores. */
  metrics: readonly FaithMetric[];
  /** Attribution method. */
  method: SibMethod;
  /** Checkpoint rule. */
  checkpoint: CheckpointRule;
  /** Device. */
  device?: string;
  /** Checked between batches. */
  shouldStop?: () => boolean;
  /** Messages. */
  say: (message: string) => void;
}

/**
 * Scores every run that has a checkpoint of the rule (sets its `faith_mean`), records the
 * faith.json files written in `files`, and returns the table.
 */
export async function compareFaithOf(
  methods: readonly Method[],
  runs: FaithRun[],
  choice: CompareFaithChoice,
  files: string[],
): Promise<CompareFaith> {
  const { say, checkpoint: rule, method, n } = choice;
  let count = 0;
  for (const r of runs) {
    if (r.checkpoint_epoch === null) {
      say(
        `${r.method} seed ${r.seed}: no faithfulness (no ${rule} checkpoint: the run ${r.status})`,
      );
      continue;
    }
    const { faith, cached } = await faithOfRunCached(r.dir, {
      ...choice,
      onScoring: (epoch) =>
        say(
          `${r.method} seed ${r.seed}: faithfulness of ${n} test images (${method}, ${rule} ` +
            `checkpoint, epoch ${epoch})`,
        ),
    });
    if (cached) say(`${r.method} seed ${r.seed}: faithfulness from ${r.dir}/faith.json`);
    else files.push(`${r.dir}/faith.json`);
    r.faith_mean = Object.fromEntries(
      faith.metrics.map((m) => [m, faith.summary[m]!.mean]),
    );
    count = Math.max(count, faith.n);
  }
  const mean: CompareFaith["mean"] = {};
  for (const m of methods) {
    mean[m] = {};
    for (const metric of choice.metrics) {
      const values = runs.filter((r) => r.method === m && r.faith_mean).map((r) =>
        r.faith_mean![metric]
      );
      mean[m][metric] = { ...meanSd(values), values };
    }
  }
  return {
    method,
    n: count,
    checkpoint: rule,
    metrics: [...choice.metrics],
    better: Object.fromEntries(choice.metrics.map((m) => [m, FAITH_METRIC_INFO[m].better])),
    mean,
  };
}

/** The table's caption, head and rows (rows: scores; columns: methods, mean ± sd over seeds). */
export function compareFaithTable(
  faith: CompareFaith,
  methods: readonly string[],
  dataset: string,
): { caption: string; head: string[]; rows: string[][] } {
  return {
    caption: `Faithfulness of the saliency maps (${faith.method} of the true label, ${faith.n} ` +
      `${dataset} test images per run, ${faith.checkpoint} checkpoints): each run's mean over ` +
      "the images, mean ± sd over seeds",
    head: ["score", "better", ...methods],
    rows: faith.metrics.map((metric) => [
      FAITH_METRIC_INFO[metric].label,
      faith.better[metric],
      ...methods.map((m) => {
        const s = faith.mean[m]?.[metric];
        if (!s || !s.values.length) return "-";
        return s.sd === null ? sig4(s.mean) : `${sig4(s.mean)} ± ${sig4(s.sd)}`;
      }),
    ]),
  };
}

/** The paired table's label of a `faith@<score>` metric, or null for another metric. */
export function faithMetricLabel(metric: string): string | null {
  if (!metric.startsWith("faith@")) return null;
  const info = FAITH_METRIC_INFO[metric.slice("faith@".length) as FaithMetric];
  return info ? `${info.label} (${info.better} is better)` : null;
}
