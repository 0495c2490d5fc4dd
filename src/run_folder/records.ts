/**
 * What a run folder's files hold: config.json (RunInfo), a metrics.jsonl line (EpochMetrics,
 * and the columns metrics.csv mirrors), a checkpoint's record (last.json's TrainerState) and
 * where a checkpoint rule's files are. Types and the CSV only; the checks are
 * record_checks.ts's.
 *
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";
import type { WeightsFormat } from "../checkpoint/weights_file.ts";

/** One line of metrics.jsonl. */
export interface EpochMetrics {
  /** 1-based epoch. */
  epoch: number;
  /** "train" (plain) or "sgt". */
  phase: "train" | "sgt";
  /** "plain", "sgt", "regularize" or "denoise". */
  mode: "plain" | "sgt" | "regularize" | "denoise";
  /** Fraction masked (null for plain). */
  k: number | null;
  /** HLGM episode and its denoising-epoch count (null outside HLGM's sgt phase). */
  episode: number | null;
  /** Denoising epochs of the episode. */
  de: number | null;
  /** Learning rate. */
  lr: number;
  /** Mean training loss (CE + lambda * KL). */
  train_loss: number;
  /** Mean cross-entropy part. */
  train_ce: number;
  /** Mean KL part. */
  train_kl: number;
  /** Training accuracy (on unmasked inputs). */
  train_acc: number;
  /** Mean cross-entropy on the masked training inputs (null for plain epochs). */
  train_masked_loss: number | null;
  /** Training accuracy on the masked inputs (null for plain epochs). */
  train_masked_acc: number | null;
  /** Validation loss / accuracy (null without a validation split). */
  val_loss: number | null;
  /** Validation accuracy. */
  val_acc: number | null;
  /** Test loss. */
  test_loss: number;
  /** Test accuracy. */
  test_acc: number;
  /** Wall seconds of the epoch's training (without evaluation). */
  seconds: number;
  /** Training images per second. */
  images_per_s: number;
}

/** The columns of metrics.csv: every field of an epoch line, in this order. */
const METRIC_COLUMNS: readonly (keyof EpochMetrics)[] = Object.keys(
  {
    epoch: 1,
    phase: 1,
    mode: 1,
    k: 1,
    episode: 1,
    de: 1,
    lr: 1,
    train_loss: 1,
    train_ce: 1,
    train_kl: 1,
    train_acc: 1,
    train_masked_loss: 1,
    train_masked_acc: 1,
    val_loss: 1,
    val_acc: 1,
    test_loss: 1,
    test_acc: 1,
    seconds: 1,
    images_per_s: 1,
  } satisfies Record<keyof EpochMetrics, 1>,
) as (keyof EpochMetrics)[];

/** Epoch lines as CSV: a header of {@link METRIC_COLUMNS}, then a row per epoch (null: empty). */
export function metricsCsv(lines: readonly EpochMetrics[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  return [
    METRIC_COLUMNS.join(","),
    ...lines.map((l) => METRIC_COLUMNS.map((c) => cell(l[c])).join(",")),
  ]
    .join("\n") + "\n";
}

/** What config.json holds. */
/**
 * What is wrong with config.json's "config" (the training settings), one phrase per problem;
 * empty when it is a run's config. The engine supplies it (the run folder does not know the
 * settings), e.g. src/train/run_records.ts's.
 */
export type ConfigCheck = (config: Record<string, unknown>) => string[];

/** What config.json holds; `C` is the settings' type (the engine's TrainConfig). */
export interface RunInfo<C = Record<string, unknown>> {
  /** The resolved configuration. */
  config: C;
  /** Versions of hlgm, libtorch and Deno. */
  versions: Record<string, string>;
  /** The device actually used. */
  device: string;
  /** Sizes and shapes of the data. */
  data: { train: number; val: number; test: number; classes: readonly string[]; shape: number[] };
  /** When the run started (ISO). */
  created: string;
  /**
   * The `pretrained` weights the run started from (file, SHA-256, what was loaded and what
   * was left freshly initialised); absent when it started from a fresh initialisation.
   */
  pretrained?: PretrainedLoad;
  /** The run it was forked from, and at which epoch (train --fork); absent otherwise. */
  forkedFrom?: ForkOrigin;
}

/** Where a fork came from; config.json records it as `forkedFrom`. */
export interface ForkOrigin {
  /** The source run folder (absolute). */
  run: string;
  /** Its epoch the fork starts after. */
  epoch: number;
  /** How the epoch was asked for: "switch", "last" or "epoch". */
  at: "switch" | "last" | "epoch";
  /** The settings changed: `method "hlgm" -> "baseline"`, ... */
  changed: string[];
  /**
   * When the fork's schedule would have run some of the source's epochs otherwise (an SGT fork
   * of a plain phase): which, in words; null when it would have run them all as recorded, i.e.
   * the fork is the run its settings give from the start.
   */
  differs: string | null;
}

/** What loading a run's pretrained weights did; recorded in the run's config.json. */
export interface PretrainedLoad {
  /** The file, as an absolute path. */
  file: string;
  /** Its format. */
  format: WeightsFormat;
  /** SHA-256 of the file (hex). */
  sha256: string;
  /** Tensors copied into the model. */
  loaded: number;
  /** The head's keys left freshly initialised (its class count differed); [] if loaded. */
  headReplaced: string[];
  /** Model keys absent from the file and kept (BatchNorm num_batches_tracked counters). */
  kept: string[];
  /** What happened, in one line (printed when the run starts). */
  note: string;
}

/** A best epoch and its score. */
export interface BestEpoch {
  /** 1-based epoch. */
  epoch: number;
  /** Its score. */
  score: number;
  /** The metric scored (val_acc, or test_acc without a validation split). */
  metric: string;
}

/** The trainer state saved in last.json. */
export interface TrainerState {
  /** Last completed epoch. */
  epoch: number;
  /** Weights file (relative to checkpoints/). */
  weights: string;
  /** Optimizer/RNG tensors file. */
  state: string;
  /** Schedule state (phase, episode, kTop, plateau). */
  schedule: Record<string, unknown>;
  /** Optimizer type, options and step counts. */
  optimizer: { type: string; options: Record<string, number | boolean>; steps: number[] };
  /** Best epoch so far and its score. */
  best: BestEpoch | null;
  /** Best masked (SGT-phase) epoch so far (absent in runs saved before it was kept). */
  bestAfterSwitch?: BestEpoch | null;
  /** fp16-mixed runs: the loss scaler's scale and good-step count (torch's `scaler.state_dict()`). */
  gradScaler?: { scale: number; growthTracker: number } | null;
}

/** Where a checkpoint rule's weights are, as {@link CheckpointStore.resolve} finds them. */
export interface CheckpointLocation {
  /** The epoch. */
  epoch: number;
  /** Weights file (relative to checkpoints/). */
  weights: string;
  /** Optimizer/RNG tensors file (relative to checkpoints/), for the last checkpoint. */
  state?: string;
  /** Set when the rule fell back to another checkpoint: why, and which it took. */
  note: string | null;
}

/**
 * A checkpoint whole enough to fork another run from: weights, optimizer and RNG state and the
 * trainer record, in `folder` (a kept one, checkpoints/kept/epoch-NNNN, or the run's
 * checkpoints/ for its last).
 */
export interface ForkPoint {
  /** The epoch. */
  epoch: number;
  /** The folder holding its files (last.json names them). */
  folder: string;
  /** Its record (last.json's). */
  state: TrainerState;
}

/** A checkpoint's tensors: the weights, the optimizer and RNG state, its epoch and any note. */
export interface LoadedCheckpoint {
  /** The model's state dict. */
  weights: Map<string, Tensor>;
  /** Optimizer and RNG tensors (on the CPU); absent when the location names no state file. */
  state?: Map<string, Tensor>;
  /** Its epoch. */
  epoch: number;
  /** Why this checkpoint and not the one asked for, when it fell back; null otherwise. */
  note: string | null;
}
