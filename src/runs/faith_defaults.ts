/**
 * What the faithfulness scores of runs (`hlgm faith`, compare's faithfulness table) compute when
 * not told otherwise: which scores, how many images, each score's settings. The one place the
 * CLI, compare and the library read them from (imports nothing heavy, so `--help` shows them
 * without libtorch); the scores' names are src/metrics/faith_names.ts's.
 *
 * @module
 */

import { FAITH_METRICS, type FaithMetric } from "../metrics/faith_names.ts";

export { FAITH_METRIC_INFO, FAITH_METRICS, type FaithMetric } from "../metrics/faith_names.ts";

/** The scores `hlgm faith` and compare compute unless told otherwise: all of them. */
export const DEFAULT_FAITH_METRICS: readonly FaithMetric[] = FAITH_METRICS;

/** Test images scored (drawn with a seed; "all" for the whole test split). */
export const DEFAULT_FAITH_N: number | "all" = 1000;

/** The settings of each score, recorded in faith.json. */
export const FAITH_SETTINGS = {
  /** Deletion: steps and the substrate (RISE's zero). */
  deletion: { steps: 20, substrate: "zero" },
  /** Insertion: steps and the start (RISE's blur). */
  insertion: { steps: 20, substrate: "blur" },
  /** AOPC: patch side (null: the smallest divisor of the image side that gives at most 8 x 8 regions), every region perturbed, uniform noise. */
  aopc: { patch: null as number | null },
  /** Infidelity: Captum's sample count; the noise's deviation; the scale fitted. */
  infidelity: { samples: 10, sigma: 0.003, normalize: true },
  /** Max-sensitivity: Captum's defaults. */
  sensitivity: { samples: 10, radius: 0.02 },
  /** Randomisation: the model's parameter-holding children from the output side. */
  randomisation: { layers: "top-level, output first" },
} as const;

/**
 * The AOPC patch for an image: the smallest common divisor of its sides that leaves at most 8
 * regions per side (4 for 28 and 32 pixels, 28 for 224), else their greatest common divisor.
 */
export function aopcPatch(height: number, width: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(height, width);
  const want = Math.ceil(Math.max(height, width) / 8);
  for (let p = want; p < g; p++) if (g % p === 0) return p;
  return g;
}
