/**
 * Kept checkpoints: complete copies of a run's checkpoint at chosen epochs, so that another run
 * can fork from them (`hlgm train --fork RUN@EPOCH`). A run keeps only its last checkpoint and
 * the weights its best pointers name; the state of any other epoch is gone once the next epoch
 * is saved. HLGM keeps the epoch at its switch (the last plain one), and `keepEvery` every Nth.
 *
 * `checkpoints/kept/epoch-NNNN/` is the checkpoints folder as it was right after that epoch was
 * saved: its weights and state files, last.json, and best.json / best-after-switch.json with the
 * weights they named. The files are hard links (checkpoint files are never written in place:
 * each write is a new file renamed over the old), copies where the file system has none; the
 * folder is made under a temporary name and renamed, so it is whole or absent.
 *
 * @module
 */

import { syncFolder } from "../util/atomic_write.ts";
import { epochTag } from "./checkpoint_files.ts";

/** The folder of kept checkpoints inside `checkpoints`. */
function keptFolder(checkpoints: string): string {
  return `${checkpoints}/kept`;
}

/** The folder epoch `epoch` is kept in. */
export function keptEpochFolder(checkpoints: string, epoch: number): string {
  return `${keptFolder(checkpoints)}/${epochTag(epoch)}`;
}

/**
 * The files of `checkpoints` that make its last checkpoint whole (see the module): the weights
 * and state last.json names, last.json, and the best pointers with the weights they name.
 */
export function checkpointFiles(checkpoints: string, weights: string, state: string): string[] {
  const files = [weights, state, "last.json"];
  for (const pointer of ["best.json", "best-after-switch.json"]) {
    let named: unknown;
    try {
      named = JSON.parse(Deno.readTextFileSync(`${checkpoints}/${pointer}`)).weights;
    } catch {
      continue; // not written yet (no masked epoch), or unreadable: nothing to keep of it
    }
    files.push(pointer);
    if (typeof named === "string" && !named.includes("/")) files.push(named);
  }
  return [...new Set(files)];
}

/** `from` at `to` too: a hard link, or a copy where links are not possible. */
export function linkOrCopy(from: string, to: string): void {
  try {
    Deno.linkSync(from, to);
  } catch {
    Deno.copyFileSync(from, to);
  }
}

/**
 * Keeps the checkpoint just saved in `checkpoints` (last.json names `weights` and `state` of
 * `epoch`) in kept/epoch-NNNN/, replacing an older copy of that epoch.
 */
export function keepCheckpoint(
  checkpoints: string,
  epoch: number,
  weights: string,
  state: string,
): void {
  const target = keptEpochFolder(checkpoints, epoch);
  const partial = `${keptFolder(checkpoints)}/.${target.split("/").pop()}.partial`;
  removeCutKeeps(checkpoints);
  Deno.mkdirSync(partial, { recursive: true });
  for (const f of checkpointFiles(checkpoints, weights, state)) {
    try {
      linkOrCopy(`${checkpoints}/${f}`, `${partial}/${f}`);
    } catch (e) {
      // a pointer's weights pruned meanwhile cannot be: only this process writes the folder
      if (!(e instanceof Deno.errors.NotFound) || f === weights || f === state) throw e;
    }
  }
  removeIfThere(target);
  Deno.renameSync(partial, target);
  syncFolder(keptFolder(checkpoints));
}

/** Removes the half-made kept folders a crash left (`.epoch-NNNN.partial`). */
function removeCutKeeps(checkpoints: string): void {
  try {
    for (const e of Deno.readDirSync(keptFolder(checkpoints))) {
      if (/^\.epoch-\d+\.partial$/.test(e.name)) {
        removeIfThere(`${keptFolder(checkpoints)}/${e.name}`);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** The epochs kept whole in `checkpoints` (each folder's last.json readable), ascending. */
export function keptEpochs(checkpoints: string): number[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(keptFolder(checkpoints))];
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory).map((e) => e.name.match(/^epoch-(\d+)$/))
    .filter((m) => m !== null).map((m) => Number(m![1]))
    .filter((epoch) => {
      try {
        Deno.statSync(`${keptEpochFolder(checkpoints, epoch)}/last.json`);
        return true;
      } catch {
        return false;
      }
    }).sort((a, b) => a - b);
}
