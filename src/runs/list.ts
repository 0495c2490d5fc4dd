/**
 * The run folders under a folder (`hlgm runs`): every folder with a config.json, searched a few
 * levels deep (compare and demo nest theirs), each summarised (method, model, dataset, epochs
 * done, max and final test accuracy, whether it is complete).
 *
 * @module
 */

import { relative } from "node:path";
import { type RunSummary, summarizeRun } from "./summary.ts";
import { type LockOwner, runFolderWriter, writerPhrase } from "../run_folder/run_lock.ts";
import { openRunDir } from "../train/run_records.ts";

/** One run folder found. */
export interface ListedRun {
  /** The folder, relative to the folder searched. */
  name: string;
  /** Its summary, or null when its files could not be read. */
  summary: RunSummary | null;
  /**
   * "complete", "stopped" (epochs left, a checkpoint to resume), "no checkpoint", "being
   * written by pid N since HH:MM" (another process trains it now), or why it is unreadable.
   */
  status: string;
  /** The process writing the folder now, or null. */
  writer: LockOwner | null;
  /** The run it was forked from (train --fork) and the epoch it went on after; null if none. */
  forkedFrom: { run: string; epoch: number } | null;
}

/** Run folders under `root` (itself included), at most `depth` levels down, sorted by path. */
export function listRuns(root: string, depth = 3): ListedRun[] {
  const found: string[] = [];
  const walk = (dir: string, level: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile && e.name === "config.json")) found.push(dir);
    if (level >= depth) return;
    for (const e of entries) {
      if (e.isDirectory && e.name !== "checkpoints" && !e.name.startsWith(".")) {
        walk(`${dir}/${e.name}`, level + 1);
      }
    }
  };
  walk(root.replace(/\/+$/, "") || "/", 0);
  return found.sort().map((path) => {
    const name = relative(root, path) || ".";
    const writer = runFolderWriter(path);
    try {
      const { summary, info } = summarizeRun(path, name);
      const state = writer
        ? writerPhrase(writer)
        : summary.complete
        ? "complete"
        : openRunDir(path).checkpoints.hasLast()
        ? "stopped"
        : "no checkpoint";
      const from = info.forkedFrom;
      const forkedFrom = from ? { run: from.run, epoch: from.epoch } : null;
      // the source as the list names runs (relative to root), else its path
      const source = from && relative(root, from.run);
      const status = from
        ? `${state}, forked from ${source && !source.startsWith("..") ? source : from.run}` +
          `@${from.epoch}`
        : state;
      return { name, summary, status, writer, forkedFrom };
    } catch (e) {
      const status = `unreadable: ${(e as Error).message}`;
      return { name, summary: null, status, writer, forkedFrom: null };
    }
  });
}
