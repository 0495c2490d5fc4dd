/**
 * The faithfulness scores of runs (`hlgm faith`, compare's faithfulness table): their names,
 * which way is better, and the settings used when not told otherwise. The one place the CLI,
 * compare and the library read them from (imports nothing heavy, so `--help` shows them without
 * libtorch).
 *
 * @module
 */

/** The scores, in the order tables list them. */
export const FAITH_METRICS = [
  "deletion",
  "insertion",
  "morf",
  "lerf",
  "infidelity",
  "sensitivity",
  "randomisation",
] as const;

/** One of {@link FAITH_METRICS}. */
export type FaithMetric = typeof FAITH_METRICS[number];

/** Per score: what a table calls it, which way is better, and what it is. */
export const FAITH_METRIC_INFO: Readonly<
  Record<FaithMetric, { label: string; better: "lower" | "higher"; what: string }>
> = {
  deletion: {
    label: "deletion AUC",
    better: "lower",
    what: "area under the target's probability as the top-ranked pixels are zeroed (RISE)",
  },
  insertion: {
    label: "insertion AUC",
    better: "higher",
    what: "area under the target's probability as the top-ranked pixels return to a blur (RISE)",
  },
  morf: {
    label: "AOPC MoRF",
    better: "higher",
    what: "mean drop of the probability as the most relevant regions become noise (Samek et al.)",
  },
  lerf: {
    label: "AOPC LeRF",
    better: "lower",
    what: "mean drop as the least relevant regions become noise (Samek et al.)",
  },
  infidelity: {
    label: "infidelity",
    better: "lower",
    what: "Captum's infidelity of the pixel map, scale fitted (normalize), Gaussian perturbations",
  },
  sensitivity: {
    label: "max-sensitivity",
    better: "lower",
    what: "Captum's sensitivity_max: the largest relative change of the map under small noise",
  },
  randomisation: {
    label: "randomisation rho",
    better: "lower",
    what: "Spearman correlation of the map with the map after the layers are re-initialised " +
      "from the output side, averaged over the cascade (Adebayo et al.)",
  },
};

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
