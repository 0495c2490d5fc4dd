/**
 * The faithfulness tables, as rows for text or Markdown: per score, each run's mean with its 95%
 * interval over the images, and each run's paired difference from the first run.
 *
 * @module
 */

import { FAITH_METRIC_INFO, type FaithMetric } from "../metrics/faith_names.ts";
import type { MeanInterval, PairedTest } from "../util/stats.ts";

/** A scored run, as the tables need it. */
export interface FaithColumn {
  /** Column name. */
  name: string;
  /** The scores computed. */
  metrics: readonly FaithMetric[];
  /** Per score, the mean with its interval. */
  summary: Partial<Record<FaithMetric, MeanInterval>>;
}

/** A run's paired difference from another, as the tables need it. */
export interface FaithPairedColumn {
  /** The run. */
  run: string;
  /** The run compared with. */
  against: string;
  /** The score. */
  metric: FaithMetric;
  /** run - against. */
  test: PairedTest;
}

/** Four significant digits, without exponent for ordinary magnitudes. */
export function sig4(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** "mean [lo, hi]" (the mean alone below 2 values). */
export function withInterval(mean: number, ci: readonly [number, number] | null): string {
  return ci ? `${sig4(mean)} [${sig4(ci[0])}, ${sig4(ci[1])}]` : sig4(mean);
}

/** A p-value as tables print it. */
function pText(p: number | null): string {
  if (p === null) return "";
  return p < 1e-4 ? "p<0.0001" : `p=${p < 0.01 ? p.toPrecision(2) : p.toFixed(3)}`;
}

/** Head and rows of the means table: one row per score, one column per run. */
export function faithMeanRows(
  runs: readonly FaithColumn[],
): { head: string[]; rows: string[][] } {
  const metrics = runs[0]?.metrics ?? [];
  return {
    head: ["score", "better", ...runs.map((r) => r.name)],
    rows: metrics.map((m) => [
      FAITH_METRIC_INFO[m].label,
      FAITH_METRIC_INFO[m].better,
      ...runs.map((r) => {
        const s = r.summary[m];
        return s ? withInterval(s.mean, s.ci95) : "-";
      }),
    ]),
  };
}

/** Head and rows of the paired table: one row per score, one column per run compared. */
export function faithPairedRows(
  paired: readonly FaithPairedColumn[],
): { head: string[]; rows: string[][] } {
  const runs = [...new Set(paired.map((p) => p.run))];
  const metrics = [...new Set(paired.map((p) => p.metric))];
  const against = paired[0]?.against ?? "";
  return {
    head: ["score", "better", ...runs.map((r) => `${r} - ${against}`)],
    rows: metrics.map((m) => [
      FAITH_METRIC_INFO[m].label,
      FAITH_METRIC_INFO[m].better,
      ...runs.map((r) => {
        const p = paired.find((q) => q.run === r && q.metric === m);
        return p ? `${withInterval(p.test.mean, p.test.ci95)} ${pText(p.test.p)}`.trim() : "-";
      }),
    ]),
  };
}
