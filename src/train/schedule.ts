/**
 * The training schedule of the three methods as pure functions of a small state, so it can be
 * tested on its own, saved in checkpoints and resumed exactly.
 *
 * - baseline: every epoch is plain cross-entropy.
 * - sgt: every epoch masks the bottom kBottom of the saliency map ("sgt").
 * - hlgm (the paper's Algorithm 2): phase "train" (plain) until the monitored value has not
 *   improved for `patience` epochs (at the latest after `switchBy` plain epochs, when given), or
 *   for the first `switchEpoch` epochs when given; then
 *   phase "sgt" in episodes of `episodeSize` (S) epochs. In episode e (from 0),
 *   de = min(de0 + e, S); its first S - de epochs "regularize" (mask the top kTop), the rest
 *   "denoise" (mask the bottom kBottom); with episodeOrder "pseudocode", S - de - 1 and de + 1
 *   (see regularizeEpochs below). kTop starts at kTop0 and drops by alpha after each
 *   regularize epoch (before it, with kTopDecay "before"), never below 0.
 *
 * @module
 */

import { LIBRARY_VOCABULARY, type Vocabulary } from "../util/vocabulary.ts";
import { type METHODS, type MONITORS, SETTINGS, type SettingsOf } from "./config_fields.ts";

/** Training method (one of the settings table's METHODS). */
export type Method = typeof METHODS[number];

/** What decides the end of HLGM's plain phase. */
export type Monitor = typeof MONITORS[number];

/** The settings the schedule reads (the settings table's rows say what each means). */
export const SCHEDULE_KEYS = [
  "method",
  "kBottom",
  "kTop",
  "alpha",
  "episodeSize",
  "de",
  "patience",
  "monitor",
  "switchEpoch",
  "switchBy",
  "kTopDecay",
  "minDelta",
  "episodeOrder",
] as const;

/** Schedule settings: the training settings of {@link SCHEDULE_KEYS}. */
export type ScheduleConfig = Pick<SettingsOf<typeof SETTINGS>, typeof SCHEDULE_KEYS[number]>;

/** Where the schedule stands (saved in checkpoints). */
export interface ScheduleState {
  /** "train" (plain) or "sgt" (masking). */
  phase: "train" | "sgt";
  /** Current episode of the sgt phase (from 0). */
  episode: number;
  /** Epochs done in the current episode. */
  epochInEpisode: number;
  /** Current top-mask fraction. */
  kTop: number;
  /** Best monitored value seen in the plain phase (null before the first). */
  best: number | null;
  /** Epochs since the best improved. */
  plateau: number;
}

/** What one epoch does. */
export interface EpochPlan {
  /** Phase of the epoch. */
  phase: "train" | "sgt";
  /** plain = cross-entropy; sgt/denoise mask the bottom k; regularize masks the top k. */
  mode: "plain" | "sgt" | "regularize" | "denoise";
  /** Fraction masked (null for plain). */
  k: number | null;
  /** Denoising epochs of the current episode (hlgm sgt phase; null otherwise). */
  de: number | null;
  /** Episode index (hlgm sgt phase; null otherwise). */
  episode: number | null;
}

/** The state before the first epoch. */
export function initialState(config: ScheduleConfig): ScheduleState {
  return {
    phase: config.method === "sgt" ? "sgt" : "train",
    episode: 0,
    epochInEpisode: 0,
    kTop: config.kTop,
    best: null,
    plateau: 0,
  };
}

/** What the next epoch does. */
export function planEpoch(config: ScheduleConfig, state: ScheduleState): EpochPlan {
  if (config.method === "baseline") {
    return { phase: "train", mode: "plain", k: null, de: null, episode: null };
  }
  if (config.method === "sgt") {
    return { phase: "sgt", mode: "sgt", k: config.kBottom, de: null, episode: null };
  }
  if (state.phase === "train") {
    return { phase: "train", mode: "plain", k: null, de: null, episode: null };
  }
  const de = Math.min(config.de + state.episode, config.episodeSize);
  return state.epochInEpisode < regularizeEpochs(config, de)
    ? {
      phase: "sgt",
      mode: "regularize",
      k: regularizeK(config, state),
      de,
      episode: state.episode,
    }
    : { phase: "sgt", mode: "denoise", k: config.kBottom, de, episode: state.episode };
}

/**
 * Regularize epochs at the start of an episode of S epochs, for the episode's de.
 *
 * - "prose" (default): S - de. The paper's text: "During the first episode, S_e - de epochs
 *   are regularized-SGT, and the de epoch is denoising."
 * - "pseudocode": S - de - 1 (never below 0). Algorithm 2 counts epochs inside the episode with
 *   `episode`, set to 0 at the switch and at the end of each episode, and runs `episode++`
 *   *before* testing `if (episode < S_e - de)`: the counter is 1 .. S_e when tested, so only
 *   epochs 1 .. S_e - de - 1 regularize and the last de + 1 denoise.
 *
 * Both keep episodes of S epochs with de growing by one per episode up to S (Algorithm 2's
 * `if ((episode == S_e) & (de < S_e)) de++`), so the pseudo-code's episodes are all-denoise from
 * de = S - 1 on, the prose's from de = S.
 */
function regularizeEpochs(config: ScheduleConfig, de: number): number {
  const n = config.episodeSize - de;
  return config.episodeOrder === "pseudocode" ? Math.max(0, n - 1) : n;
}

/** k of a regularize epoch: kTop, or kTop - alpha when the drop comes before the masking. */
function regularizeK(config: ScheduleConfig, state: ScheduleState): number {
  return config.kTopDecay === "before" ? dropped(state.kTop, config.alpha) : state.kTop;
}

/** k - alpha, at least 0, without float dust (0.2 - 0.02 is 0.18). */
function dropped(k: number, alpha: number): number {
  return Math.max(0, Math.round((k - alpha) * 1e12) / 1e12);
}

/** Values an epoch reports to the schedule. */
export interface EpochValues {
  /** 1-based epoch just finished. */
  epoch: number;
  /** Validation accuracy (null without a validation split). */
  valAcc: number | null;
  /** Validation loss (null without a validation split). */
  valLoss: number | null;
  /** Mean training loss. */
  trainLoss: number;
}

/** The state after an epoch that followed `plan`. */
export function advance(
  config: ScheduleConfig,
  state: ScheduleState,
  plan: EpochPlan,
  values: EpochValues,
): ScheduleState {
  const next = { ...state };
  if (plan.mode === "regularize") next.kTop = dropped(state.kTop, config.alpha);
  if (config.method !== "hlgm") return next;
  if (state.phase === "sgt") {
    next.epochInEpisode++;
    if (next.epochInEpisode >= config.episodeSize) {
      next.episode++;
      next.epochInEpisode = 0;
    }
    return next;
  }
  // plain phase: plateau bookkeeping, then maybe switch
  const value = monitored(config.monitor, values);
  const higherIsBetter = config.monitor === "val_acc";
  if (value !== null) {
    const delta = config.minDelta ?? SETTINGS.minDelta.absentMeans;
    const improved = next.best === null ||
      (higherIsBetter ? value > next.best + delta : value < next.best - delta);
    if (improved) {
      next.best = value;
      next.plateau = 0;
    } else {
      next.plateau++;
    }
  }
  const switchNow = config.switchEpoch !== undefined
    ? values.epoch >= config.switchEpoch
    : next.plateau >= config.patience ||
      (config.switchBy !== undefined && values.epoch >= config.switchBy);
  if (switchNow) {
    next.phase = "sgt";
    next.episode = 0;
    next.epochInEpisode = 0;
  }
  return next;
}

function monitored(monitor: Monitor, v: EpochValues): number | null {
  switch (monitor) {
    case "val_acc":
      return v.valAcc;
    case "val_loss":
      return v.valLoss;
    case "train_loss":
      return v.trainLoss;
  }
}

/** An epoch as a run recorded it: what it did and the values the schedule watches. */
export interface RecordedEpoch {
  /** 1-based epoch. */
  epoch: number;
  /** What the epoch did. */
  mode: EpochPlan["mode"];
  /** Fraction masked (null for plain). */
  k: number | null;
  /** Validation accuracy (null without a validation split). */
  val_acc: number | null;
  /** Validation loss. */
  val_loss: number | null;
  /** Mean training loss. */
  train_loss: number;
}

/** Where {@link replaySchedule} leaves a schedule, and the epochs it would have run otherwise. */
export interface Replay {
  /** The state after the last epoch. */
  state: ScheduleState;
  /** Epochs whose recorded mode or k differs from this schedule's plan for them. */
  differing: { epoch: number; planned: EpochPlan; recorded: RecordedEpoch }[];
}

/**
 * The state `config`'s schedule reaches after the recorded `epochs` (1, 2, ... in order), fed
 * their recorded values: the state a run with this schedule has at the end of them, when it
 * trained them as recorded. A fork starts from it. Epochs that this schedule would have run
 * otherwise (another mode, or another k) are listed.
 */
export function replaySchedule(config: ScheduleConfig, epochs: readonly RecordedEpoch[]): Replay {
  let state = initialState(config);
  const differing: Replay["differing"] = [];
  for (const e of epochs) {
    const plan = planEpoch(config, state);
    if (plan.mode !== e.mode || plan.k !== e.k) {
      differing.push({ epoch: e.epoch, planned: plan, recorded: e });
    }
    state = advance(config, state, plan, {
      epoch: e.epoch,
      valAcc: e.val_acc,
      valLoss: e.val_loss,
      trainLoss: e.train_loss,
    });
  }
  return { state, differing };
}

/** The (phase, mode, k) of every epoch of a run whose monitored value never changes. */
export function previewSchedule(config: ScheduleConfig, epochs: number): EpochPlan[] {
  let state = initialState(config);
  const plans: EpochPlan[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const plan = planEpoch(config, state);
    plans.push(plan);
    state = advance(config, state, plan, { epoch, valAcc: 0.5, valLoss: 1, trainLoss: 1 });
  }
  return plans;
}

const pctOf = (k: number) => `${Math.round(k * 1000) / 10}%`;

/**
 * The schedule in words, for the line printed before a run: what the plain phase is, when the
 * switch comes, and what the episodes do.
 */
export function describeSchedule(config: ScheduleConfig, epochs: number): string {
  const n = `${epochs} epoch${epochs === 1 ? "" : "s"}`;
  switch (config.method) {
    case "baseline":
      return `baseline: plain cross-entropy for ${n}`;
    case "sgt":
      return `sgt: every epoch masks the ${pctOf(config.kBottom)} least salient pixels, ${n}`;
    case "hlgm": {
      const until = config.switchEpoch !== undefined
        ? `plain until epoch ${config.switchEpoch}`
        : `plain until ${config.monitor} stops improving for ${config.patience} epochs${
          config.switchBy !== undefined ? ` (at most until epoch ${config.switchBy})` : ""
        }`;
      // denoise epochs of the first episode: de (prose), de + 1 (Algorithm 2's order)
      const denoise = Math.min(
        config.episodeSize,
        config.de + (config.episodeOrder === "pseudocode" ? 1 : 0),
      );
      return `hlgm: ${until}, then episodes of ${config.episodeSize} epochs (regularize: mask ` +
        `the ${pctOf(config.kTop)} most salient pixels, falling by ${pctOf(config.alpha)} an ` +
        `epoch; then ${denoise}+ denoise epochs masking the ${
          pctOf(config.kBottom)
        } least salient); at most ${n}`;
    }
  }
}

/**
 * Why an hlgm schedule can never reach its masked phase within `epochs`, or null when it can:
 * the plateau rule needs patience + 1 epochs before the switch, a fixed switch its epoch.
 */
export function unreachableSwitch(
  config: ScheduleConfig,
  epochs: number,
  v: Vocabulary = LIBRARY_VOCABULARY,
): string | null {
  if (config.method !== "hlgm") return null;
  if (config.switchEpoch !== undefined) {
    return config.switchEpoch >= epochs
      ? `${
        v.setting("switchEpoch")
      } ${config.switchEpoch} is not before the last epoch (${epochs}): ` +
        `the run is all plain training, the same as baseline`
      : null;
  }
  if (config.switchBy !== undefined && config.switchBy < epochs) return null;
  const limit = config.switchBy === undefined
    ? `give ${v.setting("switchBy")} or ${v.setting("switchEpoch")}`
    : `a ${v.setting("switchBy")} below ${epochs}`;
  return config.patience + 1 >= epochs
    ? `with patience ${config.patience}, the earliest plateau switch comes after epoch ` +
      `${config.patience + 1}, and the run has ${epochs}: it is all plain training, the same ` +
      `as baseline (lower ${v.setting("patience")}, or ${limit})`
    : null;
}
