/**
 * The run folder: its files and records (config.json, metrics, checkpoints and the rules that
 * pick one), and its one-writer lock.
 *
 * @module
 */

export {
  type BestEpoch,
  CHECKPOINT_RULES,
  type CheckpointLocation,
  type CheckpointRule,
  type EpochMetrics,
  type ForkOrigin,
  type ForkPoint,
  type LoadedCheckpoint,
  type PretrainedLoad,
  RunDir,
  type RunInfo,
  type TrainerState,
} from "./run_dir.ts";
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
