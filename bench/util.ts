/**
 * Small helpers shared by the benchmark scripts.
 *
 * @module
 */

import process from "node:process";

export { median } from "../src/util/stats.ts";

/** Value of `--name value` or `--name=value` in `args`, else undefined. */
export function flag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

/** Peak resident set size of this process (VmHWM), or null where /proc is unavailable. */
export function peakRssBytes(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Rounds to `digits` decimals (null stays null). */
export function round(x: number | null, digits = 2): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** CPU time (user + system, all threads) this process has used so far, in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The python that imports torch, or null. */
export async function findPython(): Promise<string | null> {
  const explicit = Deno.env.get("HLGM_BENCH_PYTHON");
  for (const py of explicit ? [explicit] : ["python3", "/usr/bin/python3"]) {
    try {
      const r = await new Deno.Command(py, { args: ["-c", "import torch"], stderr: "null" })
        .output();
      if (r.success) return py;
    } catch { /* not installed */ }
  }
  return null;
}
