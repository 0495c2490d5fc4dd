/**
 * The one atomic file writer: checkpoints, run records, sib.json and dataset caches all go
 * through it, so a crash or a kill never leaves a half-written file under its real name.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

import { pauseWrite, shouldPauseWrite } from "./write_pause.ts";

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += file.writeSync(bytes.subarray(done));
}

/**
 * Writes a file atomically: the chunks go to a new temporary file in the same folder
 * (`.NAME.<time>-<random>.tmp`), which is flushed to disk (fsync) and then renamed over `path`;
 * the folder is synced so the rename lasts too. If anything fails (including the `chunks`
 * iterator throwing), the temporary file is removed, any previous file at `path` is left as it
 * was, and the error is rethrown.
 */
export function writeAtomic(target: string, chunks: Iterable<Uint8Array>): void {
  const dir = dirname(target);
  const tmp = join(
    dir,
    `.${basename(target)}.${Date.now().toString(36)}-${
      Math.random().toString(36).slice(2, 10)
    }.tmp`,
  );
  let file: Deno.FsFile | null = null;
  try {
    file = Deno.openSync(tmp, { write: true, createNew: true });
    let pause = shouldPauseWrite(target); // a test's kill -9 halfway through (write_pause.ts)
    for (const chunk of chunks) {
      if (pause) {
        writeAll(file, chunk.subarray(0, chunk.byteLength >> 1));
        pauseWrite(target);
        writeAll(file, chunk.subarray(chunk.byteLength >> 1));
        pause = false;
      } else writeAll(file, chunk);
    }
    file.syncSync();
    file.close();
    file = null;
    Deno.renameSync(tmp, target);
  } catch (e) {
    try {
      file?.close();
    } catch { /* already failing */ }
    try {
      Deno.removeSync(tmp);
    } catch { /* never created, or already gone */ }
    throw e;
  }
  syncFolder(dir);
}

/**
 * Makes the renames and links inside `dir` durable (best effort: not every platform can fsync a
 * folder).
 */
export function syncFolder(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch { /* best effort */ }
}

/** Writes `value` as JSON (one-space indent, final newline) through {@link writeAtomic}. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeAtomic(path, [new TextEncoder().encode(JSON.stringify(value, null, 1) + "\n")]);
}
