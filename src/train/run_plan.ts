/**
 * What becomes of a run folder, decided in one place. {@link planRun} reads what the folder
 * holds (its config.json, its checkpoint, whether it has results), weighs it against the
 * settings wanted and the intent, and returns a plan (start, resume or reuse) or throws one
 * {@link RunPlanError} (or {@link SettingError}) saying what to do instead. `train()`,
 * `hlgm train`, the demo, compare, sweep, a sweep's worker and every rank of a data-parallel
 * run plan through it; the trainer carries a plan out and decides nothing about the folder.
 * Planning reads, never writes: call it while holding the folder's lock.
 *
 * @module
 */

import { checkedConfig, savedConfig, type TrainConfig } from "./config.ts";
import { configDifferences } from "./config_diff.ts";
import type { TrainerState } from "../run_folder/mod.ts";
import { messageIn, SettingError } from "../util/vocabulary.ts";
import { RunPlanError } from "./plan_error.ts";
import { type ForkPlan, type ForkRequest, planFork } from "./fork_plan.ts";
import { openRunDir, type TrainRunDir, type TrainRunInfo } from "./run_records.ts";

export { RunPlanError, type RunRefusal } from "./plan_error.ts";
export { type ForkAt, type ForkPlan, type ForkRequest, parseForkSource } from "./fork_plan.ts";

/**
 * What the caller wants of the folder:
 * - "new": a new run (a folder holding results is refused unless `overwrite`);
 * - "resume": go on with the run in the folder, with its saved settings (`settings.epochs`
 *   extends it; with `overwrite`, a run with no checkpoint to go on from starts over);
 * - "reuse": the run with these settings, however far it got: a finished one is reused, a
 *   stopped one resumed, an empty folder started (compare, sweep, the demo);
 * - "restart": a launcher started the ranks again after a failure (torchrun's
 *   --max_restarts): resume from the last checkpoint that loads, else start over;
 * - "fork": a new run from another run's state at one of its epochs (fork_plan.ts).
 */
export type RunIntent = "new" | "resume" | "reuse" | "restart" | "fork";

/** What {@link planRun} is asked: an intent, with what it needs. */
export type RunRequest =
  | NewRequest
  | ResumeRequest
  | ReuseRequest
  | RestartRequest
  | ForkRequest;

/** A new run with `config`. */
export interface NewRequest {
  /** A new run. */
  intent: "new";
  /** The run's settings. */
  config: TrainConfig;
  /** Train over the folder's results (removed once the new run's data and model are ready). */
  overwrite?: boolean;
}

/** Going on with the run in the folder, with its saved settings. */
export interface ResumeRequest {
  /** Go on with the saved run. */
  intent: "resume";
  /**
   * Settings given again: each must equal the saved one, except `epochs`, which runs the run to
   * that many epochs (more than it has done; config.json is rewritten).
   */
  settings?: Partial<TrainConfig>;
  /** Start the run over with its saved settings when it has no checkpoint that loads. */
  overwrite?: boolean;
}

/** The run with `config`'s settings, however far it got (compare, sweep, the demo). */
export interface ReuseRequest {
  /** Reuse, resume or start the run with these settings. */
  intent: "reuse";
  /** The run's settings; a saved run may differ only in its device, data folder and layout. */
  config: TrainConfig;
}

/** The ranks started again after a failure (torchrun's --max_restarts). */
export interface RestartRequest {
  /** Go on from the checkpoint that loads, else start over. */
  intent: "restart";
  /** The run's settings, for a start. */
  config: TrainConfig;
  /** Settings given again, checked as "resume" checks them when the run goes on. */
  settings?: Partial<TrainConfig>;
}

/** What every plan holds: the folder, the settings it trains with, a note on its checkpoint. */
export interface PlanBase {
  /** The run folder. */
  runDir: string;
  /**
   * The settings the run trains with: for a resumed or reused run its saved ones (its saved
   * device and data folder too), with the epoch count asked for.
   */
  config: TrainConfig;
  /**
   * A warning: why the checkpoint taken is not last.json's (it could not be used); for a fork,
   * which recorded epochs its schedule would have run otherwise. Null when none.
   */
  note: string | null;
}

/** A run starts from its first epoch. */
export interface StartPlan extends PlanBase {
  /** Starts a run. */
  action: "start";
  /** The folder's results are removed first (once the new run's data and model are ready). */
  overwrite: boolean;
}

/** A run goes on from its checkpoint. */
export interface ResumePlan extends PlanBase {
  /** Resumes a run. */
  action: "resume";
  /** The saved config.json. */
  saved: TrainRunInfo;
  /** The checkpoint it goes on from. */
  last: TrainerState;
  /** The epoch count asked for differs from the saved one (config.json is rewritten). */
  extended: boolean;
}

/** A run that has all its epochs: nothing to train. */
export interface ReusePlan extends PlanBase {
  /** Reuses a finished run. */
  action: "reuse";
  /** Its last epoch. */
  epoch: number;
}

/** What training will do in a run folder. */
export type RunPlan = StartPlan | ResumePlan | ReusePlan | ForkPlan;

/**
 * What training would do in `runDir` for `request`, read from the folder (nothing is written):
 * - "new": start; a folder holding results is refused ("holds-run") unless `overwrite`;
 * - "resume": go on from the checkpoint that loads (`settings.epochs` extends the run), reuse a
 *   finished run, or, with `overwrite` and nothing to go on from, start over with the saved
 *   settings; any other setting given must equal the saved one ({@link SettingError});
 * - "reuse": reuse the finished run with `config`'s settings, resume it when stopped, start in
 *   an empty folder; other settings are refused ("other-settings");
 * - "restart": resume from the checkpoint that loads, else start over.
 *
 * A refusal is a {@link RunPlanError} whose `refusal` says why and whose message says what to
 * do; a setting that cannot be (an epoch count, a changed setting) is a {@link SettingError},
 * and an invalid `config` a RangeError listing its problems. Hold the folder's lock
 * ({@link lockRunFolder}) from planning until the plan is carried out ({@link trainPlan}), so
 * that no other process changes the folder in between.
 *
 * @example Train a run unless it is already there
 * ```ts
 * import { defaultConfig, planRun, trainPlan, withRunFolderLock } from "../../mod.ts";
 * const config = defaultConfig({ dataset: "synthetic", subset: 256, epochs: 2 });
 * await withRunFolderLock("runs/a", "train", async () => {
 *   const plan = planRun("runs/a", { intent: "reuse", config });
 *   if (plan.action !== "reuse") await trainPlan(plan);
 * });
 * ```
 */
export function planRun(runDir: string, request: RunRequest): RunPlan {
  const dir = openRunDir(runDir);
  switch (request.intent) {
    case "new":
      return planStart(dir, checked(request), request.overwrite ?? false);
    case "resume":
      return planResume(dir, request);
    case "reuse":
      return planReuse(dir, checked(request));
    case "restart": {
      let last: TrainerState | null = null;
      try {
        last = dir.exists() ? dir.checkpoints.lastCheckpoint()?.state ?? null : null;
      } catch { /* nothing that loads: started over */ }
      if (last) return planResume(dir, { intent: "resume", settings: request.settings });
      return planStart(dir, checked(request), dir.hasResults());
    }
    case "fork":
      return planFork(runDir, request);
  }
}

/** The request's config, or a RangeError listing its problems. */
function checked(request: NewRequest | ReuseRequest | RestartRequest): TrainConfig {
  const config = request.config;
  // a call from plain JavaScript may leave it out
  if (!config) throw new TypeError(`a "${request.intent}" plan needs the run's config`);
  return checkedConfig(config);
}

function planStart(dir: TrainRunDir, config: TrainConfig, overwrite: boolean): StartPlan {
  const runDir = dir.path;
  if (!overwrite && dir.hasResults()) {
    throw new RunPlanError(
      "holds-run",
      (v) =>
        `${runDir} already holds a run; continue it with ${v.resume(runDir)}, choose ` +
        `${v.anotherFolder()}, or add ${v.overwrite()} to train over it`,
    );
  }
  return { action: "start", runDir, config, overwrite, note: null };
}

/**
 * Refuses to go on with `runDir` when it is no run folder (no config.json). Checked before the
 * folder is locked too, since locking makes a missing folder.
 */
export function assertRunFolder(runDir: string): void {
  if (!openRunDir(runDir).exists()) {
    throw new RunPlanError("not-a-run", `${runDir}: not a run folder (no readable config.json)`);
  }
}

/** The folder's config.json, or the refusal to resume without one. */
function savedInfo(dir: TrainRunDir): TrainRunInfo {
  assertRunFolder(dir.path);
  try {
    return dir.readInfo();
  } catch (e) {
    throw new RunPlanError("bad-record", (e as Error).message, { cause: e });
  }
}

function planResume(dir: TrainRunDir, request: ResumeRequest): RunPlan {
  const runDir = dir.path;
  const saved = savedInfo(dir);
  const { epochs, ...others } = request.settings ?? {};
  // settings added since the run was saved compare as what the run ran as
  const before = savedConfig(saved.config) as unknown as Record<string, unknown>;
  const changed = Object.entries(others).filter(([k, v]) =>
    v !== undefined && JSON.stringify(before[k]) !== JSON.stringify(v)
  );
  if (changed.length) {
    throw new SettingError(
      changed.map(([k]) => k),
      (v) =>
        `${runDir} continues with its saved settings; it cannot change ${
          changed.map(([k, given]) =>
            `${v.setting(k)} (saved ${JSON.stringify(before[k] ?? null)}, given ${
              JSON.stringify(given)
            })`
          ).join(", ")
        }; only ${v.setting("epochs")} can be raised`,
    );
  }
  let found: { state: TrainerState; note: string | null } | null;
  try {
    found = dir.checkpoints.lastCheckpoint();
  } catch (e) {
    if (request.overwrite) found = null;
    else {
      throw new RunPlanError(
        "unusable-checkpoint",
        (v) =>
          `${messageIn(e, v)}; add ${v.overwrite()} to start ${runDir} over with its ` +
          `saved settings`,
        { cause: e },
      );
    }
  }
  // checked before any plan: a start over with an impossible epoch count would clear the run
  const config = epochs === undefined ? saved.config : checkedEpochs(saved.config, epochs);
  if (!found) {
    if (request.overwrite) return { action: "start", runDir, config, overwrite: true, note: null };
    throw new RunPlanError(
      "no-checkpoint",
      (v) =>
        dir.hasResults()
          ? `${runDir} holds results of a run but no checkpoint to continue from ` +
            `(checkpoints/last.json is missing); add ${v.overwrite()} to start it over ` +
            `with its saved settings`
          : `${runDir}: the run has no checkpoint yet (it stopped before its first epoch ended), ` +
            `so there is nothing to continue; start it again with its settings, or add ` +
            `${v.overwrite()} to start it over in ${runDir} with its saved settings`,
    );
  }
  const { state: last, note } = found;
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > last.epoch)) {
    throw new SettingError(
      ["epochs"],
      (v) =>
        `${runDir} already has ${last.epoch} epochs done; ${v.setting("epochs")} must be ` +
        `more than that, got ${epochs}`,
    );
  }
  if (last.epoch >= config.epochs) {
    return { action: "reuse", runDir, config, epoch: last.epoch, note };
  }
  const extended = epochs !== undefined && epochs !== saved.config.epochs;
  return { action: "resume", runDir, config, saved, last, note, extended };
}

/** `saved` run to `epochs` epochs, refused when that is no epoch count. */
function checkedEpochs(saved: TrainConfig, epochs: number): TrainConfig {
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new SettingError(
      ["epochs"],
      (v) => `${v.setting("epochs")} must be a positive whole number of epochs, got ${epochs}`,
    );
  }
  return { ...saved, epochs };
}

function planReuse(dir: TrainRunDir, config: TrainConfig): RunPlan {
  const runDir = dir.path;
  let found: { state: TrainerState; note: string | null } | null;
  try {
    found = dir.exists() ? dir.checkpoints.lastCheckpoint() : null;
  } catch (e) {
    throw new RunPlanError(
      "unusable-checkpoint",
      (v) => `${messageIn(e, v)}; remove ${runDir} or choose ${v.anotherFolder()}`,
      { cause: e },
    );
  }
  if (!found) {
    if (dir.hasResults()) {
      throw new RunPlanError(
        "no-checkpoint",
        (v) =>
          `${runDir} holds results of a run but no checkpoint to continue from ` +
          `(checkpoints/last.json is missing); remove it or choose ${v.anotherFolder()}`,
      );
    }
    return { action: "start", runDir, config, overwrite: false, note: null };
  }
  const saved = savedInfo(dir);
  const diff = configDifferences(saved.config, config);
  if (diff.length) {
    throw new RunPlanError(
      "other-settings",
      (v) =>
        `${runDir} holds a run with other settings (${diff.join(", ")}); ` +
        `remove it or choose ${v.anotherFolder()}`,
    );
  }
  const { state: last, note } = found;
  if (last.epoch >= saved.config.epochs) {
    return { action: "reuse", runDir, config: saved.config, epoch: last.epoch, note };
  }
  return {
    action: "resume",
    runDir,
    config: saved.config,
    saved,
    last,
    note,
    extended: false,
  };
}
