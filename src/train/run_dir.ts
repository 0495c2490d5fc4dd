/**
 * The run folder: config.json, metrics.jsonl (one JSON object per epoch), metrics.csv (the same
 * as a table) and checkpoints/.
 * A checkpoint is written as epoch-N.safetensors (the model's state dict, readable by
 * PyTorch's safetensors loader), epoch-N.state.safetensors (optimizer and RNG tensors) and
 * then last.json, which names them: every file is written atomically and last.json last, so a
 * crash at any point leaves the previous checkpoint intact. best.json names the best epoch's
 * weights, best-after-switch.json the best epoch's among the masked ones (SGT's phase).
 *
 * @module
 */

import { writeFileAtomic } from "../checkpoint/io.ts";
import { loadSafetensors, saveSafetensors } from "../checkpoint/safetensors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { TrainConfig } from "./config.ts";
import type { WeightsFormat } from "../checkpoint/weights_file.ts";
import { CHECKPOINT_RULES, type CheckpointRule } from "./checkpoint_rules.ts";

export { CHECKPOINT_RULES, type CheckpointRule };

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
export const METRIC_COLUMNS: readonly (keyof EpochMetrics)[] = Object.keys(
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
export interface RunInfo {
  /** The resolved configuration. */
  config: TrainConfig;
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
}

const text = new TextEncoder();

/** Paths inside a run folder. */
export class RunDir {
  /** Opens (does not create) the folder. */
  constructor(readonly path: string) {}
  /** checkpoints/ */
  get checkpoints(): string {
    return `${this.path}/checkpoints`;
  }
  /** Creates the folders. */
  create(): void {
    Deno.mkdirSync(this.checkpoints, { recursive: true });
  }
  /** True when config.json exists. */
  exists(): boolean {
    try {
      return Deno.statSync(`${this.path}/config.json`).isFile;
    } catch {
      return false;
    }
  }
  /** Writes config.json atomically. */
  writeInfo(info: RunInfo): void {
    writeFileAtomic(`${this.path}/config.json`, [
      text.encode(JSON.stringify(info, null, 2) + "\n"),
    ]);
  }
  /** Reads config.json, with a clear error naming the file. */
  readInfo(): RunInfo {
    const file = `${this.path}/config.json`;
    try {
      return JSON.parse(Deno.readTextFileSync(file));
    } catch (e) {
      throw new Error(`${file}: cannot read the run's config (${(e as Error).message})`);
    }
  }
  /** Every epoch line of metrics.jsonl (a torn last line is ignored). */
  readMetrics(): EpochMetrics[] {
    let body: string;
    try {
      body = Deno.readTextFileSync(`${this.path}/metrics.jsonl`);
    } catch {
      return [];
    }
    const out: EpochMetrics[] = [];
    for (const line of body.split("\n")) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        break; // a line cut by a crash: everything after it is not trusted
      }
    }
    return out;
  }
  /** Rewrites metrics.jsonl with the given lines (used on resume to drop epochs after the checkpoint). */
  writeMetrics(lines: EpochMetrics[]): void {
    writeFileAtomic(`${this.path}/metrics.jsonl`, [
      text.encode(lines.map((l) => JSON.stringify(l) + "\n").join("")),
    ]);
    this.#writeCsv(lines);
  }
  /** Appends one epoch's metrics and flushes it to disk. */
  appendMetrics(line: EpochMetrics): void {
    const f = Deno.openSync(`${this.path}/metrics.jsonl`, { append: true, create: true });
    try {
      f.writeSync(text.encode(JSON.stringify(line) + "\n"));
      f.syncSync();
    } finally {
      f.close();
    }
    this.#writeCsv(this.readMetrics());
  }

  /** metrics.csv mirrors metrics.jsonl, for spreadsheets and tools that read CSV. */
  #writeCsv(lines: readonly EpochMetrics[]): void {
    writeFileAtomic(`${this.path}/metrics.csv`, [text.encode(metricsCsv(lines))]);
  }

  /**
   * Saves a checkpoint: weights, extra state tensors, then last.json (the commit point), and
   * the pointer of each rule in `newBest` (the epoch is the new best of that rule). Files no
   * pointer names any more are removed.
   */
  saveCheckpoint(
    epoch: number,
    weights: Map<string, Tensor>,
    stateTensors: Map<string, Tensor>,
    trainer: Omit<TrainerState, "epoch" | "weights" | "state">,
    newBest: readonly ("best" | "best-after-switch")[],
    metadata: Record<string, string>,
  ): void {
    const tag = `epoch-${String(epoch).padStart(4, "0")}`;
    saveSafetensors(`${this.checkpoints}/${tag}.safetensors`, weights, {
      ...metadata,
      epoch: String(epoch),
    });
    saveSafetensors(`${this.checkpoints}/${tag}.state.safetensors`, stateTensors, {
      epoch: String(epoch),
    });
    const last: TrainerState = {
      epoch,
      weights: `${tag}.safetensors`,
      state: `${tag}.state.safetensors`,
      ...trainer,
    };
    writeFileAtomic(`${this.checkpoints}/last.json`, [
      text.encode(JSON.stringify(last, null, 2) + "\n"),
    ]);
    for (const rule of newBest) {
      const b = rule === "best" ? trainer.best : trainer.bestAfterSwitch;
      const pointer = { epoch, weights: `${tag}.safetensors`, score: b?.score, metric: b?.metric };
      writeFileAtomic(`${this.checkpoints}/${rule}.json`, [
        text.encode(JSON.stringify(pointer, null, 2) + "\n"),
      ]);
    }
    this.#prune();
  }

  #prune(): void {
    const keep = new Set<string>();
    for (const name of CHECKPOINT_RULES.map((r) => `${r}.json`)) {
      try {
        const j = JSON.parse(Deno.readTextFileSync(`${this.checkpoints}/${name}`));
        keep.add(j.weights);
        if (j.state) keep.add(j.state);
      } catch {
        // not written yet
      }
    }
    for (const e of Deno.readDirSync(this.checkpoints)) {
      if (/^epoch-\d+\.(state\.)?safetensors$/.test(e.name) && !keep.has(e.name)) {
        Deno.removeSync(`${this.checkpoints}/${e.name}`);
      }
    }
  }

  /** last.json, or null when no checkpoint was written. */
  readLast(): TrainerState | null {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.checkpoints}/last.json`));
    } catch {
      return null;
    }
  }

  /**
   * Where `rule`'s checkpoint is: the pointer file to read, and a note when the rule falls back
   * to another (best-after-switch of a run that never masked is its best).
   */
  checkpointPointer(rule: CheckpointRule): { file: string; note: string | null } {
    const file = (r: CheckpointRule) => `${this.checkpoints}/${r}.json`;
    if (rule !== "best-after-switch") return { file: file(rule), note: null };
    try {
      Deno.statSync(file(rule));
      return { file: file(rule), note: null };
    } catch {
      // no masked epoch yet, or a run saved before this pointer was kept
    }
    const masked = this.readMetrics().filter((m) => m.phase === "sgt");
    if (masked.length > 0) {
      throw new Error(
        `${file(rule)}: missing, though ${this.path} has masked epochs (from ` +
          `${masked[0].epoch}): the run was saved before hlgm kept this checkpoint; ` +
          `use --checkpoint best or last`,
      );
    }
    return { file: file("best"), note: "no masked epoch: its best checkpoint" };
  }

  /** Loads the tensors the checkpoint of `rule` names. */
  loadCheckpoint(
    rule: CheckpointRule,
    device?: string,
  ): {
    weights: Map<string, Tensor>;
    state?: Map<string, Tensor>;
    epoch: number;
    note: string | null;
  } {
    const { file, note } = this.checkpointPointer(rule);
    let ptr: { epoch: number; weights: string; state?: string };
    try {
      ptr = JSON.parse(Deno.readTextFileSync(file));
    } catch (e) {
      throw new Error(`${file}: no ${rule} checkpoint in ${this.path} (${(e as Error).message})`);
    }
    const weights =
      loadSafetensors(`${this.checkpoints}/${ptr.weights}`, { device: device as "cpu" }).tensors;
    const state = ptr.state
      ? loadSafetensors(`${this.checkpoints}/${ptr.state}`, { device: "cpu" }).tensors
      : undefined;
    return { weights, state, epoch: ptr.epoch, note };
  }
}
