/**
 * The run folder: config.json, metrics.jsonl (one JSON object per epoch), metrics.csv (the same
 * as a table) and checkpoints/.
 * A checkpoint is written as epoch-N.safetensors (the model's state dict, readable by
 * PyTorch's safetensors loader), epoch-N.state.safetensors (optimizer and RNG tensors) and
 * then last.json, which names them: every file is written atomically and last.json last, so a
 * crash at any point leaves the previous checkpoint intact. best.json names the best epoch's
 * weights, best-after-switch.json the best epoch's among the masked ones (SGT's phase).
 *
 * Nothing read here passes silently when it is not what hlgm wrote: config.json is checked
 * field by field, a bad metrics line before the last is an error naming its line (a last line
 * cut by a crash is ignored), and an unreadable pointer (last.json, best.json) falls back to
 * the newest checkpoint that loads, with a note saying which: the state file of every
 * checkpoint also keeps its last.json record (metadata "trainer"), so any complete checkpoint
 * can be continued from.
 *
 * @module
 */

import { words } from "../util/vocabulary.ts";
import { writeFileAtomic } from "../checkpoint/io.ts";
import { pauseWrite, shouldPauseWrite } from "../util/write_pause.ts";
import {
  loadSafetensors,
  readSafetensorsHeader,
  type SafetensorsHeader,
  saveSafetensors,
} from "../checkpoint/safetensors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  configProblems,
  defaultConfig,
  type TrainConfig,
  unknownKeyProblems,
  valueTypeProblems,
} from "../train/config.ts";
import type { WeightsFormat } from "../checkpoint/weights_file.ts";
import { CHECKPOINT_RULES, type CheckpointRule } from "./checkpoint_rules.ts";
import { keepCheckpoint, keptEpochFolder, keptEpochs } from "./kept.ts";

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
function metricsCsv(lines: readonly EpochMetrics[]): string {
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

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A value as a message shows it: "nothing" when missing, JSON (shortened) otherwise. */
function shown(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v) && v.length > 6) return "a list of " + v.length;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** What is wrong with a parsed config.json (empty when it is a run's config). */
function runInfoProblems(j: unknown): string[] {
  if (!isObject(j)) return [`expected a JSON object (a run's config), got ${shown(j)}`];
  const p: string[] = [];
  const c = j.config;
  if (!isObject(c)) {
    p.push(`"config" must be an object of training settings, got ${shown(c)}`);
  } else {
    const keys = [...unknownKeyProblems(c), ...valueTypeProblems(c)];
    const problems = keys.length ? keys : configProblems(defaultConfig(c as Partial<TrainConfig>));
    p.push(...problems.map((x) => `"config": ${x}`));
  }
  const d = j.data;
  if (!isObject(d)) {
    p.push(
      `"data" must be an object with "train", "val", "test", "shape" and "classes", got ${
        shown(d)
      }`,
    );
  } else {
    const shape = d.shape;
    if (
      !Array.isArray(shape) || shape.length !== 3 ||
      !shape.every((v) => Number.isInteger(v) && v > 0)
    ) {
      p.push(
        `"data.shape" must be 3 positive integers (channels, height, width), got ${shown(shape)}`,
      );
    }
    for (const split of ["train", "val", "test"] as const) {
      const v = d[split];
      if (!Number.isInteger(v) || (v as number) < (split === "val" ? 0 : 1)) {
        p.push(
          `"data.${split}" must be ${
            split === "val" ? "a non-negative" : "a positive"
          } integer (images in the split), got ${shown(v)}`,
        );
      }
    }
    const classes = d.classes;
    if (
      !Array.isArray(classes) || classes.length === 0 ||
      !classes.every((v) => typeof v === "string")
    ) {
      p.push(`"data.classes" must be a non-empty list of class names, got ${shown(classes)}`);
    }
  }
  return p;
}

/** What is wrong with one parsed metrics.jsonl line (null when it is an epoch's line). */
function metricsLineProblem(m: unknown): string | null {
  if (!isObject(m)) return `expected an epoch's JSON object, got ${shown(m)}`;
  if (!Number.isInteger(m.epoch) || (m.epoch as number) < 1) {
    return `"epoch" must be a positive integer, got ${shown(m.epoch)}`;
  }
  if (typeof m.test_acc !== "number") {
    return `"test_acc" must be a number, got ${shown(m.test_acc)}`;
  }
  return null;
}

/** What is wrong with a best-epoch record (null when it is one, or null/absent). */
function bestProblem(name: string, b: unknown): string | null {
  if (b === null || b === undefined) return null;
  if (
    !isObject(b) || !Number.isInteger(b.epoch) || typeof b.score !== "number" ||
    typeof b.metric !== "string"
  ) {
    return `"${name}" must be null or {epoch, score, metric}, got ${shown(b)}`;
  }
  return null;
}

/** What is wrong with a parsed last.json record (null when it is one). */
function trainerStateProblem(t: unknown): string | null {
  if (!isObject(t)) return `expected a checkpoint record (a JSON object), got ${shown(t)}`;
  if (!Number.isInteger(t.epoch) || (t.epoch as number) < 1) {
    return `"epoch" must be a positive integer, got ${shown(t.epoch)}`;
  }
  for (const k of ["weights", "state"]) {
    const v = t[k];
    if (typeof v !== "string" || v === "" || v.includes("/")) {
      return `"${k}" must name a file in checkpoints/, got ${shown(v)}`;
    }
  }
  if (!isObject(t.schedule)) return `"schedule" must be an object, got ${shown(t.schedule)}`;
  const o = t.optimizer;
  if (
    !isObject(o) || typeof o.type !== "string" || !isObject(o.options) ||
    !Array.isArray(o.steps) || !o.steps.every((n) => Number.isInteger(n) && n >= 0)
  ) {
    return `"optimizer" must be {type, options, steps}, got ${shown(o)}`;
  }
  const g = t.gradScaler;
  if (
    g !== undefined && g !== null &&
    !(isObject(g) && typeof g.scale === "number" && g.scale > 0 && Number.isFinite(g.scale) &&
      Number.isInteger(g.growthTracker) && (g.growthTracker as number) >= 0)
  ) {
    return `"gradScaler" must be null or {scale > 0, growthTracker >= 0}, got ${shown(g)}`;
  }
  return bestProblem("best", t.best) ?? bestProblem("bestAfterSwitch", t.bestAfterSwitch);
}

/** The header of a safetensors file, or why it does not load ("missing", "only 12 bytes..."). */
function headerOf(file: string): SafetensorsHeader | string {
  try {
    Deno.statSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "missing";
  }
  try {
    return readSafetensorsHeader(file);
  } catch (e) {
    const message = firstLine(e);
    return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
  }
}

/** The message of an error, on one line. */
const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0];

/**
 * A JSON file's value, or what is wrong with it as the end of a sentence starting with its name
 * ("is empty", "is not valid JSON (it begins ...)"); `problem` is null when it does not exist.
 */
function readJsonFile(file: string): { value: unknown } | { problem: string | null } {
  let body: string;
  try {
    body = Deno.readTextFileSync(file);
  } catch (e) {
    return {
      problem: e instanceof Deno.errors.NotFound ? null : `cannot be read (${firstLine(e)})`,
    };
  }
  if (!body.trim()) return { problem: "is empty" };
  try {
    return { value: JSON.parse(body) };
  } catch {
    return { problem: `is not valid JSON (it begins ${shown(body.trim().slice(0, 24))})` };
  }
}

/** Where a checkpoint rule's weights are, as {@link RunDir.resolveCheckpoint} finds them. */
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

const text = new TextEncoder();

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
  /**
   * Reads config.json, checked: "config" an object of known settings with valid values, and
   * "data" with the split sizes, "shape" (3 positive integers) and "classes" (class names); an
   * error names the
   * file and each field that is wrong.
   */
  readInfo(): RunInfo {
    const file = `${this.path}/config.json`;
    const read = readJsonFile(file);
    if (!("value" in read)) throw new Error(`${file} ${read.problem ?? "is missing"}`);
    const j = read.value;
    const problems = runInfoProblems(j);
    if (problems.length) throw new Error(`${file}: ${problems.join("; ")}`);
    return j as RunInfo;
  }

  /**
   * True when the folder holds results of a run: an epoch in metrics.jsonl, a checkpoint
   * pointer or a checkpoint file (what a fresh start in it would overwrite).
   */
  hasResults(): boolean {
    try {
      if (Deno.readTextFileSync(`${this.path}/metrics.jsonl`).trim() !== "") return true;
    } catch {
      // no metrics
    }
    try {
      for (const e of Deno.readDirSync(this.checkpoints)) {
        if (/^(last|best|best-after-switch)\.json$|^epoch-\d+\./.test(e.name)) return true;
      }
    } catch {
      // no checkpoints/
    }
    return false;
  }

  /**
   * Removes the temporary files of writes a crash cut short (`.NAME.*.tmp` beside config.json,
   * metrics.jsonl, metrics.csv and in checkpoints/; see writeFileAtomic); returns their names.
   * Call it only while no other process trains in the folder.
   */
  removeCutWrites(): string[] {
    const removed: string[] = [];
    const trainerFile = /^\.(config\.json|metrics\.jsonl|metrics\.csv)\.[0-9a-z]+-[0-9a-z]+\.tmp$/;
    const checkpointFile = /^\..+\.[0-9a-z]+-[0-9a-z]+\.tmp$/;
    for (
      const [dir, re] of [[this.path, trainerFile], [this.checkpoints, checkpointFile]] as const
    ) {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(dir)];
      } catch {
        continue; // no such folder yet
      }
      for (const e of entries) {
        if (!e.isFile || !re.test(e.name)) continue;
        Deno.removeSync(`${dir}/${e.name}`);
        removed.push(`${dir}/${e.name}`);
      }
    }
    return removed;
  }
  /**
   * Removes what a run wrote besides config.json (metrics, checkpoints, TensorBoard events,
   * sib.json), so that a run started over in the folder mixes nothing of the old one.
   */
  clearResults(): void {
    for (const f of ["metrics.jsonl", "metrics.csv", "sib.json", "checkpoints", "tensorboard"]) {
      try {
        Deno.removeSync(`${this.path}/${f}`, { recursive: true });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
  /**
   * Every epoch line of metrics.jsonl. A last line cut by a crash (no newline after it, not
   * JSON) is ignored; any other line that is not an epoch's JSON object is an error naming the
   * file and the line number.
   */
  readMetrics(): EpochMetrics[] {
    const file = `${this.path}/metrics.jsonl`;
    let body: string;
    try {
      body = Deno.readTextFileSync(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw new Error(`${file}: cannot read (${firstLine(e)})`);
    }
    const lines = body.split("\n");
    const out: EpochMetrics[] = [];
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        // the last line without a newline after it: an append cut by a crash
        if (i === lines.length - 1) break;
        throw new Error(
          `${file}: line ${i + 1} is not JSON (${shown(line)}); every line but a last one cut ` +
            `by a crash must be an epoch's metrics`,
        );
      }
      const why = metricsLineProblem(m);
      if (why) throw new Error(`${file}: line ${i + 1}: ${why}`);
      out.push(m as unknown as EpochMetrics);
    }
    return out;
  }

  /**
   * Writes the state file `record` names (checkpoints/epoch-N.state.safetensors) with the tensors
   * of `from`, another run's state file, and `record` kept in it, as {@link saveCheckpoint} keeps
   * its own (a lost last.json is rebuilt from it).
   */
  copyStateFile(from: string, record: TrainerState): void {
    const { tensors, metadata } = loadSafetensors(from, { device: "cpu" });
    try {
      saveSafetensors(`${this.checkpoints}/${record.state}`, tensors, {
        ...metadata,
        trainer: JSON.stringify(record),
      });
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  /** Writes checkpoints/last.json (the record of the checkpoint to continue from), atomically. */
  writeLast(state: TrainerState): void {
    writeFileAtomic(`${this.checkpoints}/last.json`, [
      text.encode(JSON.stringify(state, null, 2) + "\n"),
    ]);
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
      const bytes = text.encode(JSON.stringify(line) + "\n");
      // a test's kill -9 halfway through the line (write_pause.ts)
      const half = shouldPauseWrite(`${this.path}/metrics.jsonl`) ? bytes.byteLength >> 1 : -1;
      for (let done = 0; done < bytes.byteLength;) {
        if (done === half) pauseWrite(`${this.path}/metrics.jsonl`);
        done += f.writeSync(bytes.subarray(done, half > done ? half : undefined));
      }
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
   * the pointer of each rule in `newBest` (the epoch is the new best of that rule). With
   * `keep`, the checkpoint is also kept whole in checkpoints/kept/ (kept.ts), to fork from.
   * Files no pointer names any more are removed.
   */
  saveCheckpoint(
    epoch: number,
    weights: Map<string, Tensor>,
    stateTensors: Map<string, Tensor>,
    trainer: Omit<TrainerState, "epoch" | "weights" | "state">,
    newBest: readonly ("best" | "best-after-switch")[],
    metadata: Record<string, string>,
    keep = false,
  ): void {
    const tag = `epoch-${String(epoch).padStart(4, "0")}`;
    const last: TrainerState = {
      epoch,
      weights: `${tag}.safetensors`,
      state: `${tag}.state.safetensors`,
      ...trainer,
    };
    saveSafetensors(`${this.checkpoints}/${tag}.safetensors`, weights, {
      ...metadata,
      epoch: String(epoch),
    });
    // the record last.json gets, kept with the tensors: a lost last.json can be rebuilt
    saveSafetensors(`${this.checkpoints}/${tag}.state.safetensors`, stateTensors, {
      epoch: String(epoch),
      trainer: JSON.stringify(last),
    });
    this.writeLast(last);
    for (const rule of ["best", "best-after-switch"] as const) {
      const b = rule === "best" ? trainer.best : trainer.bestAfterSwitch;
      let pointer: Record<string, unknown> | null = null;
      if (newBest.includes(rule)) {
        pointer = { epoch, weights: `${tag}.safetensors`, score: b?.score, metric: b?.metric };
      } else if (b && this.#pointerProblem(rule) !== null) {
        // an unreadable pointer is written again from the record, when its weights are there
        const w = `epoch-${String(b.epoch).padStart(4, "0")}.safetensors`;
        if (typeof headerOf(`${this.checkpoints}/${w}`) !== "string") {
          pointer = { epoch: b.epoch, weights: w, score: b.score, metric: b.metric };
        }
      }
      if (pointer) {
        writeFileAtomic(`${this.checkpoints}/${rule}.json`, [
          text.encode(JSON.stringify(pointer, null, 2) + "\n"),
        ]);
      }
    }
    if (keep) this.keep(last);
    this.#prune();
  }

  #prune(): void {
    const keep = new Set<string>();
    for (const name of CHECKPOINT_RULES.map((r) => `${r}.json`)) {
      let j: unknown;
      try {
        j = JSON.parse(Deno.readTextFileSync(`${this.checkpoints}/${name}`));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // not written yet
        return; // a pointer that cannot be read: remove nothing it may have named
      }
      if (!isObject(j) || typeof j.weights !== "string") return;
      keep.add(j.weights);
      if (typeof j.state === "string") keep.add(j.state);
    }
    for (const e of Deno.readDirSync(this.checkpoints)) {
      if (/^epoch-\d+\.(state\.)?safetensors$/.test(e.name) && !keep.has(e.name)) {
        Deno.removeSync(`${this.checkpoints}/${e.name}`);
      }
    }
  }

  /** Why `rule`'s pointer file cannot be used (null when it can; "missing" when absent). */
  #pointerProblem(rule: "best" | "best-after-switch"): string | null {
    const file = `${this.checkpoints}/${rule}.json`;
    const read = readJsonFile(file);
    if (!("value" in read)) return read.problem ?? "missing";
    const j = read.value;
    if (!isObject(j) || !Number.isInteger(j.epoch) || typeof j.weights !== "string") {
      return `is not a checkpoint pointer {epoch, weights} (got ${shown(j)})`;
    }
    if ((j.weights as string).includes("/")) return `names ${shown(j.weights)}, not a checkpoint`;
    const h = headerOf(`${this.checkpoints}/${j.weights}`);
    return typeof h === "string" ? `names weights that do not load (${h})` : null;
  }

  /**
   * The checkpoints that load, newest first, each with the record its state file keeps (a
   * checkpoint saved before hlgm kept it there has none); and why the newest candidate that
   * did not load failed.
   */
  #loadableCheckpoints(): { found: TrainerState[]; reason: string | null } {
    let names: string[];
    try {
      names = [...Deno.readDirSync(this.checkpoints)].map((e) => e.name);
    } catch (e) {
      return { found: [], reason: `cannot list ${this.checkpoints} (${firstLine(e)})` };
    }
    const epochs = names.map((n) => n.match(/^epoch-(\d+)\.safetensors$/)).filter((m) => m)
      .map((m) => Number(m![1])).sort((a, b) => b - a);
    const found: TrainerState[] = [];
    let reason: string | null = null;
    for (const epoch of epochs) {
      const tag = `epoch-${String(epoch).padStart(4, "0")}`;
      const weights = `${tag}.safetensors`, state = `${tag}.state.safetensors`;
      const w = headerOf(`${this.checkpoints}/${weights}`);
      const st = typeof w === "string"
        ? `${weights}: ${w}`
        : headerOf(`${this.checkpoints}/${state}`);
      let why = typeof st === "string" ? (typeof w === "string" ? st : `${state}: ${st}`) : null;
      let record: unknown;
      if (!why && typeof st !== "string") {
        try {
          record = JSON.parse(st.metadata.trainer ?? "null");
        } catch {
          record = null;
        }
        const problem = record === null
          ? `${state} keeps no checkpoint record (saved by an older hlgm)`
          : trainerStateProblem(record);
        const t = record as TrainerState;
        why = problem ??
          (t.epoch !== epoch || t.weights !== weights || t.state !== state
            ? `${state} keeps the record of another checkpoint`
            : null);
      }
      if (why) reason ??= why;
      else found.push(record as TrainerState);
    }
    return { found, reason };
  }

  /**
   * The checkpoint a run continues from: last.json when it names files that load; when it
   * cannot be used, the newest checkpoint (epoch-N.safetensors and epoch-N.state.safetensors)
   * that loads, with a note saying why and which. Null when no checkpoint was written (no
   * last.json); throws naming last.json when it is unreadable and no checkpoint loads.
   */
  lastCheckpoint(): { state: TrainerState; note: string | null } | null {
    const file = `${this.checkpoints}/last.json`;
    const read = readJsonFile(file);
    if (!("value" in read) && read.problem === null) return null; // no checkpoint yet
    const record = "value" in read ? read.value : null;
    const problem = "value" in read ? trainerStateProblem(record) : read.problem;
    let why = problem && "value" in read ? `is not a checkpoint record (${problem})` : problem;
    if (!why) {
      const t = record as TrainerState;
      for (const f of [t.weights, t.state]) {
        const h = headerOf(`${this.checkpoints}/${f}`);
        if (typeof h === "string") {
          why = `names ${f}, which does not load (${h})`;
          break;
        }
      }
      if (!why) return { state: t, note: null };
    }
    const { found, reason } = this.#loadableCheckpoints();
    if (found.length) {
      const t = found[0];
      return {
        state: t,
        note: `${file} ${why}; using the newest checkpoint that loads instead: epoch ${t.epoch} ` +
          `(${t.weights})`,
      };
    }
    // the newest candidate's failure, unless it is the one just named
    const more = reason && !why.includes(reason.slice(reason.indexOf(": ") + 2));
    throw new Error(
      `${file} ${why}, and no other checkpoint in ${this.checkpoints} loads` +
        (more ? ` (${reason})` : ""),
    );
  }

  /** Keeps the checkpoint `last` records (this run's last) whole in checkpoints/kept/ (kept.ts). */
  keep(last: TrainerState): void {
    keepCheckpoint(this.checkpoints, last.epoch, last.weights, last.state);
  }

  /**
   * The checkpoints another run can fork from, by epoch: those kept whole (checkpoints/kept/,
   * kept.ts) whose files load, and the last one ({@link lastCheckpoint}) when it loads.
   */
  forkPoints(): ForkPoint[] {
    const points = new Map<number, ForkPoint>();
    for (const epoch of keptEpochs(this.checkpoints)) {
      const folder = keptEpochFolder(this.checkpoints, epoch);
      const read = readJsonFile(`${folder}/last.json`);
      if (!("value" in read) || trainerStateProblem(read.value) !== null) continue;
      const t = read.value as TrainerState;
      const loads = [t.weights, t.state].every((f) =>
        typeof headerOf(`${folder}/${f}`) !== "string"
      );
      if (loads && t.epoch === epoch) points.set(epoch, { epoch, folder, state: t });
    }
    let last: TrainerState | null = null;
    try {
      last = this.lastCheckpoint()?.state ?? null;
    } catch {
      // no last checkpoint that loads: the kept ones only
    }
    if (last && !points.has(last.epoch)) {
      points.set(last.epoch, { epoch: last.epoch, folder: this.checkpoints, state: last });
    }
    return [...points.values()].sort((a, b) => a.epoch - b.epoch);
  }

  /**
   * The record of the checkpoint to continue from ({@link lastCheckpoint}, without its note),
   * or null when no checkpoint was written.
   */
  readLast(): TrainerState | null {
    return this.lastCheckpoint()?.state ?? null;
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
    if (masked.length > 0 && !this.#bestAfterSwitchRecorded()) {
      throw new Error(
        `${file(rule)}: missing, though ${this.path} has masked epochs (from ` +
          `${masked[0].epoch}): the run was saved before hlgm kept this checkpoint; ` +
          `use ${words().settingValue("checkpoint", "best")} or ` +
          words().settingValue("checkpoint", "last"),
      );
    }
    if (masked.length > 0) return { file: file(rule), note: null }; // resolveCheckpoint falls back
    return { file: file("best"), note: "no masked epoch: its best checkpoint" };
  }

  /** True when a readable last.json records a best masked epoch. */
  #bestAfterSwitchRecorded(): boolean {
    try {
      return !!this.lastCheckpoint()?.state.bestAfterSwitch;
    } catch {
      return false;
    }
  }

  /**
   * Where `rule`'s checkpoint is. A pointer file (best.json, best-after-switch.json) that is
   * missing, unreadable or names weights that do not load falls back to the epoch last.json
   * records for the rule, else to the newest weights that load, and the note says so; the last
   * checkpoint is {@link lastCheckpoint}'s. Throws when the run has no checkpoint.
   */
  resolveCheckpoint(rule: CheckpointRule): CheckpointLocation {
    if (rule === "last") {
      const last = this.lastCheckpoint();
      if (!last) {
        throw new Error(
          `${this.checkpoints}/last.json: no last checkpoint in ${this.path} (no epoch has ended)`,
        );
      }
      const { epoch, weights, state } = last.state;
      return { epoch, weights, state, note: last.note };
    }
    const { file, note } = this.checkpointPointer(rule);
    const used = file.endsWith("/best.json") ? "best" : "best-after-switch";
    const problem = this.#pointerProblem(used);
    const notes = (extra: string) => [note, extra].filter((n) => n).join("; ");
    if (problem === null) {
      const j = JSON.parse(Deno.readTextFileSync(file));
      return { epoch: j.epoch, weights: j.weights, note };
    }
    let last: TrainerState | null = null;
    try {
      last = this.lastCheckpoint()?.state ?? null;
    } catch {
      // no usable last.json either: the newest weights that load, below
    }
    const newest = this.#newestWeights();
    if (problem === "missing" && !last && newest === null) {
      throw new Error(`${file}: no ${rule} checkpoint in ${this.path} (no epoch has ended)`);
    }
    const record = last ? (used === "best" ? last.best : last.bestAfterSwitch) : null;
    if (record) {
      const weights = `epoch-${String(record.epoch).padStart(4, "0")}.safetensors`;
      if (typeof headerOf(`${this.checkpoints}/${weights}`) !== "string") {
        return {
          epoch: record.epoch,
          weights,
          note: notes(
            `${file} ${problem === "missing" ? "is missing" : problem}; using epoch ` +
              `${record.epoch}, the ${used} epoch the last checkpoint records`,
          ),
        };
      }
    }
    if (newest !== null) {
      return {
        epoch: newest.epoch,
        weights: newest.weights,
        note: notes(
          `${file} ${problem === "missing" ? "is missing" : problem}; using the newest ` +
            `checkpoint that loads instead: epoch ${newest.epoch}`,
        ),
      };
    }
    throw new Error(
      `${file} ${problem === "missing" ? "is missing" : problem}, and no checkpoint in ` +
        `${this.checkpoints} loads`,
    );
  }

  /** The newest epoch-N.safetensors whose header loads, or null. */
  #newestWeights(): { epoch: number; weights: string } | null {
    let names: string[];
    try {
      names = [...Deno.readDirSync(this.checkpoints)].map((e) => e.name);
    } catch {
      return null;
    }
    const epochs = names.map((n) => n.match(/^epoch-(\d+)\.safetensors$/)).filter((m) => m)
      .map((m) => Number(m![1])).sort((a, b) => b - a);
    for (const epoch of epochs) {
      const weights = `epoch-${String(epoch).padStart(4, "0")}.safetensors`;
      if (typeof headerOf(`${this.checkpoints}/${weights}`) !== "string") {
        return { epoch, weights };
      }
    }
    return null;
  }

  /** Loads the tensors the checkpoint of `rule` names ({@link resolveCheckpoint}). */
  loadCheckpoint(
    rule: CheckpointRule,
    device?: string,
  ): LoadedCheckpoint {
    return this.loadLocation(this.resolveCheckpoint(rule), device);
  }

  /** Loads the weights (onto `device`) and the state tensors (onto the CPU) of a checkpoint. */
  loadLocation(
    at: CheckpointLocation,
    device?: string,
  ): LoadedCheckpoint {
    const weights =
      loadSafetensors(`${this.checkpoints}/${at.weights}`, { device: device as "cpu" }).tensors;
    let state: Map<string, Tensor> | undefined;
    try {
      state = at.state
        ? loadSafetensors(`${this.checkpoints}/${at.state}`, { device: "cpu" }).tensors
        : undefined;
    } catch (e) {
      for (const t of weights.values()) t.dispose();
      throw e;
    }
    return { weights, state, epoch: at.epoch, note: at.note };
  }
}
