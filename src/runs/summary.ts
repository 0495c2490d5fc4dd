/**
 * What the report and compare say about a run folder without loading its weights: configuration, epochs
 * done, maximum and final test accuracy (the paper's two numbers), the best checkpoint's
 * epoch, time; and short unique names for several run folders.
 *
 * @module
 */

import type { RunSummary } from "../report/tables.ts";
import type { EpochMetrics } from "../run_folder/mod.ts";
import { openRunDir, type TrainRunInfo } from "../train/run_records.ts";

export type { RunSummary };

/** Max/final test accuracy and their epochs from metrics lines. */
export function accuracyStats(
  metrics: readonly Pick<EpochMetrics, "epoch" | "test_acc">[],
): { max: number | null; maxEpoch: number | null; final: number | null } {
  const sorted = [...metrics].sort((a, b) => a.epoch - b.epoch);
  let max: number | null = null;
  let maxEpoch: number | null = null;
  for (const m of sorted) {
    if (max === null || m.test_acc > max) {
      max = m.test_acc;
      maxEpoch = m.epoch;
    }
  }
  return { max, maxEpoch, final: sorted.length ? sorted[sorted.length - 1].test_acc : null };
}

/** Reads a run folder's config, metrics and best pointer into a summary. */
export function summarizeRun(path: string, name = baseName(path)): {
  summary: RunSummary;
  info: TrainRunInfo;
  metrics: EpochMetrics[];
} {
  const dir = openRunDir(path);
  if (!dir.exists()) throw new Error(`${path}: not a run folder (no config.json)`);
  const info = dir.readInfo();
  const metrics = dir.readMetrics();
  const acc = accuracyStats(metrics);
  const best = dir.checkpoints.pointerRecord("best");
  const c = info.config;
  const switched = metrics.find((m) => m.phase === "sgt" && c.method === "hlgm");
  return {
    summary: {
      name,
      path,
      method: c.method,
      model: c.model,
      dataset: c.dataset,
      seed: c.seed,
      epochs: metrics.length,
      configuredEpochs: c.epochs,
      complete: metrics.length >= c.epochs,
      maxTestAcc: acc.max,
      maxTestEpoch: acc.maxEpoch,
      finalTestAcc: acc.final,
      bestEpoch: best?.epoch ?? null,
      bestMetric: best?.metric ?? null,
      switchEpoch: switched?.epoch ?? null,
      seconds: metrics.reduce((a, m) => a + m.seconds, 0),
    },
    info,
    metrics,
  };
}

/** The last path component of a folder. */
function baseName(path: string): string {
  return path.replace(/\/+$/, "").split("/").filter((s) => s).at(-1) ?? "run";
}

/** Short unique names for folders: last component, more components where they collide. */
export function uniqueRunNames(paths: readonly string[]): string[] {
  const parts = paths.map((p) => p.replace(/\/+$/, "").split("/").filter((s) => s && s !== "."));
  const names = parts.map((p) => p.at(-1) ?? "run");
  for (let depth = 2; new Set(names).size < names.length && depth <= 8; depth++) {
    const clash = names.map((n) => names.filter((m) => m === n).length > 1);
    clash.forEach((c, i) => {
      if (c) names[i] = parts[i].slice(-depth).join("/");
    });
  }
  // still equal (the same folder twice): number them
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k > 1 ? `${n}#${k}` : n;
  });
}
