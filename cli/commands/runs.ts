/**
 * `hlgm runs [DIR]`: the run folders under DIR (default runs/) as a table, or JSON.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { runsTable } from "../../src/report/tables.ts";
import { type ListedRun, listRuns } from "../../src/runs/list.ts";

/** Prints the runs under `dir`; returns them. */
export function runRuns(dir: string | undefined, opts: { json?: boolean }): ListedRun[] {
  const root = dir ?? "runs";
  try {
    if (!Deno.statSync(root).isDirectory) throw new Error();
  } catch {
    throw new UsageError(`${root} is not a folder`);
  }
  const runs = listRuns(root);
  if (opts.json) {
    console.log(JSON.stringify(runs, null, 1));
    return runs;
  }
  if (runs.length === 0) {
    console.log(`no run folders under ${root}`);
    return runs;
  }
  console.log(runsTable(runs));
  return runs;
}
