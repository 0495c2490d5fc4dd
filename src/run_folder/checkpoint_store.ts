/**
 * A run folder's checkpoints/: a checkpoint is written as epoch-N.safetensors (the model's state
 * dict, readable by PyTorch's safetensors loader), epoch-N.state.safetensors (optimizer and RNG
 * tensors) and then last.json, which names them: every file is written atomically and last.json
 * last, so a crash at any point leaves the previous checkpoint intact. best.json names the best
 * epoch's weights, best-after-switch.json the best epoch's among the masked ones (SGT's phase);
 * files no pointer names are pruned. An unreadable pointer falls back to the newest checkpoint
 * that loads, with a note saying which: the state file of every checkpoint also keeps its
 * last.json record (metadata "trainer"), so any complete checkpoint can be continued from.
 *
 * @module
 */

import { AdviceError } from "../util/vocabulary.ts";
import { writeFileAtomic } from "../checkpoint/io.ts";
import { loadSafetensors, saveSafetensors } from "../checkpoint/safetensors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { CHECKPOINT_RULES, type CheckpointRule } from "./checkpoint_rules.ts";
import { keepCheckpoint, keptEpochFolder, keptEpochs } from "./kept.ts";
import type { CheckpointLocation, ForkPoint, LoadedCheckpoint, TrainerState } from "./records.ts";
import { headerOf, isObject, readJsonFile, trainerStateProblem } from "./record_checks.ts";
import {
  epochTag,
  loadableCheckpoints,
  newestWeights,
  pointerProblem,
} from "./checkpoint_files.ts";

const text = new TextEncoder();

/** The checkpoints of the run folder `run` (its checkpoints/ folder). */
export class CheckpointStore {
  /** checkpoints/ */
  readonly folder: string;
  /**
   * The store of the run folder `run`; `firstMaskedEpoch` reads the run's first masked
   * (SGT-phase) epoch from its metrics, or null (the best-after-switch rule asks it).
   */
  constructor(readonly run: string, private readonly firstMaskedEpoch: () => number | null) {
    this.folder = `${run}/checkpoints`;
  }

  /**
   * Writes the state file `record` names (checkpoints/epoch-N.state.safetensors) with the tensors
   * of `from`, another run's state file, and `record` kept in it, as {@link saveCheckpoint} keeps
   * its own (a lost last.json is rebuilt from it).
   */
  copyStateFile(from: string, record: TrainerState): void {
    const { tensors, metadata } = loadSafetensors(from, { device: "cpu" });
    try {
      saveSafetensors(`${this.folder}/${record.state}`, tensors, {
        ...metadata,
        trainer: JSON.stringify(record),
      });
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  }

  /** Writes checkpoints/last.json (the record of the checkpoint to continue from), atomically. */
  writeLast(state: TrainerState): void {
    writeFileAtomic(`${this.folder}/last.json`, [
      text.encode(JSON.stringify(state, null, 2) + "\n"),
    ]);
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
    const tag = epochTag(epoch);
    const last: TrainerState = {
      epoch,
      weights: `${tag}.safetensors`,
      state: `${tag}.state.safetensors`,
      ...trainer,
    };
    saveSafetensors(`${this.folder}/${tag}.safetensors`, weights, {
      ...metadata,
      epoch: String(epoch),
    });
    // the record last.json gets, kept with the tensors: a lost last.json can be rebuilt
    saveSafetensors(`${this.folder}/${tag}.state.safetensors`, stateTensors, {
      epoch: String(epoch),
      trainer: JSON.stringify(last),
    });
    this.writeLast(last);
    for (const rule of ["best", "best-after-switch"] as const) {
      const b = rule === "best" ? trainer.best : trainer.bestAfterSwitch;
      let pointer: Record<string, unknown> | null = null;
      if (newBest.includes(rule)) {
        pointer = { epoch, weights: `${tag}.safetensors`, score: b?.score, metric: b?.metric };
      } else if (b && pointerProblem(this.folder, rule) !== null) {
        // an unreadable pointer is written again from the record, when its weights are there
        const w = `${epochTag(b.epoch)}.safetensors`;
        if (typeof headerOf(`${this.folder}/${w}`) !== "string") {
          pointer = { epoch: b.epoch, weights: w, score: b.score, metric: b.metric };
        }
      }
      if (pointer) {
        writeFileAtomic(`${this.folder}/${rule}.json`, [
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
        j = JSON.parse(Deno.readTextFileSync(`${this.folder}/${name}`));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // not written yet
        return; // a pointer that cannot be read: remove nothing it may have named
      }
      if (!isObject(j) || typeof j.weights !== "string") return;
      keep.add(j.weights);
      if (typeof j.state === "string") keep.add(j.state);
    }
    for (const e of Deno.readDirSync(this.folder)) {
      if (/^epoch-\d+\.(state\.)?safetensors$/.test(e.name) && !keep.has(e.name)) {
        Deno.removeSync(`${this.folder}/${e.name}`);
      }
    }
  }

  /**
   * The checkpoint a run continues from: last.json when it names files that load; when it
   * cannot be used, the newest checkpoint (epoch-N.safetensors and epoch-N.state.safetensors)
   * that loads, with a note saying why and which. Null when no checkpoint was written (no
   * last.json); throws naming last.json when it is unreadable and no checkpoint loads.
   */
  lastCheckpoint(): { state: TrainerState; note: string | null } | null {
    const file = `${this.folder}/last.json`;
    const read = readJsonFile(file);
    if (!("value" in read) && read.problem === null) return null; // no checkpoint yet
    const record = "value" in read ? read.value : null;
    const problem = "value" in read ? trainerStateProblem(record) : read.problem;
    let why = problem && "value" in read ? `is not a checkpoint record (${problem})` : problem;
    if (!why) {
      const t = record as TrainerState;
      for (const f of [t.weights, t.state]) {
        const h = headerOf(`${this.folder}/${f}`);
        if (typeof h === "string") {
          why = `names ${f}, which does not load (${h})`;
          break;
        }
      }
      if (!why) return { state: t, note: null };
    }
    const { found, reason } = loadableCheckpoints(this.folder);
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
      `${file} ${why}, and no other checkpoint in ${this.folder} loads` +
        (more ? ` (${reason})` : ""),
    );
  }

  /** True when a checkpoint was written (last.json exists); whether it loads is not checked. */
  hasLast(): boolean {
    try {
      return Deno.statSync(`${this.folder}/last.json`).isFile;
    } catch {
      return false;
    }
  }

  /**
   * The epoch and metric `rule`'s pointer file records, unchecked against the files (what a
   * listing shows; {@link resolveCheckpoint} says why one does not load); null when it is
   * absent or not a pointer.
   */
  pointerRecord(
    rule: "best" | "best-after-switch",
  ): { epoch: number; metric: string | null } | null {
    const read = readJsonFile(`${this.folder}/${rule}.json`);
    if (!("value" in read)) return null;
    const j = read.value;
    if (!isObject(j) || !Number.isInteger(j.epoch)) return null;
    return { epoch: j.epoch as number, metric: typeof j.metric === "string" ? j.metric : null };
  }

  /** Keeps the checkpoint `last` records (this run's last) whole in checkpoints/kept/ (kept.ts). */
  keep(last: TrainerState): void {
    keepCheckpoint(this.folder, last.epoch, last.weights, last.state);
  }

  /**
   * The checkpoints another run can fork from, by epoch: those kept whole (checkpoints/kept/,
   * kept.ts) whose files load, and the last one ({@link lastCheckpoint}) when it loads.
   */
  forkPoints(): ForkPoint[] {
    const points = new Map<number, ForkPoint>();
    for (const epoch of keptEpochs(this.folder)) {
      const folder = keptEpochFolder(this.folder, epoch);
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
      points.set(last.epoch, { epoch: last.epoch, folder: this.folder, state: last });
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
    const file = (r: CheckpointRule) => `${this.folder}/${r}.json`;
    if (rule !== "best-after-switch") return { file: file(rule), note: null };
    try {
      Deno.statSync(file(rule));
      return { file: file(rule), note: null };
    } catch {
      // no masked epoch yet, or a run saved before this pointer was kept
    }
    const masked = this.firstMaskedEpoch();
    if (masked !== null && !this.#bestAfterSwitchRecorded()) {
      throw new AdviceError((v) =>
        `${file(rule)}: missing, though ${this.run} has masked epochs (from ` +
        `${masked}): the run was saved before hlgm kept this checkpoint; ` +
        `use ${v.settingValue("checkpoint", "best")} or ${v.settingValue("checkpoint", "last")}`
      );
    }
    if (masked !== null) return { file: file(rule), note: null }; // resolveCheckpoint falls back
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
          `${this.folder}/last.json: no last checkpoint in ${this.run} (no epoch has ended)`,
        );
      }
      const { epoch, weights, state } = last.state;
      return { epoch, weights, state, note: last.note };
    }
    const { file, note } = this.checkpointPointer(rule);
    const used = file.endsWith("/best.json") ? "best" : "best-after-switch";
    const problem = pointerProblem(this.folder, used);
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
    const newest = newestWeights(this.folder);
    if (problem === "missing" && !last && newest === null) {
      throw new Error(`${file}: no ${rule} checkpoint in ${this.run} (no epoch has ended)`);
    }
    const record = last ? (used === "best" ? last.best : last.bestAfterSwitch) : null;
    if (record) {
      const weights = `${epochTag(record.epoch)}.safetensors`;
      if (typeof headerOf(`${this.folder}/${weights}`) !== "string") {
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
        `${this.folder} loads`,
    );
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
      loadSafetensors(`${this.folder}/${at.weights}`, { device: device as "cpu" }).tensors;
    let state: Map<string, Tensor> | undefined;
    try {
      state = at.state
        ? loadSafetensors(`${this.folder}/${at.state}`, { device: "cpu" }).tensors
        : undefined;
    } catch (e) {
      for (const t of weights.values()) t.dispose();
      throw e;
    }
    return { weights, state, epoch: at.epoch, note: at.note };
  }
}
