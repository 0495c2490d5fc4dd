/**
 * What compare and sweep do with each run folder: train it, resume it when it stopped, reuse it
 * when finished with the same settings (a folder with other settings is refused), and score its
 * SIB and faithfulness on a checkpoint rule, reusing a sib.json or faith.json that scored the
 * same thing.
 *
 * @module
 */

import { LIBRARY_VOCABULARY, messageIn, type Vocabulary } from "../util/vocabulary.ts";
import { evaluateSib, type SibEvaluation, type SibMethod, sibSign } from "./sib.ts";
import { readRunScoreFile, readSibFile, writeRunScoreFile, writeSibFile } from "./sib_file.ts";
import { evaluateFaith, type FaithEvaluation } from "./faith.ts";
import { FAITH_SETTINGS, type FaithMetric } from "./faith_defaults.ts";
import type { TrainConfig } from "../train/config.ts";
import type { CheckpointRule, EpochMetrics } from "../run_folder/mod.ts";
import { type TrainHooks, trainPlan, type TrainStatus } from "../train/trainer.ts";
import { withRunFolderLock } from "../run_folder/run_lock.ts";
import { planRun, type RunPlan, RunPlanError } from "../train/run_plan.ts";
import { resolve } from "node:path";
import { openRunDir } from "../train/run_records.ts";

/** How a job ended: "trained", "resumed", "reused", or the trainer's "diverged"/"interrupted". */
export type JobStatus = "trained" | "resumed" | "reused" | "diverged" | "interrupted";

/**
 * The plan for a run folder of compare or sweep: the run with `config`, reused when finished,
 * resumed when stopped, started in an empty folder; refused naming the differences when the
 * folder holds a run with other settings (device and data folder aside), or results but no
 * checkpoint to go on from ({@link planRun}'s "reuse").
 */
export function planJob(dir: string, config: TrainConfig): RunPlan {
  return planRun(dir, { intent: "reuse", config });
}

/** How {@link runJob} went: the plan carried out, and how training ended (null: reused). */
export interface JobRun {
  /** The plan made under the run folder's lock. */
  plan: RunPlan;
  /** The trainer's status, null when the plan reused a finished run. */
  trained: TrainStatus | null;
  /** The trainer's message when the run did not complete. */
  message?: string;
}

/**
 * A run a job may fork instead of starting from scratch: an HLGM run of the same settings and
 * seed, at its switch (its plain epochs are the job's own, so the results are the same).
 */
export interface JobFork {
  /** The HLGM run folder. */
  source: string;
  /**
   * The job must fork there (SGT from the plateau): a folder holding a run not forked from it
   * is refused, and so is a source without a switch. Otherwise (a baseline) the job forks when
   * it can and trains from scratch when it cannot, which gives the same run.
   */
  required: boolean;
}

/**
 * Plans `dir` for `config` again under the run folder's lock (so what another process did
 * there since an earlier check counts), tells `onPlan`, and carries the plan out. With `fork`,
 * a run that would start from scratch forks from `fork.source` at its switch instead.
 */
export async function runJob(
  dir: string,
  config: TrainConfig,
  hooks: TrainHooks = {},
  onPlan?: (plan: RunPlan) => void,
  fork?: JobFork,
): Promise<JobRun> {
  return await withRunFolderLock(dir, "train", async () => {
    let plan = planJob(dir, config);
    if (fork?.required && plan.action !== "start") checkForkedFrom(dir, fork.source);
    if (fork && plan.action === "start") {
      plan = forkPlan(plan, config, fork, hooks.vocabulary ?? LIBRARY_VOCABULARY);
    }
    onPlan?.(plan);
    if (plan.action === "reuse") return { plan, trained: null };
    const r = await trainPlan(plan, hooks);
    return { plan, trained: r.status, ...(r.message ? { message: r.message } : {}) };
  });
}

/** `start` as a fork of `fork.source` at its switch (see {@link JobFork}). */
function forkPlan(
  start: RunPlan & { action: "start" },
  config: TrainConfig,
  fork: JobFork,
  v: Vocabulary,
) {
  const ask = (at: "switch" | "last") =>
    planRun(start.runDir, {
      intent: "fork",
      source: fork.source,
      at,
      settings: config,
      overwrite: start.overwrite,
    });
  try {
    return ask("switch");
  } catch (e) {
    if (!(e instanceof RunPlanError) || fork.required) throw e;
    // an HLGM run that never switched is the baseline through its last epoch
    if (e.refusal === "no-switch") return ask("last");
    return { ...start, note: `trained from scratch: ${messageIn(e, v)}` };
  }
}

/** Refuses a folder whose run was not forked from `source` (compare's SGT from the switch). */
function checkForkedFrom(dir: string, source: string): void {
  const from = openRunDir(dir).readInfo().forkedFrom;
  if (!from || resolve(from.run) !== resolve(source) || from.at !== "switch") {
    throw new RunPlanError(
      "other-settings",
      `${dir} holds a run that was not forked from ${source} at its switch; remove it or ` +
        `choose another folder`,
    );
  }
}

/** The job status of a training call that carried out `plan` (null: nothing trained). */
export function jobStatus(plan: RunPlan, trained: TrainStatus | null): JobStatus {
  if (plan.action === "reuse" || trained === null) return "reused";
  if (trained !== "completed") return trained;
  return plan.action === "resume" ? "resumed" : "trained";
}

/** What a job starting on `plan` says: training into, resuming after an epoch, or reusing. */
export function jobStartLine(plan: RunPlan): string {
  switch (plan.action) {
    case "reuse":
      return `reusing the finished run in ${plan.runDir}`;
    case "resume":
      return `resuming ${plan.runDir} after epoch ${plan.last.epoch}`;
    case "start":
      return `training into ${plan.runDir}`;
    case "fork":
      return `forking ${plan.info.forkedFrom.run} after its epoch ${plan.from.epoch} into ` +
        plan.runDir;
  }
}

/** The epoch `rule` picks in a run (null when it has none), and why it fell back, if it did. */
export function checkpointOf(
  dir: string,
  rule: CheckpointRule,
): { epoch: number | null; note: string | null } {
  try {
    const { epoch, note } = openRunDir(dir).checkpoints.resolveCheckpoint(rule);
    return { epoch, note };
  } catch {
    return { epoch: null, note: null }; // no checkpoint, or saved before best-after-switch was kept
  }
}

/** The last plain epoch before HLGM's masked phase, or null when the run never switched. */
export function switchEpoch(metrics: readonly EpochMetrics[]): number | null {
  const first = metrics.find((m) => m.phase === "sgt");
  return first ? first.epoch - 1 : null;
}

/** What to score in {@link sibOfRunCached}. */
export interface RunSibChoice {
  /** Test images, or "all". */
  n: number | "all";
  /** Attribution method. */
  method: SibMethod;
  /** The x values. */
  percents: readonly number[];
  /** Checkpoint rule. */
  checkpoint: CheckpointRule;
  /** Device. */
  device?: string;
  /** Checked between batches. */
  shouldStop?: () => boolean;
  /** Called when the run is scored now (not cached), with the checkpoint's epoch. */
  onScoring?: (epoch: number | null) => void;
}

/**
 * The run's SIB on `choice`, ranking the saliency as the run was trained (its
 * --saliency-sign): its sib.json when that scored the same method, images, x values, sign and
 * checkpoint epoch, else scored now and written to RUNDIR/sib.json. `cached` says which.
 */
export async function sibOfRunCached(
  dir: string,
  choice: RunSibChoice,
): Promise<{ sib: SibEvaluation; cached: boolean; epoch: number | null }> {
  const { epoch } = checkpointOf(dir, choice.checkpoint);
  const old = readSibFile(dir) as SibEvaluation | null;
  const sign = sibSign(openRunDir(dir).readInfo().config);
  const fresh = old !== null && old.method === choice.method && old.epoch === epoch &&
    (old.saliency_sign ?? "abs") === sign &&
    (old.checkpoint ?? "best") === choice.checkpoint && (old.seed ?? 0) === 0 &&
    JSON.stringify(old.percents) === JSON.stringify(choice.percents) &&
    (old.n_requested ?? old.n) === choice.n;
  if (fresh) return { sib: old, cached: true, epoch };
  choice.onScoring?.(epoch);
  const sib = await evaluateSib(dir, undefined, {
    n: choice.n,
    method: choice.method,
    percents: choice.percents,
    which: choice.checkpoint,
    device: choice.device,
    shouldStop: choice.shouldStop,
  });
  writeSibFile(dir, sib);
  return { sib, cached: false, epoch };
}

/**
 * True when a faith.json's settings of the scores whose settings are fixed (deletion,
 * insertion, infidelity, sensitivity) are today's: a file scored with other defaults is stale.
 */
function sameFixedSettings(settings: Record<string, unknown> | undefined): boolean {
  return (["deletion", "insertion", "infidelity", "sensitivity"] as const).every((k) =>
    settings?.[k] === undefined || JSON.stringify(settings[k]) === JSON.stringify(FAITH_SETTINGS[k])
  );
}

/** What to score in {@link faithOfRunCached}. */
export interface RunFaithChoice {
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
  /** Called when the run is scored now (not cached), with the checkpoint's epoch. */
  onScoring?: (epoch: number | null) => void;
}

/**
 * The run's faithfulness on `choice` (seed 0, maps ranked as the run was trained): its
 * faith.json when that scored the same scores, method, images, sign and checkpoint epoch with
 * today's settings, else
 * scored now and written to RUNDIR/faith.json. `cached` says which.
 */
export async function faithOfRunCached(
  dir: string,
  choice: RunFaithChoice,
): Promise<{ faith: FaithEvaluation; cached: boolean }> {
  const { epoch } = checkpointOf(dir, choice.checkpoint);
  const old = readRunScoreFile(dir, "faith.json") as FaithEvaluation | null;
  const sign = sibSign(openRunDir(dir).readInfo().config);
  const fresh = old !== null && old.method === choice.method && old.epoch === epoch &&
    old.saliency_sign === sign && old.checkpoint === choice.checkpoint && old.seed === 0 &&
    old.n_requested === choice.n && old.reduction === "mean" &&
    JSON.stringify(old.metrics) === JSON.stringify(choice.metrics) &&
    sameFixedSettings(old.settings);
  if (fresh) return { faith: old, cached: true };
  choice.onScoring?.(epoch);
  const faith = await evaluateFaith(dir, undefined, {
    n: choice.n,
    metrics: choice.metrics,
    method: choice.method,
    which: choice.checkpoint,
    device: choice.device,
    shouldStop: choice.shouldStop,
  });
  writeRunScoreFile(dir, "faith.json", faith);
  return { faith, cached: false };
}
