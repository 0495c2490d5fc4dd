/**
 * The paper's comparison: every method x seed trained into DIR/<method>-seed<seed>/ (a finished
 * run is reused, a stopped one resumed), then Table II (max and final test accuracy, mean ± sd
 * over seeds, in %) and, for datasets with object boxes, Table III (median SIB per x and
 * method over every test image with a box, or N of them, saliency of the true label ranked as
 * the runs were trained, on the checkpoint that one rule picks in every run, best-after-switch
 * by default, the values of all seeds pooled), and the faithfulness of the saliency maps on the
 * same checkpoints (compare_faith.ts; `faith: false` skips it). Writes DIR/compare.json,
 * DIR/compare.md, each run's sib.json and faith.json, and the accuracy curves of every method's
 * first seed (with the baseline's test accuracy drawn over the others, as in Fig. 2) and SIB
 * plots into DIR.
 *
 * @module
 */

import { datasetSpec } from "../data/registry.ts";
import { DEFAULT_SIB_PERCENTS } from "../metrics/sib.ts";
import { InterruptedError } from "../util/event_loop.ts";
import type { SibEvaluation, SibMethod } from "./sib.ts";
import { DEFAULT_SIB_CHECKPOINT, DEFAULT_SIB_N } from "./sib_defaults.ts";
import { DEFAULT_FAITH_METRICS, DEFAULT_FAITH_N, type FaithMetric } from "./faith_defaults.ts";
import {
  type CompareFaith,
  compareFaithOf,
  compareFaithTable,
  faithMetricLabel,
} from "./compare_faith.ts";
import { sig4 } from "../report/faith_tables.ts";
import {
  checkpointOf,
  type JobFork,
  jobStartLine,
  jobStatus,
  planJob,
  runJob,
  sibOfRunCached,
  switchEpoch,
} from "./run_jobs.ts";
export { configDifferences } from "../train/config_diff.ts";
export { switchEpoch };
import { checkedConfig, defaultConfig, type TrainConfig } from "../train/config.ts";
import { METHODS } from "../train/config_fields.ts";
import type { CheckpointRule, EpochMetrics } from "../run_folder/mod.ts";
import type { RunPlan } from "../train/run_plan.ts";
import { withRunFolderLock } from "../run_folder/run_lock.ts";
import type { Method } from "../train/schedule.ts";
import type { TrainHooks } from "../train/trainer.ts";
import { accuracyCurveSvg, boxPlotSvg, pairedScatterSvg } from "../report/charts.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";
import { median } from "../util/stats.ts";
import { svgToPng } from "../report/render.ts";
import { markdownTable, textTable as formatTextTable } from "../report/tables.ts";
import { accuracyStats } from "./summary.ts";
import { type PairedComparison, pairedComparisons } from "./paired.ts";
import { meanSd } from "../report/svg.ts";
import { openRunDir, type TrainRunDir } from "../train/run_records.ts";

/** Datasets whose test images have object boxes (Table III). */
export function hasBoxes(dataset: string): boolean {
  try {
    return datasetSpec(dataset).hasBoxes;
  } catch {
    return false; // not a dataset name
  }
}

/** Options of {@link compareMethods}. */
export interface CompareOptions {
  /** Settings shared by every run (model, dataset, epochs, ...); method and seed are set here. */
  base: Partial<TrainConfig>;
  /** Methods (default baseline, sgt, hlgm). */
  methods?: readonly Method[];
  /** Seeds (default 0, 1, 2). */
  seeds?: readonly number[];
  /** Output folder. */
  out: string;
  /** Test images for Table III, or "all" (default DEFAULT_SIB_N: all, as the paper). */
  sibN?: number | "all";
  /**
   * The checkpoint every run is scored on, for Table III and the checkpoint column of Table II
   * (default DEFAULT_SIB_CHECKPOINT: best-after-switch).
   */
  checkpoint?: CheckpointRule;
  /** Attribution method for Table III (default saliency). */
  sibMethod?: SibMethod;
  /** The x values of Table III (default 0.5, 1, 2, 5, 10). */
  percents?: readonly number[];
  /** Score the saliency maps' faithfulness after Table III (default true). */
  faith?: boolean;
  /** Test images for the faithfulness table, or "all" (default DEFAULT_FAITH_N). */
  faithN?: number | "all";
  /** Its scores (default DEFAULT_FAITH_METRICS: all). */
  faithMetrics?: readonly FaithMetric[];
  /** Messages (runs starting, reused, resumed, SIB progress). */
  onMessage?: (message: string) => void;
  /** Checked between SIB batches: when it returns true, an InterruptedError is thrown. */
  shouldStop?: () => boolean;
  /** Training hooks, called with the run's method and seed. */
  hooks?: (method: Method, seed: number) => TrainHooks;
  /**
   * Train the plain phase once (default true): with hlgm among the methods, each seed's HLGM
   * run trains first and its baseline is forked from it at the switch (HLGM's plain epochs are
   * the baseline's, so every result is the same as when the baseline trains from scratch).
   */
  share?: boolean;
  /**
   * Where SGT starts (default "start"): from scratch, as the paper's Table II, or "switch":
   * forked from the HLGM run of its seed at its switch (into DIR/sgt-switch-seedS), masking the
   * bottom k from the plateau on without HLGM's regularize epochs.
   */
  sgtFrom?: "start" | "switch";
}

/** One run of the comparison. */
export interface CompareRun {
  /** Method. */
  method: Method;
  /** Seed. */
  seed: number;
  /** Run folder. */
  dir: string;
  /**
   * "trained", "resumed", "reused", "diverged" (NaN/Inf loss: the epochs before it are kept
   * and Table II's caption names the run) or "interrupted".
   */
  status: string;
  /** Epochs logged. */
  epochs: number;
  /** Maximum test accuracy (fraction). */
  max_test_acc: number | null;
  /** Its epoch. */
  max_test_epoch: number | null;
  /** Last epoch's test accuracy (fraction). */
  final_test_acc: number | null;
  /** The epoch the checkpoint rule picks (null when the run has no such checkpoint). */
  checkpoint_epoch: number | null;
  /** Why the rule fell back to another checkpoint, when it did. */
  checkpoint_note?: string;
  /** Test accuracy at that epoch (fraction). */
  checkpoint_test_acc: number | null;
  /** HLGM: the last plain epoch before the masked phase (null: never switched; absent otherwise). */
  switch_epoch?: number | null;
  /**
   * Mean test accuracy (fraction) over the epochs after the switch of the HLGM run with this
   * seed, to the last epoch both runs have (null: no such HLGM run, or it never switched). With
   * the same seed, HLGM's plain epochs are the baseline's, so from the switch on the two runs
   * start from the same weights: the paper's Fig. 2 comparison of HLGM with "the continuation
   * of the traditional training".
   */
  after_switch_test_acc?: number | null;
  /**
   * HLGM: whether its plain epochs logged exactly the baseline's (same seed) test accuracies,
   * i.e. both reached the switch with the same model (null: no baseline run with this seed).
   */
  plain_matches_baseline?: boolean | null;
  /** Median SIB per x of this run (Table III datasets). */
  sib_median?: Record<string, number>;
  /** Mean over the images of each faithfulness score of this run. */
  faith_mean?: Record<string, number>;
  /** The run it was forked from and the epoch after which it went on; absent if not forked. */
  forked_from?: { run: string; epoch: number };
}

/** Mean and sample sd over seeds (fractions), with the values. */
export interface SeedStats {
  /** Mean. */
  mean: number;
  /** Sample standard deviation (n - 1), null for one seed. */
  sd: number | null;
  /** Per seed, in seed order. */
  values: number[];
}

/** Everything the comparison computed (compare.json). */
export interface CompareResult {
  /** Model. */
  model: string;
  /** Dataset. */
  dataset: string;
  /** Methods (rows). */
  methods: Method[];
  /** Seeds. */
  seeds: number[];
  /** Epochs per run. */
  epochs: number;
  /** The shared configuration (of the first run, without method and seed). */
  config: Omit<TrainConfig, "method" | "seed">;
  /** Every run. */
  runs: CompareRun[];
  /** The checkpoint rule of Table III and of Table II's checkpoint column. */
  checkpoint: CheckpointRule;
  /** Whether each baseline could fork from its seed's HLGM run ({@link CompareOptions.share}). */
  shared: boolean;
  /** Where the SGT runs started ({@link CompareOptions.sgtFrom}). */
  sgt_from: "start" | "switch";
  /** Table II: per method, max, final and checkpoint test accuracy over seeds (fractions). */
  table2: Record<
    string,
    { max_test_acc: SeedStats; final_test_acc: SeedStats; checkpoint_test_acc: SeedStats }
  >;
  /** Table III (datasets with boxes), else null. */
  table3: {
    method: string;
    n: number;
    checkpoint: CheckpointRule;
    percents: number[];
    /** Median of the pooled per-image values of all seeds, per method and x. */
    median: Record<string, Record<string, number>>;
    /** Median per seed, per method and x (seed order). */
    per_seed_median: Record<string, Record<string, number[]>>;
    /**
     * SIB's chance level: the mean fraction of a scored image inside its box (what a map
     * ranking pixels at random scores in expectation at every x); null when not recorded.
     */
    chance: number | null;
  } | null;
  /** The faithfulness table (null when skipped). */
  faith: CompareFaith | null;
  /**
   * Each method against the baseline over the seeds both finished: the paired differences of
   * Table II's accuracies (with boxes, of each seed's median SIB(x); and of each run's mean
   * faithfulness scores) with 95% t intervals and paired t tests; empty without a baseline.
   */
  paired: PairedComparison[];
  /** Files written. */
  files: string[];
  /** Table II (and III) as aligned text. */
  text: string;
  /** The same as Markdown. */
  markdown: string;
}

/** Mean, sample sd and the values over seeds. */
export function seedStats(values: number[]): SeedStats {
  const { mean, sd } = meanSd(values);
  return { mean, sd, values };
}

/** "85.21 ± 0.53" (in %), or the mean alone for one seed. */
export function formatMeanSd(s: SeedStats): string {
  if (!s.values.length) return "-";
  return s.sd === null
    ? (100 * s.mean).toFixed(2)
    : `${(100 * s.mean).toFixed(2)} ± ${(100 * s.sd).toFixed(2)}`;
}

// compare's tables: the first column names the row, the others hold numbers
const textTable = (head: string[], rows: string[][]) => formatTextTable(head, rows, (j) => j > 0);
const mdTable = (head: string[], rows: string[][]) => markdownTable(head, rows, (j) => j > 0);

async function writeFigure(base: string, svg: string, files: string[]): Promise<void> {
  Deno.writeTextFileSync(`${base}.svg`, svg);
  Deno.writeFileSync(`${base}.png`, await svgToPng(svg));
  files.push(`${base}.svg`, `${base}.png`);
}

function pctOrDash(v: number | null): string {
  return v === null ? "-" : (100 * v).toFixed(2);
}

/** The configuration of one method x seed (validated; throws listing the problems). */
function compareConfig(
  base: Partial<TrainConfig>,
  method: Method,
  seed: number,
): TrainConfig {
  return checkedConfig(defaultConfig({ ...base, method, seed }));
}

/**
 * Trains (or reuses/resumes) every run, then writes and returns the tables. Holds the lock of
 * `options.out` throughout (one writer per folder; {@link RunFolderBusyError} when another
 * process writes it).
 */
export async function compareMethods(options: CompareOptions): Promise<CompareResult> {
  return await withRunFolderLock(options.out, "compare", () => compareLocked(options));
}

/** What every part of a comparison reads: its runs' configs and where it writes. */
interface CompareJob {
  options: CompareOptions;
  methods: Method[];
  seeds: number[];
  out: string;
  say: (message: string) => void;
  rule: CheckpointRule;
  /** The first run's config (what every run shares but method and seed). */
  c0: TrainConfig;
  /** Baselines fork from their seed's HLGM run (hlgm among the methods, sharing on). */
  share: boolean;
  /** Where SGT starts. */
  sgtFrom: "start" | "switch";
}

async function compareLocked(options: CompareOptions): Promise<CompareResult> {
  const methods = [...(options.methods ?? METHODS)] as Method[];
  const seeds = [...(options.seeds ?? [0, 1, 2])];
  const out = options.out.replace(/\/+$/, "") || ".";
  const say = options.onMessage ?? (() => {});
  const rule = options.checkpoint ?? DEFAULT_SIB_CHECKPOINT;
  const configs = methods.map((m) => seeds.map((s) => compareConfig(options.base, m, s)));
  // every run folder is checked before anything trains (a bad third folder found after two
  // runs have trained would waste them)
  // (each is planned again under its own lock when its turn comes)
  const sgtFrom = options.sgtFrom ?? "start";
  if (sgtFrom === "switch" && !(methods.includes("hlgm") && methods.includes("sgt"))) {
    throw new RangeError(
      `SGT from the switch forks each seed's hlgm run: the methods must include hlgm and sgt, ` +
        `got ${methods.join(", ")}`,
    );
  }
  const share = (options.share ?? true) && methods.includes("hlgm");
  const job: CompareJob = {
    options,
    methods,
    seeds,
    out,
    say,
    rule,
    c0: configs[0][0],
    share,
    sgtFrom,
  };
  methods.forEach((method, i) =>
    seeds.forEach((seed, j) => planJob(runFolder(job, method, seed), configs[i][j]))
  );
  Deno.mkdirSync(out, { recursive: true });
  const { runs, metricsOf } = await trainRuns(job, configs);
  afterSwitch(runs, metricsOf);
  const table2 = table2Of(methods, runs);
  const files: string[] = [];
  const { table3, sibOf } = hasBoxes(job.c0.dataset)
    ? await table3Of(job, runs, files)
    : { table3: null, sibOf: new Map<string, RunSib>() };
  const faith = options.faith ?? true
    ? await compareFaithOf(methods, runs, {
      n: options.faithN ?? DEFAULT_FAITH_N,
      metrics: options.faithMetrics ?? DEFAULT_FAITH_METRICS,
      method: options.sibMethod ?? "saliency",
      checkpoint: rule,
      device: job.c0.device,
      shouldStop: options.shouldStop,
      say,
    }, files)
    : null;
  const paired = pairedOf(methods, runs, table3, faith);
  const { text, markdown } = compareDocuments(job, runs, table2, paired, table3, faith);
  await writeFigures(job, runs, metricsOf, table3, sibOf, files);
  const c0 = job.c0;
  const { method: _m, seed: _s, ...shared } = c0;
  const result: CompareResult = {
    model: c0.model,
    dataset: c0.dataset,
    methods,
    seeds,
    epochs: c0.epochs,
    config: shared,
    checkpoint: rule,
    shared: job.share,
    sgt_from: job.sgtFrom,
    runs,
    table2,
    paired,
    table3,
    faith,
    files,
    text,
    markdown,
  };
  Deno.writeTextFileSync(`${out}/compare.md`, markdown);
  files.push(`${out}/compare.md`, `${out}/compare.json`);
  const { text: _t, markdown: _md, ...json } = result;
  writeJsonAtomic(`${out}/compare.json`, json);
  return result;
}

/** A run's SIB as Table III reads it (a scored evaluation, or its per-image values). */
type RunSib = SibEvaluation | { per_image: Record<string, number[]>; chance?: number };

/** The folder of a method x seed: DIR/<method>-seed<seed>, DIR/sgt-switch-seed<seed>. */
function runFolder(job: CompareJob, method: Method, seed: number): string {
  const name = method === "sgt" && job.sgtFrom === "switch" ? "sgt-switch" : method;
  return `${job.out}/${name}-seed${seed}`;
}

/** The HLGM run a method x seed forks from, when it does (see CompareOptions). */
function forkOf(job: CompareJob, method: Method, seed: number): JobFork | undefined {
  const source = runFolder(job, "hlgm", seed);
  if (method === "baseline" && job.share) return { source, required: false };
  if (method === "sgt" && job.sgtFrom === "switch") return { source, required: true };
  return undefined;
}

/**
 * Trains, resumes or reuses every run as planned, in method then seed order, except that the
 * HLGM runs go first when others fork from them; returns them in method then seed order.
 */
async function trainRuns(
  job: CompareJob,
  configs: TrainConfig[][],
): Promise<{ runs: CompareRun[]; metricsOf: Map<string, EpochMetrics[]> }> {
  const { methods, seeds, say, rule, options } = job;
  const runs: CompareRun[] = [];
  const metricsOf = new Map<string, EpochMetrics[]>();
  const order = methods.map((m, i) => [m, i] as const);
  const forks = methods.some((m) => forkOf(job, m, seeds[0]));
  if (forks) order.sort(([a], [b]) => Number(b === "hlgm") - Number(a === "hlgm"));
  for (const [method, i] of order) {
    for (const [j, seed] of seeds.entries()) {
      const dir = runFolder(job, method, seed);
      const rd = openRunDir(dir);
      const hooks = options.hooks?.(method, seed) ?? {};
      const onPlan = (plan: RunPlan) => {
        if (plan.note) say(`${method} seed ${seed}: ${plan.note}`);
        say(`${method} seed ${seed}: ${jobStartLine(plan)}`);
      };
      const fork = forkOf(job, method, seed);
      const { plan, trained, message } = await runJob(dir, configs[i][j], hooks, onPlan, fork);
      if (message) say(`${method} seed ${seed}: ${message}`);
      const status = jobStatus(plan, trained);
      const metrics = rd.readMetrics();
      metricsOf.set(dir, metrics);
      const acc = accuracyStats(metrics);
      const ck = checkpointOf(dir, rule);
      runs.push({
        method,
        seed,
        dir,
        status,
        epochs: metrics.length,
        max_test_acc: acc.max,
        max_test_epoch: acc.maxEpoch,
        final_test_acc: acc.final,
        checkpoint_epoch: ck.epoch,
        ...(ck.note ? { checkpoint_note: ck.note } : {}),
        checkpoint_test_acc: metrics.find((m) => m.epoch === ck.epoch)?.test_acc ?? null,
        ...(method === "hlgm" ? { switch_epoch: switchEpoch(metrics) } : {}),
        ...forkedFrom(rd),
      });
      if (status === "interrupted") {
        throw new InterruptedError(
          `${method} seed ${seed} interrupted; the runs done and this run's last checkpoint are ` +
            `kept in ${options.out}: run the same command again to continue`,
        );
      }
    }
  }
  const rank = (r: CompareRun) => methods.indexOf(r.method) * seeds.length + seeds.indexOf(r.seed);
  runs.sort((a, b) => rank(a) - rank(b));
  return { runs, metricsOf };
}

/** A run's forked_from, from its config.json ({} when not forked). */
function forkedFrom(rd: TrainRunDir): Pick<CompareRun, "forked_from"> {
  const from = rd.readInfo().forkedFrom;
  return from ? { forked_from: { run: from.run, epoch: from.epoch } } : {};
}

/** Table II: per method, the max, final and checkpoint test accuracies over the seeds. */
function table2Of(methods: Method[], runs: CompareRun[]): CompareResult["table2"] {
  const table2: CompareResult["table2"] = {};
  for (const m of methods) {
    const rs = runs.filter((r) => r.method === m && r.max_test_acc !== null);
    table2[m] = {
      max_test_acc: seedStats(rs.map((r) => r.max_test_acc!)),
      final_test_acc: seedStats(rs.map((r) => r.final_test_acc!)),
      checkpoint_test_acc: seedStats(
        rs.filter((r) => r.checkpoint_test_acc !== null).map((r) => r.checkpoint_test_acc!),
      ),
    };
  }
  return table2;
}

/** Table III: each run's SIB on the checkpoint rule (cached in its sib.json), median per x. */
async function table3Of(
  job: CompareJob,
  runs: CompareRun[],
  files: string[],
): Promise<{ table3: CompareResult["table3"]; sibOf: Map<string, RunSib> }> {
  const { methods, say, rule, options, c0 } = job;
  let table3: CompareResult["table3"] = null;
  const sibOf = new Map<string, RunSib>();
  if (hasBoxes(c0.dataset)) {
    const n = options.sibN ?? DEFAULT_SIB_N;
    const method = options.sibMethod ?? "saliency";
    const percents = [...(options.percents ?? DEFAULT_SIB_PERCENTS)];
    for (const r of runs) {
      if (r.checkpoint_epoch === null) {
        say(`${r.method} seed ${r.seed}: no SIB (no ${rule} checkpoint: the run ${r.status})`);
        continue;
      }
      const { sib, cached } = await sibOfRunCached(r.dir, {
        n,
        method,
        percents,
        checkpoint: rule,
        device: c0.device,
        shouldStop: options.shouldStop,
        onScoring: (epoch) =>
          say(
            `${r.method} seed ${r.seed}: SIB of ${n} test images (${method}, ${rule} checkpoint, ` +
              `epoch ${epoch})`,
          ),
      });
      if (cached) say(`${r.method} seed ${r.seed}: SIB from ${r.dir}/sib.json`);
      else files.push(`${r.dir}/sib.json`);
      sibOf.set(r.dir, sib);
    }
    const med: Record<string, Record<string, number>> = {};
    const perSeed: Record<string, Record<string, number[]>> = {};
    let count = 0;
    for (const m of methods) {
      med[m] = {};
      perSeed[m] = {};
      for (const p of percents) {
        const per = runs.filter((r) => r.method === m && sibOf.has(r.dir)).map((r) =>
          sibOf.get(r.dir)!.per_image[String(p)]
        );
        med[m][String(p)] = median(per.flat());
        perSeed[m][String(p)] = per.map(median);
      }
    }
    for (const r of runs) {
      if (!sibOf.has(r.dir)) continue;
      const v = sibOf.get(r.dir)!.per_image;
      r.sib_median = Object.fromEntries(percents.map((p) => [String(p), median(v[String(p)])]));
      count = Math.max(count, v[String(percents[0])].length);
    }
    table3 = {
      method,
      n: count,
      checkpoint: rule,
      percents,
      median: med,
      per_seed_median: perSeed,
      chance: chanceOf([...sibOf.values()]),
    };
  }
  return { table3, sibOf };
}

/** The accuracies compared seed by seed (fractions; shown in percentage points). */
const ACCURACY_METRICS = [
  "max_test_acc",
  "final_test_acc",
  "checkpoint_test_acc",
  "after_switch_test_acc",
];

/** Each method against the baseline, seed by seed (none without a baseline). */
function pairedOf(
  methods: Method[],
  runs: CompareRun[],
  table3: CompareResult["table3"],
  faith: CompareFaith | null,
): PairedComparison[] {
  const sibMetrics = (table3?.percents ?? []).map((p) => `sib_median@${p}`);
  const faithMetrics = (faith?.metrics ?? []).map((m) => `faith@${m}`);
  const paired = methods.includes("baseline")
    ? pairedComparisons(
      runs.map((r) => ({
        method: r.method,
        seed: r.seed,
        values: {
          max_test_acc: r.max_test_acc,
          final_test_acc: r.final_test_acc,
          checkpoint_test_acc: r.checkpoint_test_acc,
          after_switch_test_acc: r.after_switch_test_acc,
          ...Object.fromEntries(
            Object.entries(r.sib_median ?? {}).map(([p, v]) => [`sib_median@${p}`, v]),
          ),
          ...Object.fromEntries(
            Object.entries(r.faith_mean ?? {}).map(([m, v]) => [`faith@${m}`, v]),
          ),
        },
      })),
      "baseline",
      [...ACCURACY_METRICS, ...sibMetrics, ...faithMetrics],
    )
    : [];
  return paired;
}

/** Table II (and the paired differences and Table III) as aligned text and as Markdown. */
function compareDocuments(
  job: CompareJob,
  runs: CompareRun[],
  table2: CompareResult["table2"],
  paired: PairedComparison[],
  table3: CompareResult["table3"],
  faith: CompareFaith | null,
): { text: string; markdown: string } {
  const { methods, seeds, rule, c0 } = job;
  const head2 = ["method", "max test acc (%)", "final test acc (%)", `${rule} ckpt test acc (%)`];
  const rows2 = methods.map((m) => [
    m,
    formatMeanSd(table2[m].max_test_acc),
    formatMeanSd(table2[m].final_test_acc),
    formatMeanSd(table2[m].checkpoint_test_acc),
  ]);
  const bad = runs.filter((r) => r.status === "diverged");
  const caption2 =
    `Table II: test accuracy of ${c0.model} on ${c0.dataset}, ${c0.epochs} epochs, mean ± sd over seeds ${
      seeds.join(", ")
    }` + (bad.length
      ? ` (diverged: ${bad.map((r) => `${r.method} seed ${r.seed}`).join(", ")})`
      : "");

  const metricLabel: Record<string, string> = {
    max_test_acc: "max test acc (pp)",
    final_test_acc: "final test acc (pp)",
    checkpoint_test_acc: `${rule} ckpt test acc (pp)`,
    after_switch_test_acc: "mean test acc after hlgm's switch (pp)",
  };
  const pairedRows = paired.map((c) => {
    const pct = ACCURACY_METRICS.includes(c.metric); // accuracies in percentage points
    const faithLabel = faithMetricLabel(c.metric);
    const f = (v: number) => pct ? (100 * v).toFixed(2) : faithLabel ? sig4(v) : v.toFixed(3);
    const t = c.test;
    return [
      `${c.method} - ${c.against}`,
      metricLabel[c.metric] ?? faithLabel ??
        `median SIB(${c.metric.slice("sib_median@".length)})`,
      f(t.mean),
      t.ci95 ? `[${f(t.ci95[0])}, ${f(t.ci95[1])}]` : "-",
      t.p === null ? "-" : t.p.toFixed(3),
      c.seeds.join(","),
    ];
  });
  const headPaired = ["pair", "metric", "mean difference", "95% CI", "p (paired t)", "seeds"];
  const captionPaired = "Paired differences against the baseline, seed by seed (same seed = " +
    "same initialisation and data order): mean, 95% t interval, two-sided paired t test";

  const head3 = ["x (%)", ...methods];
  const rows3 = table3
    ? table3.percents.map((p) => [
      String(p),
      ...methods.map((m) => {
        const v = table3!.median[m][String(p)];
        return Number.isNaN(v) ? "-" : v.toFixed(3);
      }),
    ])
    : [];
  if (table3?.chance !== null && table3?.chance !== undefined) {
    rows3.push(["chance", ...methods.map(() => table3!.chance!.toFixed(3))]);
  }
  const caption3 = table3
    ? `Table III: median SIB(x) over ${table3.n} ${c0.dataset} test images per run (${table3.method} of the true label${
      c0.saliencySign === "signed" ? ", signed as trained" : ""
    }, ${rule} checkpoints), seeds pooled`
    : "";
  const chanceNote = table3?.chance !== null && table3?.chance !== undefined
    ? "; chance: the mean box area fraction, what a map ranking pixels at random scores"
    : "";
  const ft = faith ? compareFaithTable(faith, methods, c0.dataset) : null;
  const text = [
    caption2,
    textTable(head2, rows2),
    ...(pairedRows.length ? ["", captionPaired, textTable(headPaired, pairedRows)] : []),
    ...(table3 ? ["", caption3 + chanceNote, textTable(head3, rows3)] : []),
    ...(ft ? ["", ft.caption, formatTextTable(ft.head, ft.rows, (j) => j > 1)] : []),
  ].join("\n");
  // the after-switch columns compare hlgm with the baseline: both must be there
  const pairedHlgm = methods.includes("hlgm") && methods.includes("baseline");
  const markdown = [
    `# ${c0.model} on ${c0.dataset}: ${methods.join(", ")}`,
    "",
    `${caption2}.`,
    "",
    mdTable(head2, rows2),
    "",
    runsTable(runs, rule, pairedHlgm),
    ...(pairedHlgm && runs.some((r) => r.after_switch_test_acc != null)
      ? [
        "",
        "After hlgm's switch: each run's mean test accuracy over the epochs after the switch of " +
        "the HLGM run with its seed. With the same seed HLGM's plain epochs are the baseline's " +
        "(last column), so from the switch on both continue from the same weights, and the " +
        "difference is what HLGM's masking made (the paper's Fig. 2: HLGM against \"the " +
        'continuation of the traditional training").',
      ]
      : []),
    ...(pairedRows.length ? ["", `${captionPaired}.`, "", mdTable(headPaired, pairedRows)] : []),
    ...(table3 ? ["", `${caption3}${chanceNote}.`, "", mdTable(head3, rows3)] : []),
    ...(ft ? ["", `${ft.caption}.`, "", markdownTable(ft.head, ft.rows, (j) => j > 1)] : []),
    ...forkNotes(job, runs),
    "",
  ].join("\n");

  return { text, markdown };
}

/** What compare.md says of the runs forked from the HLGM runs, if any. */
function forkNotes(job: CompareJob, runs: CompareRun[]): string[] {
  const forked = runs.filter((r) => r.forked_from);
  const notes: string[] = [];
  const of = (m: Method) => forked.filter((r) => r.method === m);
  if (of("baseline").length) {
    notes.push(
      `The plain phase was trained once: ${
        of("baseline").map((r) => `baseline seed ${r.seed} after epoch ${r.forked_from!.epoch}`)
          .join(", ")
      } went on from the HLGM run of its seed, whose plain epochs are the baseline's (the same ` +
        "results as training it from scratch, which compare does when told not to share them).",
    );
  }
  if (job.sgtFrom === "switch") {
    notes.push(
      `SGT started at the HLGM run's switch (${
        of("sgt").map((r) => `seed ${r.seed} after epoch ${r.forked_from!.epoch}`).join(", ")
      }): the HLGM run's plain epochs, then the bottom k masked every epoch, without HLGM's ` +
        "regularize epochs; the paper's Table II trains SGT from scratch.",
    );
  }
  return notes.length ? ["", ...notes] : [];
}

/** The Markdown table of every run: status, epochs, accuracies, its checkpoint's epoch. */
function runsTable(runs: CompareRun[], rule: CheckpointRule, pairedHlgm: boolean): string {
  return mdTable(
    [
      "run",
      "status",
      "epochs",
      "switch after epoch",
      "max test acc (%)",
      "epoch of max",
      "final test acc (%)",
      `${rule} ckpt epoch`,
      `${rule} ckpt test acc (%)`,
      ...(pairedHlgm ? ["mean test acc after hlgm's switch (%)", "plain epochs = baseline's"] : []),
    ],
    runs.map((r) => [
      r.dir.split("/").pop()!,
      r.status,
      String(r.epochs),
      r.switch_epoch === undefined
        ? "-"
        : r.switch_epoch === null
        ? "never"
        : String(r.switch_epoch),
      pctOrDash(r.max_test_acc),
      String(r.max_test_epoch ?? "-"),
      pctOrDash(r.final_test_acc),
      String(r.checkpoint_epoch ?? "-") + (r.checkpoint_note ? ` (${r.checkpoint_note})` : ""),
      pctOrDash(r.checkpoint_test_acc),
      ...(pairedHlgm
        ? [
          pctOrDash(r.after_switch_test_acc ?? null),
          r.plain_matches_baseline == null ? "-" : r.plain_matches_baseline ? "yes" : "no",
        ]
        : []),
    ]),
  );
}

/** Each method's accuracy curve (first seed) and the SIB(1), SIB(5) box and scatter plots. */
async function writeFigures(
  job: CompareJob,
  runs: CompareRun[],
  metricsOf: Map<string, EpochMetrics[]>,
  table3: CompareResult["table3"],
  sibOf: Map<string, RunSib>,
  files: string[],
): Promise<void> {
  const { methods, seeds, out, c0 } = job;
  // ---- figures (first seed)
  const firstDir = (m: Method) => runFolder(job, m, seeds[0]);
  const baseline = methods.includes("baseline") ? metricsOf.get(firstDir("baseline")) : undefined;
  for (const m of methods) {
    const metrics = metricsOf.get(firstDir(m)) ?? [];
    if (!metrics.length) continue;
    await writeFigure(
      `${out}/${m}-accuracy`,
      accuracyCurveSvg(metrics, {
        title: `${m}: ${c0.model} on ${c0.dataset}, seed ${seeds[0]}`,
        others: m !== "baseline" && baseline?.length
          ? [{ label: "baseline test accuracy", metrics: baseline }]
          : [],
      }),
      files,
    );
  }
  if (table3) {
    for (const p of table3.percents.filter((x) => x === 1 || x === 5)) {
      const key = String(p);
      await writeFigure(
        `${out}/sib-${p}-box`,
        boxPlotSvg(
          methods.map((m) => ({
            label: m,
            values: runs.filter((r) => r.method === m && sibOf.has(r.dir)).flatMap((r) =>
              sibOf.get(r.dir)!.per_image[key]
            ),
          })),
          { title: `SIB(${p}) per test image, seeds pooled`, yLabel: `SIB(${p})` },
        ),
        files,
      );
      await writeFigure(
        `${out}/sib-${p}-scatter`,
        pairedScatterSvg(
          methods.filter((m) => sibOf.has(firstDir(m))).map((m) => ({
            label: m,
            values: sibOf.get(firstDir(m))!.per_image[key],
          })),
          {
            title: `SIB(${p}) per image (seed ${seeds[0]}), sorted by ${methods[0]}`,
            yLabel: `SIB(${p})`,
          },
        ),
        files,
      );
    }
  }
}

/** The mean of the runs' recorded chance levels (null when none recorded one). */
function chanceOf(sibs: readonly { chance?: number }[]): number | null {
  const c = sibs.map((s) => s.chance).filter((v): v is number => Number.isFinite(v));
  return c.length ? c.reduce((a, v) => a + v, 0) / c.length : null;
}

/**
 * Fills each run's after_switch_test_acc (its mean test accuracy over the epochs after the
 * same seed's HLGM switch, up to the last epoch every run of that seed has, so all average one
 * window) and each HLGM run's plain_matches_baseline; null where there is no such HLGM run or
 * switch, or no baseline to match. `metricsOf` maps run folders to their metrics.
 */
function afterSwitch(runs: CompareRun[], metricsOf: Map<string, EpochMetrics[]>): void {
  const acc = (r: CompareRun) => (metricsOf.get(r.dir) ?? []).map((m) => m.test_acc);
  for (const r of runs) r.after_switch_test_acc = null;
  for (const h of runs.filter((r) => r.method === "hlgm")) {
    const switched = h.switch_epoch ?? null;
    const peers = runs.filter((r) => r.seed === h.seed);
    const base = peers.find((r) => r.method === "baseline");
    h.plain_matches_baseline = null;
    if (switched === null) continue;
    if (base && acc(base).length >= switched) {
      const b = acc(base);
      h.plain_matches_baseline = acc(h).slice(0, switched).every((v, i) => v === b[i]);
    }
    const last = Math.min(...peers.map((r) => acc(r).length));
    if (last <= switched) continue;
    for (const r of peers) {
      const after = acc(r).slice(switched, last);
      r.after_switch_test_acc = after.reduce((x, y) => x + y, 0) / after.length;
    }
  }
}
