/**
 * Paired comparisons of methods over the seeds they share: each seed trained both ways is one
 * pair, so seed-to-seed variation (initialisation, data order) cancels. For every metric the
 * mean difference comes with a 95% t interval and a two-sided paired t test; with three seeds
 * t(0.975, 2) = 4.30, so only a difference large against its spread excludes zero.
 *
 * @module
 */

import { type PairedTest, pairedTTest } from "../util/stats.ts";

/** One method against another on one metric. */
export interface PairedComparison {
  /** The method. */
  method: string;
  /** What it is compared with (e.g. "baseline"). */
  against: string;
  /** The metric (e.g. "max_test_acc", "sib_median@1"). */
  metric: string;
  /** The seeds where both have a value, in order. */
  seeds: number[];
  /** Differences method - against. */
  test: PairedTest;
}

/** A run's seed, method and metric values (null: none, e.g. no checkpoint yet). */
export interface PairedInput {
  /** Method. */
  method: string;
  /** Seed. */
  seed: number;
  /** Metric values by name. */
  values: Record<string, number | null | undefined>;
}

/**
 * Every method but `against`, paired with `against` on each of `metrics` over the seeds both
 * have (methods without a shared seed are left out).
 */
export function pairedComparisons(
  runs: readonly PairedInput[],
  against: string,
  metrics: readonly string[],
): PairedComparison[] {
  const out: PairedComparison[] = [];
  const methods = [...new Set(runs.map((r) => r.method))].filter((m) => m !== against);
  for (const method of methods) {
    for (const metric of metrics) {
      const value = (m: string, seed: number) =>
        runs.find((r) => r.method === m && r.seed === seed)?.values[metric];
      const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b).filter((s) =>
        Number.isFinite(value(method, s)) && Number.isFinite(value(against, s))
      );
      if (!seeds.length) continue;
      const a = seeds.map((s) => value(method, s)!);
      const b = seeds.map((s) => value(against, s)!);
      out.push({ method, against, metric, seeds, test: pairedTTest(a, b) });
    }
  }
  return out;
}
