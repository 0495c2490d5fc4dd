/**
 * Accuracy and loss of a run's checkpoint on one of its splits (`hlgm eval`): the split the
 * trainer made for the run's config, fed through the run's eval transforms.
 *
 * @module
 */

import type { CheckpointRule } from "../run_folder/mod.ts";
import { DataLoader } from "../data/loader.ts";
import { loadRun } from "../train/load_run.ts";
import { evalTransforms, loadSplits } from "../train/setup.ts";
import { evaluate } from "../train/steps.ts";

/** Options of {@link evaluateRun}. */
export interface EvaluateRunOptions {
  /** Which checkpoint (default best). */
  checkpoint?: CheckpointRule;
  /** Which split (default test). */
  split?: "train" | "val" | "test";
  /** Device (default auto). */
  device?: string;
  /** Dataset root, when the data moved since training. */
  dataDir?: string;
}

/** What {@link evaluateRun} measured. */
export interface RunEvaluation {
  /** Accuracy, a fraction. */
  acc: number;
  /** Mean cross-entropy. */
  loss: number;
  /** Images. */
  n: number;
  /** Epoch of the checkpoint. */
  epoch: number;
  /** Dataset name. */
  dataset: string;
  /** The split. */
  split: "train" | "val" | "test";
  /** The checkpoint. */
  checkpoint: CheckpointRule;
  /** Set when the rule fell back to another checkpoint (why, and which). */
  checkpointNote?: string;
}

/** The accuracy and mean cross-entropy of a run's checkpoint on a split. */
export async function evaluateRun(
  runDir: string,
  options: EvaluateRunOptions = {},
): Promise<RunEvaluation> {
  const checkpoint = options.checkpoint ?? "best";
  const split = options.split ?? "test";
  const run = loadRun(runDir, { which: checkpoint, device: options.device });
  try {
    const c = { ...run.info.config, ...(options.dataDir ? { dataDir: options.dataDir } : {}) };
    const splits = await loadSplits(c);
    const ds = splits[split];
    if (!ds) throw new Error(`${runDir} has no validation split (val-fraction was 0)`);
    using loader = new DataLoader(ds, {
      batchSize: 500,
      shuffle: false,
      device: run.model.parameters()[0].device,
      transforms: evalTransforms(c, ds),
    });
    const r = evaluate(run.model, loader.epoch(0, false));
    return {
      ...r,
      epoch: run.epoch,
      dataset: c.dataset,
      split,
      checkpoint,
      ...(run.checkpointNote ? { checkpointNote: run.checkpointNote } : {}),
    };
  } finally {
    run.model.dispose();
  }
}
