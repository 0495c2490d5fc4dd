/**
 * The run folder: its files and records (config.json, metrics, checkpoints and the rules that
 * pick one), and its one-writer lock.
 *
 * @module
 */

export type {
  BestEpoch,
  CheckpointLocation,
  ConfigCheck,
  EpochMetrics,
  ForkOrigin,
  ForkPoint,
  LoadedCheckpoint,
  PretrainedLoad,
  RunInfo,
  TrainerState,
} from "./records.ts";
export { CHECKPOINT_RULES, type CheckpointRule } from "./checkpoint_rules.ts";
export { CheckpointStore } from "./checkpoint_store.ts";
export { RunDir } from "./run_dir.ts";
export {
  LOCK_FILE,
  type LockOwner,
  lockRunFolder,
  RunFolderBusyError,
  type RunFolderLock,
  runFolderWriter,
  withRunFolderLock,
  writerPhrase,
  writerText,
} from "./run_lock.ts";
