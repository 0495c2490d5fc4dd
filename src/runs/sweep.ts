/**
 * A sweep: every combination of a grid over training settings (`k-top=0.1,0.2 x lambda=0.5,1`)
 * x seeds, each run in DIR/<cell>/seed<N>/. A finished run is reused and a stopped one resumed
 * (a folder with other settings is refused before anything trains). Runs go `parallel` at a
 * time, each in its own process (sweep_worker.ts) with its share of the threads. Then, per
 * cell, mean ± sd over seeds of the max, final and checkpoint test accuracy and, for datasets
 * with boxes, the median SIB(x) of the seeds' pooled images on one checkpoint rule. Writes
 * DIR/sweep.json, DIR/sweep.md and heat maps (rows: the first grid setting, columns: the
 * second; one map per value of any further settings).
 *
 * @module
 */

import { totalThreads } from "./launch.ts";
import { DEFAULT_SIB_PERCENTS } from "../metrics/sib.ts";
import { type HeatmapData, heatmapSvg } from "../report/heatmap_chart.ts";
import { svgToPng } from "../report/render.ts";
import { markdownTable } from "../report/tables.ts";
import { checkedConfig, defaultConfig, type TrainConfig } from "../train/config.ts";
import { fieldByName, flagName, type SettingValue } from "../train/config_fields.ts";
import type { CheckpointRule } from "../run_folder/mod.ts";

import { withRunFolderLock } from "../run_folder/run_lock.ts";
import { InterruptedError } from "../util/event_loop.ts";
import { formatMeanSd, hasBoxes, type SeedStats, seedStats } from "./compare.ts";
import { median } from "../util/stats.ts";
import {
  checkpointOf,
  jobStartLine,
  jobStatus,
  planJob,
  sibOfRunCached,
  switchEpoch,
} from "./run_jobs.ts";
import type { RunPlan } from "../train/run_plan.ts";
import type { JobStatus } from "./run_jobs.ts";
import type { SibEvaluation, SibMethod } from "./sib.ts";
import { DEFAULT_SIB_CHECKPOINT, DEFAULT_SIB_N } from "./sib_defaults.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";
import { accuracyStats } from "./summary.ts";
import { type SweepJob, WORKER_EXIT } from "./sweep_worker.ts";
import { LIBRARY_VOCABULARY, SettingError, type Vocabulary } from "../util/vocabulary.ts";
import { openRunDir } from "../train/run_records.ts";

/** One setting of the grid and its values (parsed as the setting's flag parses them). */
export interface SweepAxis {
  /** The TrainConfig key. */
  key: string;
  /** The values, in the order given. */
  values: SettingValue[];
}

/** Settings a grid may not vary: the seed has its own list (seeds); where data lives is not a setting. */
const NOT_GRIDDED = new Set(["seed", "dataDir", "device", "tensorboard"]);

/**
 * What is wrong with a grid axis, null when it can be swept: a key that is not a training
 * setting, one a grid may not vary (the seed, where data lives), no values, a repeated value.
 * Settings are named in vocabulary `v`.
 */
export function sweepAxisProblem(
  axis: SweepAxis,
  v: Vocabulary = LIBRARY_VOCABULARY,
): string | null {
  const field = fieldByName(axis.key);
  if (!field || field.key !== axis.key) return `unknown setting "${axis.key}"`;
  const name = v.setting(axis.key);
  if (NOT_GRIDDED.has(axis.key)) {
    return `${name} cannot be swept` + (axis.key === "seed" ? " (give the seeds instead)" : "");
  }
  if (axis.values.length === 0) return `${name} has no values`;
  if (new Set(axis.values).size !== axis.values.length) return `${name}: a value is repeated`;
  return null;
}

/** One combination of the grid's values. */
export interface SweepCell {
  /** Folder name: "k-top=0.1_lambda=0.5". */
  name: string;
  /** The setting values of this cell, by config key. */
  values: Record<string, SettingValue>;
}

/** Every combination of the axes' values, the first axis varying slowest. */
export function sweepCells(axes: readonly SweepAxis[]): SweepCell[] {
  let cells: Record<string, SettingValue>[] = [{}];
  for (const a of axes) cells = cells.flatMap((c) => a.values.map((v) => ({ ...c, [a.key]: v })));
  return cells.map((values) => ({
    name: axes.map((a) => `${flagName(a.key)}=${values[a.key]}`).join("_") || "base",
    values,
  }));
}

/** A run being trained, for progress displays. */
export interface RunningJob {
  /** Cell name. */
  cell: string;
  /** Seed. */
  seed: number;
  /** Last finished epoch (0 before the first). */
  epoch: number;
  /** Epochs of the run. */
  epochs: number;
}

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** Settings shared by every run; the grid's values and the seed are set on top. */
  base: Partial<TrainConfig>;
  /** The grid (at least one setting). */
  grid: readonly SweepAxis[];
  /** Seeds (default 0, 1, 2). */
  seeds?: readonly number[];
  /** Output folder. */
  out: string;
  /** Runs trained at once (default 1). */
  parallel?: number;
  /** Threads shared by the parallel runs (default: $HLGM_NUM_THREADS, else every core). */
  threads?: number;
  /**
   * Turns a cell's settings into its full configuration (default: defaultConfig + its checks).
   * The CLI passes its own, which applies the model's Table I defaults and a --config file.
   */
  resolve?: (settings: Partial<TrainConfig>) => TrainConfig;
  /** SIB of each run on datasets with boxes: test images, or "all" (default DEFAULT_SIB_N). */
  sibN?: number | "all";
  /** Attribution method of SIB (default saliency). */
  sibMethod?: SibMethod;
  /** The x values of SIB (default 0.5, 1, 2, 5, 10). */
  percents?: readonly number[];
  /** The checkpoint every run is scored on (default DEFAULT_SIB_CHECKPOINT). */
  checkpoint?: CheckpointRule;
  /**
   * The command line that trains one run of the sweep in its own process, the job file
   * appended (default: this Deno running the library's worker module, src/runs/sweep_worker.ts,
   * whose messages name settings as the library does). The CLI passes its hidden `sweep-worker`
   * command, so a run's messages name flags like every other CLI process's.
   */
  worker?: readonly string[];
  /** Messages (a run started, reused, finished). */
  onMessage?: (message: string) => void;
  /** The runs in training, after every epoch of any of them. */
  onProgress?: (running: readonly RunningJob[]) => void;
  /** Checked while runs train and between SIB batches: true stops the sweep (runs keep their
   * last checkpoint; the same call again continues). */
  shouldStop?: () => boolean;
}

/** One run of the sweep. */
export interface SweepRun {
  /** Cell name. */
  cell: string;
  /** Seed. */
  seed: number;
  /** Run folder. */
  dir: string;
  /** How its job ended ("failed" with `error` when the run could not train). */
  status: JobStatus | "failed";
  /** The error of a failed run. */
  error?: string;
  /** Epochs logged. */
  epochs: number;
  /** Max test accuracy (fraction). */
  max_test_acc: number | null;
  /** Last epoch's test accuracy. */
  final_test_acc: number | null;
  /** The epoch the checkpoint rule picks. */
  checkpoint_epoch: number | null;
  /** Test accuracy at that epoch. */
  checkpoint_test_acc: number | null;
  /** HLGM: the last plain epoch before the switch (null: never switched). */
  switch_epoch?: number | null;
  /** Median SIB(x) of this run, per x. */
  sib_median?: Record<string, number>;
}

/** One cell's results over its seeds. */
export interface SweepCellResult extends SweepCell {
  /** Runs with metrics. */
  runs: number;
  /** Max test accuracy over seeds. */
  max_test_acc: SeedStats;
  /** Final test accuracy over seeds. */
  final_test_acc: SeedStats;
  /** Test accuracy at the checkpoint over seeds. */
  checkpoint_test_acc: SeedStats;
  /** Median SIB(x) of the seeds' pooled per-image values, per x (null without boxes). */
  sib_median: Record<string, number> | null;
}

/** What {@link sweep} computed and wrote (sweep.json). */
export interface SweepResult {
  /** The grid. */
  axes: SweepAxis[];
  /** Seeds. */
  seeds: number[];
  /** The shared settings (of the first cell's first seed, grid keys and seed left out). */
  config: Partial<TrainConfig>;
  /** The checkpoint rule of the checkpoint accuracy and SIB. */
  checkpoint: CheckpointRule;
  /** SIB settings, or null (no boxes). */
  sib: { method: SibMethod; n: number | "all"; percents: number[] } | null;
  /** Every run. */
  runs: SweepRun[];
  /** Per cell. */
  cells: SweepCellResult[];
  /** The table (head and rows of text), as sweep.md shows it. */
  table: { head: string[]; rows: string[][] };
  /** The heat maps drawn (values in % for accuracy). */
  heatmaps: (HeatmapData & { file: string })[];
  /** Files written. */
  files: string[];
  /** sweep.md. */
  markdown: string;
}

function defaultResolve(settings: Partial<TrainConfig>): TrainConfig {
  return checkedConfig(defaultConfig(settings));
}

/** The worker's command line: `worker` (this Deno and the worker module), the job file. */
function workerCommand(
  jobFile: string,
  threads: number,
  worker: readonly string[] | undefined,
): Deno.Command {
  const [command, ...args] = worker ?? [
    Deno.execPath(),
    "run",
    "-A",
    "--no-config",
    "--quiet",
    new URL("./sweep_worker.ts", import.meta.url).href,
  ];
  return new Deno.Command(command, {
    args: [...args, jobFile],
    env: { HLGM_NUM_THREADS: String(threads) },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

interface Job {
  cell: SweepCell;
  seed: number;
  config: TrainConfig;
  dir: string;
  plan: RunPlan;
}

/**
 * Trains (reuses, resumes) every run of the grid, then writes and returns the tables. Holds the
 * lock of `options.out` throughout (one writer per folder; {@link RunFolderBusyError} when
 * another process writes it); each worker holds its run folder's.
 */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  if (options.grid.length === 0) throw new RangeError("a sweep needs at least one grid setting");
  for (const axis of options.grid) {
    if (sweepAxisProblem(axis)) {
      throw new SettingError([axis.key], (v) => `grid: ${sweepAxisProblem(axis, v)}`);
    }
  }
  return await withRunFolderLock(options.out, "sweep", () => sweepLocked(options));
}

/** What every part of a sweep reads. */
interface SweepContext {
  options: SweepOptions;
  seeds: number[];
  out: string;
  say: (message: string) => void;
  rule: CheckpointRule;
  /** Worker processes at a time, and libtorch threads each. */
  parallel: number;
  threads: number;
}

/** How each job ended, and the workers running now. */
interface SweepProgress {
  ended: Map<Job, { status: JobStatus | "failed"; error?: string }>;
  running: Map<Job, RunningJob>;
  children: Set<Deno.ChildProcess>;
}

async function sweepLocked(options: SweepOptions): Promise<SweepResult> {
  const seeds = [...(options.seeds ?? [0, 1, 2])];
  const out = options.out.replace(/\/+$/, "") || ".";
  const say = options.onMessage ?? (() => {});
  const resolve = options.resolve ?? defaultResolve;
  const parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  const cells = sweepCells(options.grid);
  // every configuration and folder is checked before anything trains
  const jobs: Job[] = cells.flatMap((cell) =>
    seeds.map((seed) => {
      const config = resolve({ ...options.base, ...cell.values, seed } as Partial<TrainConfig>);
      const dir = `${out}/${cell.name}/seed${seed}`;
      const plan = planJob(dir, config);
      if (plan.note) say(`${cell.name} seed ${seed}: ${plan.note}`);
      return { cell, seed, config, dir, plan };
    })
  );
  Deno.mkdirSync(out, { recursive: true });
  const total = options.threads ?? totalThreads();
  const ctx: SweepContext = {
    options,
    seeds,
    out,
    say,
    rule: options.checkpoint ?? DEFAULT_SIB_CHECKPOINT,
    parallel,
    threads: Math.max(1, Math.floor(total / parallel)),
  };
  const ended = await trainJobs(ctx, jobs);
  const files: string[] = [];
  const { runs, sibOf } = await scoreRuns(ctx, jobs, ended, files);
  const first = jobs[0].config;
  const withSib = hasBoxes(first.dataset);
  const percents = [...(options.percents ?? DEFAULT_SIB_PERCENTS)];
  const sibN = options.sibN ?? DEFAULT_SIB_N;
  const sibMethod = options.sibMethod ?? "saliency";
  const rule = ctx.rule;
  const cellResults = cellResultsOf(cells, runs, sibOf, withSib ? percents : null);
  const axes = options.grid.map((a) => ({ key: a.key, values: [...a.values] }));
  const head = [
    ...axes.map((a) => flagName(a.key)),
    "runs",
    "max test acc (%)",
    "final test acc (%)",
    `${rule} ckpt test acc (%)`,
    ...(withSib ? percents.map((p) => `SIB(${p})`) : []),
  ];
  const rows = cellResults.map((c) => [
    ...axes.map((a) => String(c.values[a.key])),
    String(c.runs),
    formatMeanSd(c.max_test_acc),
    formatMeanSd(c.final_test_acc),
    formatMeanSd(c.checkpoint_test_acc),
    ...(withSib ? percents.map((p) => c.sib_median?.[String(p)]?.toFixed(3) ?? "-") : []),
  ]);

  const heatmaps = await writeHeatmaps(ctx, axes, cellResults, withSib ? percents : null, files);
  const shared = Object.fromEntries(
    Object.entries(first).filter(([k]) => k !== "seed" && !axes.some((a) => a.key === k)),
  ) as Partial<TrainConfig>;
  const failed = runs.filter((r) => r.status === "failed" || r.status === "diverged");
  const markdown = [
    `# Sweep: ${axes.map((a) => `${flagName(a.key)} ∈ {${a.values.join(", ")}}`).join(" × ")}`,
    "",
    `${first.method} with ${first.model} on ${first.dataset}, ${first.epochs} epochs, ${
      seeds.length > 1 ? "seeds" : "seed"
    } ${seeds.join(", ")}; test accuracy mean ± sd over seeds` +
    (withSib
      ? `; median SIB(x) of ${sibN} test images per run (${sibMethod} of the true label, ` +
        `${rule} checkpoints), seeds pooled`
      : "") +
    ".",
    "",
    markdownTable(head, rows, (j) => j >= axes.length),
    ...(failed.length
      ? [
        "",
        `Not counted: ${failed.map((r) => `${r.cell} seed ${r.seed} (${r.status})`).join(", ")}.`,
      ]
      : []),
    "",
    ...heatmaps.map((h) => `![${h.title}](${h.file})`),
    "",
  ].join("\n");
  const result: SweepResult = {
    axes,
    seeds,
    config: shared,
    checkpoint: rule,
    sib: withSib ? { method: sibMethod, n: sibN, percents } : null,
    runs,
    cells: cellResults,
    table: { head, rows },
    heatmaps,
    files,
    markdown,
  };
  Deno.writeTextFileSync(`${out}/sweep.md`, markdown);
  files.push(`${out}/sweep.md`, `${out}/sweep.json`);
  const { markdown: _md, ...json } = result;
  writeJsonAtomic(`${out}/sweep.json`, json);
  return result;
}

/** `job`'s label in messages. */
const label = (j: Job) => `${j.cell.name} seed ${j.seed}`;

/**
 * Trains every job as planned, `ctx.parallel` worker processes at a time; a stop (Ctrl-C,
 * SIGTERM) is forwarded to the workers and ends the sweep with {@link InterruptedError}.
 */
async function trainJobs(
  ctx: SweepContext,
  jobs: Job[],
): Promise<Map<Job, { status: JobStatus | "failed"; error?: string }>> {
  const { options, out, parallel } = ctx;
  const progress: SweepProgress = { ended: new Map(), running: new Map(), children: new Set() };
  const { ended, children } = progress;
  let forwarded = false;
  const stopping = () => options.shouldStop?.() ?? false;
  const runJob = (job: Job) => runWorker(ctx, job, progress, stopping);
  const queue = [...jobs];
  const pool = Array.from({ length: Math.min(parallel, jobs.length) }, async () => {
    while (queue.length && !stopping()) await runJob(queue.shift()!);
  });
  // forward a stop to the workers (a terminal's Ctrl-C reaches them too; once is enough)
  const watcher = setInterval(() => {
    if (!stopping() || forwarded) return;
    forwarded = true;
    for (const c of children) {
      try {
        c.kill("SIGINT");
      } catch {
        // already gone
      }
    }
  }, 100);
  try {
    await Promise.all(pool);
  } finally {
    clearInterval(watcher);
  }
  if (stopping() || [...ended.values()].some((e) => e.status === "interrupted")) {
    const done = [...ended.values()].filter((e) => e.status !== "interrupted").length;
    throw new InterruptedError(
      `sweep stopped: ${done} of ${jobs.length} runs done; stopped runs keep their last ` +
        `checkpoint in ${out}: run the same command again to continue`,
    );
  }

  return ended;
}

/** One job: reused, or trained in a worker process whose output goes to the run's sweep.log. */
async function runWorker(
  ctx: SweepContext,
  job: Job,
  progress: SweepProgress,
  stopping: () => boolean,
): Promise<void> {
  const { options, out, say, threads } = ctx;
  const { ended, running, children } = progress;
  if (job.plan.action === "reuse") {
    ended.set(job, { status: "reused" });
    say(`${label(job)}: ${jobStartLine(job.plan)}`);
    return;
  }
  say(`${label(job)}: ${jobStartLine(job.plan)} (${threads} thread${threads > 1 ? "s" : ""})`);
  const jobFile = `${out}/.job-${job.cell.name}-seed${job.seed}.json`;
  const spec: SweepJob = {
    config: job.config,
    dir: job.dir,
  };
  Deno.writeTextFileSync(jobFile, JSON.stringify(spec));
  const t0 = performance.now();
  const child = workerCommand(jobFile, threads, options.worker).spawn();
  children.add(child);
  running.set(job, { cell: job.cell.name, seed: job.seed, epoch: 0, epochs: job.config.epochs });
  let log = "";
  const readLines = async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        log += line + "\n";
        try {
          const m = JSON.parse(line) as { epoch: number };
          running.get(job)!.epoch = m.epoch;
          options.onProgress?.([...running.values()]);
        } catch {
          // not an epoch line
        }
      }
    }
  };
  const readErr = async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) log += chunk;
  };
  const [status] = await Promise.all([child.status, readLines(), readErr()]);
  children.delete(child);
  running.delete(job);
  Deno.removeSync(jobFile);
  if (openRunDir(job.dir).exists()) Deno.writeTextFileSync(`${job.dir}/sweep.log`, log);
  const lastError = log.trim().split("\n").filter((l) => l.startsWith("error:")).pop();
  const trained = status.code === WORKER_EXIT.completed
    ? "completed"
    : status.code === WORKER_EXIT.diverged && !lastError
    ? "diverged"
    : status.code === WORKER_EXIT.interrupted || stopping()
    ? "interrupted"
    : null;
  const result = trained === null
    ? { status: "failed" as const, error: lastError ?? `worker exited with ${status.code}` }
    : { status: jobStatus(job.plan, trained) };
  ended.set(job, result);
  const secs = ((performance.now() - t0) / 1000).toFixed(0);
  say(
    `${label(job)}: ${result.status}${"error" in result ? ` (${result.error})` : ""} in ${secs} s`,
  );
}

/** Each run's accuracies and checkpoint, and its SIB where the dataset has boxes. */
async function scoreRuns(
  ctx: SweepContext,
  jobs: Job[],
  ended: Map<Job, { status: JobStatus | "failed"; error?: string }>,
  files: string[],
): Promise<{ runs: SweepRun[]; sibOf: Map<SweepRun, SibEvaluation> }> {
  const { options, say, rule } = ctx;
  // ---- per run: accuracy, checkpoint, SIB
  const first = jobs[0].config;
  const withSib = hasBoxes(first.dataset);
  const percents = [...(options.percents ?? DEFAULT_SIB_PERCENTS)];
  const sibN = options.sibN ?? DEFAULT_SIB_N;
  const sibMethod = options.sibMethod ?? "saliency";
  const runs: SweepRun[] = [];
  const sibOf = new Map<SweepRun, SibEvaluation>();
  for (const job of jobs) {
    const e = ended.get(job)!;
    const metrics = openRunDir(job.dir).readMetrics();
    const acc = accuracyStats(metrics);
    const ck = checkpointOf(job.dir, rule);
    const run: SweepRun = {
      cell: job.cell.name,
      seed: job.seed,
      dir: job.dir,
      status: e.status,
      ...(e.error ? { error: e.error } : {}),
      epochs: metrics.length,
      max_test_acc: acc.max,
      final_test_acc: acc.final,
      checkpoint_epoch: ck.epoch,
      checkpoint_test_acc: metrics.find((m) => m.epoch === ck.epoch)?.test_acc ?? null,
      ...(job.config.method === "hlgm" ? { switch_epoch: switchEpoch(metrics) } : {}),
    };
    runs.push(run);
    if (withSib && ck.epoch !== null && (run.status !== "failed")) {
      const { sib, cached } = await sibOfRunCached(job.dir, {
        n: sibN,
        method: sibMethod,
        percents,
        checkpoint: rule,
        device: job.config.device,
        shouldStop: options.shouldStop,
        onScoring: (epoch) =>
          say(`${label(job)}: SIB of ${sibN} test images (${rule} checkpoint, epoch ${epoch})`),
      });
      if (!cached) files.push(`${job.dir}/sib.json`);
      sibOf.set(run, sib);
      run.sib_median = Object.fromEntries(
        percents.map((p) => [String(p), median(sib.per_image[String(p)])]),
      );
    }
  }

  return { runs, sibOf };
}

/** Per cell: the runs' accuracies over seeds and the pooled median SIB (`percents`: with boxes). */
function cellResultsOf(
  cells: SweepCell[],
  runs: SweepRun[],
  sibOf: Map<SweepRun, SibEvaluation>,
  percents: number[] | null,
): SweepCellResult[] {
  // ---- per cell
  const cellResults: SweepCellResult[] = cells.map((cell) => {
    const rs = runs.filter((r) => r.cell === cell.name && r.max_test_acc !== null);
    const sibs = rs.map((r) => sibOf.get(r)).filter((s): s is SibEvaluation => s !== undefined);
    return {
      ...cell,
      runs: rs.length,
      max_test_acc: seedStats(rs.map((r) => r.max_test_acc!)),
      final_test_acc: seedStats(rs.map((r) => r.final_test_acc!)),
      checkpoint_test_acc: seedStats(
        rs.filter((r) => r.checkpoint_test_acc !== null).map((r) => r.checkpoint_test_acc!),
      ),
      sib_median: percents && sibs.length
        ? Object.fromEntries(
          percents.map((p) => [String(p), median(sibs.flatMap((s) => s.per_image[String(p)]))]),
        )
        : null,
    };
  });
  return cellResults;
}

/**
 * The heat maps: rows the first setting, columns the second, one map per further values; max
 * test accuracy and, with boxes (`percents`), each median SIB(x).
 */
async function writeHeatmaps(
  ctx: SweepContext,
  axes: SweepResult["axes"],
  cellResults: SweepCellResult[],
  percents: number[] | null,
  files: string[],
): Promise<SweepResult["heatmaps"]> {
  const { out, rule } = ctx;
  const heatmaps: SweepResult["heatmaps"] = [];
  const [rowAxis, colAxis, ...restAxes] = axes;
  const restCells = sweepCells(restAxes);
  const metricsToDraw: { id: string; title: string; of: (c: SweepCellResult) => number | null }[] =
    [
      {
        id: "max-test-acc",
        title: "max test accuracy (%), mean over seeds",
        of: (c) => (c.runs ? 100 * c.max_test_acc.mean : null),
      },
      ...(percents
        ? percents.map((p) => ({
          id: `sib-${p}`,
          title: `median SIB(${p}), ${rule} checkpoints, seeds pooled`,
          of: (c: SweepCellResult) => c.sib_median?.[String(p)] ?? null,
        }))
        : []),
    ];
  for (const rest of restCells) {
    const suffix = restAxes.length ? `_${rest.name}` : "";
    for (const m of metricsToDraw) {
      const values = rowAxis.values.map((rv) =>
        (colAxis ? colAxis.values : [null]).map((cv) => {
          const c = cellResults.find((x) =>
            x.values[rowAxis.key] === rv && (!colAxis || x.values[colAxis.key] === cv) &&
            restAxes.every((a) => x.values[a.key] === rest.values[a.key])
          );
          return c ? m.of(c) : null;
        })
      );
      const data: HeatmapData = {
        title: `${m.title}${restAxes.length ? ` (${rest.name.replaceAll("_", ", ")})` : ""}`,
        rowName: flagName(rowAxis.key),
        rows: rowAxis.values.map(String),
        colName: colAxis ? flagName(colAxis.key) : "",
        cols: colAxis ? colAxis.values.map(String) : [""],
        values,
        decimals: m.id === "max-test-acc" ? 2 : 3,
      };
      const base = `${out}/heatmap-${m.id}${suffix}`;
      const svg = heatmapSvg(data);
      Deno.writeTextFileSync(`${base}.svg`, svg);
      Deno.writeFileSync(`${base}.png`, await svgToPng(svg));
      files.push(`${base}.svg`, `${base}.png`);
      heatmaps.push({ ...data, file: `heatmap-${m.id}${suffix}.png` });
    }
  }

  return heatmaps;
}
