/**
 * `hlgm eval RUNDIR`: accuracy and loss of a run's checkpoint on a split.
 *
 * @module
 */

import { DataLoader } from "../../src/data/loader.ts";
import { loadRun } from "../../src/train/load_run.ts";
import { evaluate } from "../../src/train/steps.ts";
import { loadSplits } from "../../src/train/trainer.ts";

/** Prints (and returns) the accuracy and mean cross-entropy of the checkpoint on the split. */
export async function runEval(
  runDir: string,
  opts: {
    checkpoint?: "best" | "last";
    split?: "train" | "val" | "test";
    device?: string;
    dataDir?: string;
    json?: boolean;
  },
): Promise<{ acc: number; loss: number; n: number }> {
  const run = loadRun(runDir, { which: opts.checkpoint ?? "best", device: opts.device });
  try {
    const c = { ...run.info.config, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) };
    const splits = await loadSplits(c);
    const split = opts.split ?? "test";
    const ds = split === "val" ? splits.val : splits[split];
    if (!ds) throw new Error(`${runDir} has no validation split (val-fraction was 0)`);
    const size = run.info.data.shape[1];
    using loader = new DataLoader(ds, {
      batchSize: 500,
      shuffle: false,
      device: run.model.parameters()[0].device,
      transforms: size !== ds.height ? { resize: size } : {},
    });
    const r = evaluate(run.model, loader.epoch(0, false));
    if (opts.json) {
      console.log(
        JSON.stringify({
          run: runDir,
          checkpoint: opts.checkpoint ?? "best",
          epoch: run.epoch,
          split,
          ...r,
        }),
      );
    } else {
      console.log(
        `${runDir} (${
          opts.checkpoint ?? "best"
        } checkpoint, epoch ${run.epoch}) on ${c.dataset}/${split}: ` +
          `accuracy ${(100 * r.acc).toFixed(2)}%, loss ${r.loss.toFixed(4)}, ${r.n} images`,
      );
    }
    return r;
  } finally {
    run.model.dispose();
  }
}
