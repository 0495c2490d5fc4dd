/**
 * A test hook for crash safety: `HLGM_TEST_PAUSE_WRITE=PATTERN[@N]` makes the N-th write (1 by
 * default) of a file whose name matches the regular expression PATTERN stop halfway, print
 * `hlgm-test: paused writing FILE` on stderr and wait, so a test can kill the process (kill -9)
 * at exactly that point of a checkpoint or metrics write. Without the variable it costs one
 * environment lookup per process. With `HLGM_TEST_PAUSE_UNTIL=PATH` the pause ends when PATH
 * exists and the write goes on (a test holds a process at a known point, then lets it finish).
 *
 * @module
 */

import { pathExists } from "./fs.ts";

let spec: { pattern: RegExp; nth: number } | null | undefined;
let seen = 0;

function readSpec(): { pattern: RegExp; nth: number } | null {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("HLGM_TEST_PAUSE_WRITE");
  } catch {
    return null; // no --allow-env: no hook
  }
  if (!raw) return null;
  const m = raw.match(/^(.*?)(?:@(\d+))?$/s)!;
  return { pattern: new RegExp(m[1]), nth: m[2] ? Number(m[2]) : 1 };
}

/** True when this write of `file` is the one to pause in (counts the matching writes). */
export function shouldPauseWrite(file: string): boolean {
  if (spec === undefined) spec = readSpec();
  if (spec === null || !spec.pattern.test(file.slice(file.lastIndexOf("/") + 1))) return false;
  return ++seen === spec.nth;
}

/**
 * Announces the pause on stderr and blocks this thread: until the test kills the process, or
 * until the file HLGM_TEST_PAUSE_UNTIL names exists (at most 10 minutes).
 */
export function pauseWrite(file: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`hlgm-test: paused writing ${file}\n`));
  const until = Deno.env.get("HLGM_TEST_PAUSE_UNTIL");
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 10 * 60_000; waited += 50) {
    Atomics.wait(cell, 0, 0, 50);
    if (until && pathExists(until)) return;
  }
}
