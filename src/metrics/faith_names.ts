/**
 * The faithfulness scores a run is given (`hlgm faith`, compare, the report): their names, what
 * tables call them and which way is better. Imports nothing, so `--help` and the report's
 * renderer read them without libtorch.
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
