/**
 * The names of a run's checkpoint rules (imports nothing, so `--help` can list them).
 *
 * @module
 */

/**
 * Which checkpoint of a run to load: the best validation accuracy over all epochs, the last
 * epoch, or the best among the masked (SGT-phase) epochs. HLGM's best checkpoint can be a model
 * from before its switch, i.e. a baseline model; best-after-switch scores what the masking
 * made. Runs that never mask (baseline, an HLGM run that never switched) have no switch: their
 * best-after-switch is their best.
 */
export const CHECKPOINT_RULES = ["best", "last", "best-after-switch"] as const;
/** One of CHECKPOINT_RULES. */
export type CheckpointRule = typeof CHECKPOINT_RULES[number];
