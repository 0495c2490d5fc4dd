/**
 * The command line that runs this CLI again in a child process (a rank of `--nproc`, a sweep's
 * worker): this Deno, the project's import map (deno.json), and the entry this process was
 * started from (cli/hlgm.ts when installed, so the child's advice says `hlgm` too), else
 * cli/main.ts.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** `[deno, "run", "-A", "--quiet", ("--config", deno.json), entry]`: append the arguments. */
export function selfCommand(): string[] {
  const importMap = new URL("../deno.json", import.meta.url);
  const entry = /\/cli\/(hlgm|main)\.ts$/.test(Deno.mainModule)
    ? new URL(Deno.mainModule)
    : new URL("./main.ts", import.meta.url);
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    ...(importMap.protocol === "file:" ? ["--config", fileURLToPath(importMap)] : []),
    entry.protocol === "file:" ? fileURLToPath(entry) : entry.href,
  ];
}

/** The hidden command a sweep trains each of its runs with (`hlgm sweep-worker JOB.json`). */
export const SWEEP_WORKER_COMMAND = "sweep-worker";
