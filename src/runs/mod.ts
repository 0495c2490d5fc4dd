/**
 * The application layer: run-level work over run folders, built on the library layers.
 * a run's evaluation, its SIB (sib.json's fields) and the SIB of several runs, the saliency
 * figure, the report, and the comparison of methods x seeds behind Tables II and III (trains
 * or resumes the runs, scores them, renders through report/), and sweeps over settings x seeds.
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
  evaluateSib,
  type EvaluateSibOptions,
  imagesWithBoxes,
  loadTestSplit,
  pixelSaliencyFn,
  runTransforms,
  type SaliencySign,
  type SibEvaluation,
  type SibSign,
  sibSign,
  signNote,
  trainedSign,
} from "./sib.ts";
export { DEFAULT_SIB_CHECKPOINT, DEFAULT_SIB_N, SIB_CHECKPOINT_WHY } from "./sib_defaults.ts";
export { readSibFile, type SibFile, writeSibFile } from "./sib_file.ts";
export { writeJsonAtomic } from "../util/atomic_write.ts";
export { evaluateRun, type EvaluateRunOptions, type RunEvaluation } from "./eval.ts";
export { type ReportOptions, type ReportResult, writeReport } from "./report.ts";
export {
  drawSaliencyFigure,
  type ImageSaliency,
  type RunSaliency,
  type RunSaliencyOptions,
  type SaliencyFigure,
  saliencyFigure,
  type SaliencyFigureOptions,
  saliencyOfRun,
  type ShownImages,
} from "./saliency.ts";
export { type SibOfRuns, sibOfRuns, type SibOfRunsOptions, type SibRunResult } from "./sib_runs.ts";
export { accuracyStats, type RunSummary, summarizeRun, uniqueRunNames } from "./summary.ts";
export {
  parseGridArg,
  type RunningJob,
  sweep,
  type SweepAxis,
  type SweepCell,
  type SweepCellResult,
  sweepCells,
  type SweepOptions,
  type SweepResult,
  type SweepRun,
} from "./sweep.ts";
export {
  checkpointOf,
  type JobStatus,
  planJob,
  type RunSibChoice,
  sibOfRunCached,
  switchEpoch,
} from "./run_jobs.ts";
export {
  freePort,
  launchLocalRanks,
  type LaunchOptions,
  type LaunchResult,
  totalThreads,
} from "./launch.ts";
