/**
 * Metrics of saliency maps: localisation (SIB, top-k intersection, pointing game, relevance
 * mass accuracy, and their summaries) and faithfulness (deletion and insertion, MoRF/LeRF region
 * perturbation and AOPC, infidelity, max-sensitivity) and the cascading model-randomisation
 * sanity check.
 *
 * @module
 */

export { type BatchBoxes, type Box, boxMask } from "./boxes.ts";
export {
  boxFraction,
  DEFAULT_SIB_PERCENTS,
  pointingGame,
  relevanceMassAccuracy,
  sib,
  sibCount,
  summarize,
  type Summary,
  topKIntersection,
} from "./sib.ts";
export {
  BLUR_KERNEL,
  type CurveMode,
  perturbationCurve,
  type PerturbationCurveOptions,
  type PerturbationCurves,
  type Substrate,
  substrateOf,
} from "./deletion.ts";
export {
  type RegionCurves,
  type RegionOrder,
  regionPerturbation,
  type RegionPerturbationOptions,
  uniformNoise,
} from "./aopc.ts";
export { infidelity, type InfidelityOptions } from "./infidelity.ts";
export { sensitivityMax, type SensitivityOptions } from "./sensitivity.ts";
export {
  cascadingRandomisation,
  defaultRandomisationLayers,
  type RandomisationOptions,
  type RandomisationResult,
  reinitialise,
  spearmanRows,
  ssimBatch,
} from "./randomisation.ts";
