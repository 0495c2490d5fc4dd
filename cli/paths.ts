/**
 * Checks of the path flags (`--out`, `--data-dir`, `--config`, `--pretrained`, `--resume`), made
 * before any work starts: each problem is a UsageError (exit 2) of one line naming the flag and
 * the path.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { UsageError } from "./errors.ts";

/** A path as messages show it: "" for the empty one. */
export function shownPath(path: string): string {
  return path === "" ? '""' : path;
}

function statOf(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/** `path` names an existing file (`flag` names the flag in the message). */
export function checkInputFile(flag: string, path: string): void {
  if (path === "") throw new UsageError(`${flag} "" is empty: give a file`);
  const st = statOf(path);
  if (!st) throw new UsageError(`${flag} ${path} does not exist`);
  if (!st.isFile) throw new UsageError(`${flag} ${path} is not a file`);
}

/** `path` names an existing folder. */
export function checkInputFolder(flag: string, path: string): void {
  if (path === "") throw new UsageError(`${flag} "" is empty: give a folder`);
  const st = statOf(path);
  if (!st) throw new UsageError(`${flag} ${path} does not exist`);
  if (!st.isDirectory) throw new UsageError(`${flag} ${path} is not a folder`);
}

/**
 * `path` can be an output folder: not empty, not the filesystem root, not an existing file, and
 * nothing on its way is a file.
 */
export function checkOutFolder(flag: string, path: string): void {
  if (path.trim() === "") {
    throw new UsageError(`${flag} ${shownPath(path)} is empty: give a folder to write into`);
  }
  const full = resolve(path);
  if (full === "/") {
    throw new UsageError(`${flag} ${path} is the filesystem root: give a folder to write into`);
  }
  const st = statOf(full);
  if (st && !st.isDirectory) {
    throw new UsageError(`${flag} ${path} exists and is not a folder`);
  }
  if (st) return;
  for (let up = dirname(full);; up = dirname(up)) {
    const s = statOf(up);
    if (s) {
      if (!s.isDirectory) throw new UsageError(`${flag} ${path}: ${up} is a file, not a folder`);
      return;
    }
    if (up === dirname(up)) return;
  }
}

/** A default output folder named by the time: PREFIX-YYYYMMDD-HHMMSS (UTC). */
export function stampedFolder(prefix: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${prefix}-${stamp}`;
}
