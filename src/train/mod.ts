/**
 * Training: the schedule of baseline/SGT/HLGM, the step functions, the engine with run
 * folders and checkpoints, and loading finished runs.
 *
 * @module
 */

export {
  advance,
  describeSchedule,
  type EpochPlan,
  type EpochValues,
  initialState,
  type Method,
  type Monitor,
  planEpoch,
  previewSchedule,
  type RecordedEpoch,
  type Replay,
  replaySchedule,
  SCHEDULE_KEYS,
  type ScheduleConfig,
  type ScheduleState,
  unreachableSwitch,
} from "./schedule.ts";
export {
  type Always,
  checkedConfig,
  CONFIG_FIELDS,
  type ConfigField,
  configProblems,
  defaultConfig,
  defaultNormalization,
  describePreset,
  type EarlierSettings,
  EPISODE_ORDERS,
  FILLS,
  findPreset,
  flagName,
  type Flat,
  FORK_SETTINGS,
  K_TOP_DECAYS,
  MASK_SALIENCY,
  METHODS,
  MODEL_DEFAULTS,
  MONITORS,
  NORMALIZATIONS,
  OPTIMIZERS,
  PRECISIONS,
  type Preset,
  PRESET_NAMES,
  PRESETS,
  type PresetSettings,
  presetWeightsWarning,
  REDUCTIONS,
  SALIENCY_SIGNS,
  scheduleOf,
  type SettingKind,
  settingProblems,
  type SettingRow,
  SETTINGS,
  settingsFileProblems,
  type SettingsOf,
  type SettingsTable,
  TRAIN_DATASETS,
  type TrainConfig,
  type ValueOfRow,
} from "./config.ts";
export {
  openRunDir,
  savedSettingsProblems,
  type TrainRunDir,
  type TrainRunInfo,
} from "./run_records.ts";
export {
  type EvalBatch,
  type EvalSum,
  evaluate,
  evaluateAsync,
  maskedInputs,
  type MaskSettings,
  type StepContext,
  type StepResult,
  type StepSync,
  trainStep,
} from "./steps.ts";
export {
  DataParallel,
  DEFAULT_DIST_TIMEOUT_MS,
  DistributedError,
  type DistributedTraining,
} from "./distributed.ts";
export {
  fork,
  type ForkOptions,
  loadSplits,
  type RunHooks,
  type RunStart,
  train,
  type TrainHooks,
  type TrainOptions,
  trainPlan,
  type TrainProgress,
  type TrainResult,
  type TrainStatus,
} from "./trainer.ts";
export {
  assertRunFolder,
  type ForkAt,
  type ForkPlan,
  type ForkRequest,
  type NewRequest,
  parseForkSource,
  type PlanBase,
  planRun,
  type RestartRequest,
  type ResumePlan,
  type ResumeRequest,
  type ReusePlan,
  type ReuseRequest,
  type RunIntent,
  type RunPlan,
  RunPlanError,
  type RunRefusal,
  type RunRequest,
  type StartPlan,
} from "./run_plan.ts";
export { createRunModel, loadRunPretrained, type RunInputs, runStem } from "./setup.ts";
export { FP32, precisionWarning, type StepPrecision, stepPrecision } from "./precision.ts";
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Normalization,
  runNormalization,
  withRunNormalization,
} from "./normalization.ts";
export { type LoadedRun, loadRun } from "./load_run.ts";
export { InterruptedError, Yielder, yieldToEventLoop } from "../util/event_loop.ts";
