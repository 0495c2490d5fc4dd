/**
 * The application layer: run-level work over run folders, built on the library layers.
 * SIB of a run (sib.json's fields) and the comparison of methods x seeds behind Tables II and
 * III (trains or resumes the runs, scores them, renders through report/).
 *
 * @module
 */

export {
  compareConfig,
  compareMethods,
  type CompareOptions,
  type CompareResult,
  type CompareRun,
  configDifferences,
  formatMeanSd,
  hasBoxes,
  type SeedStats,
} from "./compare.ts";
export {
  type AttributionChoice,
  drawIndices,
  evalTransforms,
  evaluateSib,
  type EvaluateSibOptions,
  imagesWithBoxes,
  loadTestSplit,
  pixelSaliencyFn,
  type SibEvaluation,
} from "./sib.ts";
export { readSibFile, type SibFile, writeJsonAtomic, writeSibFile } from "./sib_file.ts";
