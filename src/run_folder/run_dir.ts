/**
 * The run folder: config.json, metrics.jsonl (one JSON object per epoch), metrics.csv (the same
 * as a table) and checkpoints/ (checkpoint_store.ts).
 *
 * Nothing read here passes silently when it is not what hlgm wrote: config.json is checked
 * field by field (its settings by the check the engine hands over), and a bad metrics line
 * before the last is an error naming its line (a last line cut by a crash is ignored).
 *
 * @module
 */

import { writeFileAtomic } from "../checkpoint/io.ts";
import { pauseWrite, shouldPauseWrite } from "../util/write_pause.ts";
import { CheckpointStore } from "./checkpoint_store.ts";
import { type ConfigCheck, type EpochMetrics, metricsCsv, type RunInfo } from "./records.ts";
import {
  firstLine,
  metricsLineProblem,
  readJsonFile,
  runInfoProblems,
  shown,
} from "./record_checks.ts";

const text = new TextEncoder();

/**
 * A run folder's records (config.json, metrics) and its {@link CheckpointStore}. `C` is the
 * type of config.json's settings, which `checkConfig` checks: the engine opens run folders with
 * its own (src/train/run_records.ts's `openRunDir`), so this layer does not know the settings.
 */
export class RunDir<C = Record<string, unknown>> {
  /** checkpoints/: save, prune, the pointers and the rules that pick a checkpoint. */
  readonly checkpoints: CheckpointStore;
  /** Opens (does not create) the folder. */
  constructor(readonly path: string, private readonly checkConfig: ConfigCheck) {
    this.checkpoints = new CheckpointStore(
      path,
      () => this.readMetrics().find((m) => m.phase === "sgt")?.epoch ?? null,
    );
  }
  /** Creates the folders. */
  create(): void {
    Deno.mkdirSync(this.checkpoints.folder, { recursive: true });
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
  writeInfo(info: RunInfo<C>): void {
    writeFileAtomic(`${this.path}/config.json`, [
      text.encode(JSON.stringify(info, null, 2) + "\n"),
    ]);
  }
  /**
   * Reads config.json, checked: "config" an object of known settings with valid values, and
   * "data" with the split sizes, "shape" (3 positive integers) and "classes" (class names); an
   * error names the file and each field that is wrong.
   */
  readInfo(): RunInfo<C> {
    const file = `${this.path}/config.json`;
    const read = readJsonFile(file);
    if (!("value" in read)) throw new Error(`${file} ${read.problem ?? "is missing"}`);
    const j = read.value;
    const problems = runInfoProblems(j, this.checkConfig);
    if (problems.length) throw new Error(`${file}: ${problems.join("; ")}`);
    return j as RunInfo<C>;
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
      for (const e of Deno.readDirSync(this.checkpoints.folder)) {
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
      const [dir, re] of [[this.path, trainerFile], [
        this.checkpoints.folder,
        checkpointFile,
      ]] as const
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
}
