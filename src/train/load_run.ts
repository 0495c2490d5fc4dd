/**
 * Opening a finished (or running) run folder: its configuration, metrics, and the model with
 * the weights of its last or best checkpoint.
 *
 * @module
 */

import { assertFiniteWeights } from "../checkpoint/finite.ts";
import type { Model } from "../models/factory.ts";
import { createRunModel } from "./setup.ts";
import { deviceCode, deviceName } from "../tensor/device.ts";
import type { CheckpointRule, EpochMetrics } from "../run_folder/mod.ts";
import { openRunDir, type TrainRunInfo } from "./run_records.ts";

/** A run folder opened for evaluation, saliency or reports. */
export interface LoadedRun {
  /** The folder. */
  path: string;
  /** config.json. */
  info: TrainRunInfo;
  /** metrics.jsonl. */
  metrics: EpochMetrics[];
  /** The model with the checkpoint's weights, in eval mode. Dispose it when done. */
  model: Model;
  /** Epoch of the loaded checkpoint. */
  epoch: number;
  /** The checkpoint rule that chose it. */
  checkpoint: CheckpointRule;
  /** Set when the rule fell back to another checkpoint (why). */
  checkpointNote: string | null;
}

/**
 * Rebuilds the run's model on `device` and loads its `which` checkpoint (default "best");
 * a checkpoint with NaN or infinite weights is refused (NonFiniteWeightsError naming the
 * first such tensor).
 */
export function loadRun(
  path: string,
  options: { which?: CheckpointRule; device?: string } = {},
): LoadedRun {
  const dir = openRunDir(path);
  if (!dir.exists()) throw new Error(`${path}: not a run folder (no config.json)`);
  const info = dir.readInfo();
  const device = deviceName(deviceCode(options.device ?? "auto"));
  const [channels, size] = info.data.shape;
  const model = createRunModel(info.config, {
    channels,
    imageSize: size,
    classes: info.data.classes.length,
  }, device);
  try {
    const which = options.which ?? "best";
    const ck = dir.checkpoints.loadCheckpoint(which, device);
    try {
      // NaN/Inf weights are refused here, naming the tensor: eval, SIB and saliency of such a
      // model would print numbers that mean nothing
      assertFiniteWeights(ck.weights, `${path}: the ${which} checkpoint (epoch ${ck.epoch})`);
      model.loadStateDict(ck.weights);
    } finally {
      for (const t of [...ck.weights.values(), ...(ck.state?.values() ?? [])]) t.dispose();
    }
    model.eval();
    return {
      path,
      info,
      metrics: dir.readMetrics(),
      model,
      epoch: ck.epoch,
      checkpoint: which,
      checkpointNote: ck.note,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
