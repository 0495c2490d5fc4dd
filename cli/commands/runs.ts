/**
 * `hlgm runs [DIR]`: the run folders under DIR (default runs/) as a table, or JSON.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { pct } from "../../src/report/tables.ts";
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
  const head = [
    "run",
    "method",
    "model",
    "dataset",
    "seed",
    "epochs",
    "max test %",
    "final %",
    "status",
  ];
  const rows = runs.map(({ name, summary: s, status }) =>
    s
      ? [
        name,
        s.method,
        s.model,
        s.dataset,
        String(s.seed),
        `${s.epochs}/${s.configuredEpochs}`,
        pct(s.maxTestAcc),
        pct(s.finalTestAcc),
        status,
      ]
      : [name, "-", "-", "-", "-", "-", "-", "-", status]
  );
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const right = new Set([4, 5, 6, 7]);
  const line = (cells: string[]) =>
    cells.map((c, j) => (right.has(j) ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join("  ")
      .trimEnd();
  console.log([line(head), ...rows.map(line)].join("\n"));
  return runs;
}
