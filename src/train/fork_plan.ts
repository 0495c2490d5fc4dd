/**
 * Planning a fork: a new run that starts from another run's complete state at one of its epochs
 * (weights, optimizer state, RNG, schedule, best epochs) with its records up to that epoch, and
 * goes on with settings that may differ in the method, the masking and schedule, the epoch count
 * and how it computes (FORK_SETTINGS). With the same seed and data, a baseline forked from an
 * HLGM run at its switch is the baseline trained from scratch, epoch for epoch: HLGM's plain
 * epochs are the baseline's. Reads only; the trainer writes the new folder (trainer.ts).
 *
 * @module
 */

import { checkedConfig, FORK_SETTINGS, savedConfig, scheduleOf } from "./config.ts";
import type { TrainConfig } from "./config.ts";
import { RunPlanError } from "./plan_error.ts";
import { type RecordedEpoch, replaySchedule } from "./schedule.ts";
import type { EpochMetrics, ForkOrigin, ForkPoint, TrainerState } from "../run_folder/mod.ts";
import { runFolderWriter, writerText } from "../run_folder/run_lock.ts";
import { SettingError, type Vocabulary } from "../util/vocabulary.ts";
import { resolve } from "node:path";
import { openRunDir, type TrainRunDir, type TrainRunInfo } from "./run_records.ts";

/** Which epoch of the source a fork starts from: a number, HLGM's "switch", or its "last". */
export type ForkAt = number | "switch" | "last";

/** A new run in the folder, from another run's state at one of its epochs. */
export interface ForkRequest {
  /** Fork another run. */
  intent: "fork";
  /** The run folder forked from. */
  source: string;
  /** Its epoch (default "last"): kept ones (keepEvery, HLGM's switch) and the last. */
  at?: ForkAt;
  /** Settings that differ from the source's: only {@link FORK_SETTINGS}. */
  settings?: Partial<TrainConfig>;
  /** Fork over a folder that holds results of a run (they are removed first). */
  overwrite?: boolean;
}

/** A fork: the new folder's records and the checkpoint it goes on from. */
export interface ForkPlan {
  /** Forks a run. */
  action: "fork";
  /** The new run folder. */
  runDir: string;
  /** The fork's settings. */
  config: TrainConfig;
  /** A warning to show: the fork's schedule would have run some recorded epochs otherwise. */
  note: string | null;
  /** The folder's results are removed first. */
  overwrite: boolean;
  /** The new config.json, less what the trainer knows only when it runs (device, created). */
  info: Omit<TrainRunInfo, "device" | "created"> & { forkedFrom: ForkOrigin };
  /** The source's checkpoint: its folder and record. */
  from: ForkPoint;
  /** The record the fork's checkpoint gets (its schedule state is the fork schedule's). */
  last: TrainerState;
  /** The source's epochs up to the fork's, its first metrics lines. */
  metrics: EpochMetrics[];
}

/**
 * `source[@EPOCH|@switch|@last]` split into the folder and the epoch ("last" when none); a
 * folder whose name holds "@" is taken whole unless what follows the last "@" is an epoch.
 */
export function parseForkSource(text: string): { source: string; at: ForkAt } {
  const m = text.match(/^(.+)@(\d+|switch|last)$/);
  if (!m) return { source: text, at: "last" };
  const at = /^\d+$/.test(m[2]) ? Number(m[2]) : m[2] as "switch" | "last";
  return { source: m[1], at };
}

/** Plans `request` in `runDir` (see {@link ForkRequest}); throws what to do instead. */
export function planFork(runDir: string, request: ForkRequest): ForkPlan {
  const src = openRunDir(request.source);
  if (resolve(request.source) === resolve(runDir)) {
    throw new RunPlanError(
      "holds-run",
      (v) => `${runDir} is the run forked from: a fork goes into ${v.anotherFolder()}`,
    );
  }
  if (!src.exists()) {
    throw new RunPlanError(
      "not-a-run",
      `${request.source}: not a run folder (no readable config.json) to fork from`,
    );
  }
  let saved: TrainRunInfo;
  try {
    saved = src.readInfo();
  } catch (e) {
    throw new RunPlanError("bad-record", (e as Error).message, { cause: e });
  }
  const target = openRunDir(runDir);
  if (!request.overwrite && target.hasResults()) {
    throw new RunPlanError(
      "holds-run",
      (v) =>
        `${runDir} already holds a run; choose ${v.anotherFolder()}, or add ` +
        `${v.overwrite()} to fork over it`,
    );
  }
  const { config, changed } = forkConfig(request.source, saved.config, request.settings ?? {});
  const sourceMetrics = src.readMetrics();
  const from = forkPoint(src, saved.config, sourceMetrics, request.at ?? "last");
  if (config.epochs < from.epoch) {
    throw new SettingError(
      ["epochs"],
      (v) =>
        `a fork of ${request.source} after its epoch ${from.epoch} runs to at least that ` +
        `epoch; ${v.setting("epochs")} is ${config.epochs}`,
    );
  }
  const metrics = sourceMetrics.filter((m) => m.epoch <= from.epoch);
  if (metrics.length !== from.epoch || metrics.some((m, i) => m.epoch !== i + 1)) {
    throw new RunPlanError(
      "bad-record",
      `${request.source}/metrics.jsonl does not hold epochs 1 to ${from.epoch} in order ` +
        `(${metrics.length} lines up to it), so the fork would have no records of them`,
    );
  }
  const replay = replaySchedule(scheduleOf(config), metrics as RecordedEpoch[]);
  const differs = describeDifferences(replay.differing);
  const origin: ForkOrigin = {
    run: resolve(request.source),
    epoch: from.epoch,
    at: request.at === "switch" ? "switch" : typeof request.at === "number" ? "epoch" : "last",
    changed,
    differs,
  };
  const { device: _d, created: _c, ...rest } = saved;
  return {
    action: "fork",
    runDir,
    config,
    note: differs &&
      `${runDir} is not the run its settings give from the start: ${differs}`,
    overwrite: request.overwrite ?? false,
    info: { ...rest, config, forkedFrom: origin },
    from,
    last: { ...from.state, schedule: replay.state as unknown as Record<string, unknown> },
    metrics,
  };
}

/** The fork's settings: the source's, with `given` ones that a fork may change. */
function forkConfig(
  source: string,
  saved: TrainConfig,
  given: Partial<TrainConfig>,
): { config: TrainConfig; changed: string[] } {
  // settings added since the source was saved take what it ran as
  const before = savedConfig(saved) as unknown as Record<string, unknown>;
  const differs = Object.entries(given).filter(([k, v]) =>
    v !== undefined && JSON.stringify(before[k]) !== JSON.stringify(v)
  );
  const refused = differs.filter(([k]) => !FORK_SETTINGS.includes(k));
  if (refused.length) {
    throw new SettingError(
      refused.map(([k]) => k),
      (v) =>
        `a fork of ${source} keeps its ${
          refused.map(([k, given]) =>
            `${v.setting(k)} (${JSON.stringify(before[k] ?? null)}, given ${JSON.stringify(given)})`
          ).join(", ")
        }: it may change only the method, the masking and schedule settings, the epochs, ` +
        `the precision and the device`,
    );
  }
  const config = { ...before, ...Object.fromEntries(differs) } as unknown as TrainConfig;
  checkedConfig(config);
  const changed = differs.map(([k, v]) =>
    `${k} ${JSON.stringify(before[k] ?? null)} -> ${JSON.stringify(v)}`
  );
  return { config, changed };
}

/** The source's checkpoint at `at`, or the refusal naming the epochs it has. */
function forkPoint(
  src: TrainRunDir,
  saved: TrainConfig,
  metrics: EpochMetrics[],
  at: ForkAt,
): ForkPoint {
  const points = src.checkpoints.forkPoints();
  const available = () =>
    points.length
      ? `it keeps the whole state of epoch${points.length > 1 ? "s" : ""} ${
        points.map((p) => p.epoch).join(", ")
      }`
      : "it has no checkpoint that loads";
  const keepMore = (v: Vocabulary) => `(a run keeps more with ${v.setting("keepEvery")})`;
  let epoch: number;
  if (at === "last") {
    const writer = runFolderWriter(src.path);
    if (writer) {
      throw new RunPlanError(
        "source-busy",
        `${writerText(src.path, writer)}: its last checkpoint moves on while it trains; fork ` +
          `it at an epoch it kept (@switch, @N: ${available()}) or once it has stopped`,
      );
    }
    const last = points.at(-1);
    if (!last || last.folder !== src.checkpoints.folder) {
      throw new RunPlanError(
        "no-checkpoint",
        `${src.path} has no last checkpoint to fork from (no epoch has ended, or last.json ` +
          `and every checkpoint fail to load); ${available()}`,
      );
    }
    return last;
  } else if (at === "switch") {
    epoch = switchEpoch(src, saved, metrics);
  } else {
    if (!Number.isInteger(at) || at < 1) {
      throw new SettingError([], `a fork's epoch must be a positive integer, got ${at}`);
    }
    epoch = at;
  }
  const point = points.find((p) => p.epoch === epoch);
  if (!point) {
    throw new RunPlanError(
      "no-checkpoint",
      (v) =>
        `${src.path}: the state of epoch ${epoch}${
          at === "switch" ? " (its switch)" : ""
        } was not kept, so there is nothing to fork from there; ${available()} ${keepMore(v)}`,
    );
  }
  return point;
}

/** HLGM's last plain epoch in the source, or the refusal saying why it has none. */
function switchEpoch(src: TrainRunDir, saved: TrainConfig, metrics: EpochMetrics[]): number {
  if (saved.method !== "hlgm") {
    throw new RunPlanError(
      "no-switch",
      `${src.path} is a ${saved.method} run: only hlgm switches from plain training to ` +
        `masking; fork it at an epoch (@N) instead`,
    );
  }
  const firstMasked = metrics.find((m) => m.phase === "sgt");
  if (firstMasked) return firstMasked.epoch - 1;
  let last: TrainerState | null = null;
  try {
    last = src.checkpoints.lastCheckpoint()?.state ?? null;
  } catch { /* no checkpoint: not switched, below */ }
  // switched after the last epoch saved: the next one would be the first masked
  if (last && (last.schedule as { phase?: string }).phase === "sgt") return last.epoch;
  throw new RunPlanError(
    "no-switch",
    `${src.path} has not switched to masking (${metrics.length} plain epochs so far), so it has ` +
      `no switch to fork from`,
  );
}

/** The recorded epochs a fork's schedule would have run otherwise, in words; null for none. */
function describeDifferences(differing: ReturnType<typeof replaySchedule>["differing"]) {
  if (!differing.length) return null;
  const what = (mode: string, k: number | null) => k === null ? mode : `${mode} k=${k}`;
  const first = differing[0];
  const span = differing.length === 1
    ? `epoch ${first.epoch}`
    : `${differing.length} epochs from ${first.epoch} to ${differing.at(-1)!.epoch}`;
  return `its schedule would have run ${span} otherwise (epoch ${first.epoch}: ` +
    `${what(first.planned.mode, first.planned.k)}, where the source ran ` +
    `${what(first.recorded.mode, first.recorded.k)})`;
}
