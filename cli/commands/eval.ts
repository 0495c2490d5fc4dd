/**
 * `hlgm eval RUNDIR`: accuracy and loss of a run's checkpoint on a split (src/runs/eval.ts).
 *
 * @module
 */

import type { CheckpointRule } from "../../src/run_folder/mod.ts";
import { evaluateRun, type RunEvaluation } from "../../src/runs/eval.ts";
import { readRunInfos } from "../run_args.ts";
import { checkInputFolder } from "../paths.ts";

/** Prints (and returns) the accuracy and mean cross-entropy of the checkpoint on the split. */
export async function runEval(
  runDir: string,
  opts: {
    checkpoint?: CheckpointRule;
    split?: "train" | "val" | "test";
    device?: string;
    dataDir?: string;
    json?: boolean;
  },
): Promise<RunEvaluation> {
  readRunInfos([runDir]); // a run folder with a readable config.json, or exit 2
  if (opts.dataDir !== undefined) checkInputFolder("--data-dir", opts.dataDir);
  const r = await evaluateRun(runDir, opts);
  if (r.checkpointNote) console.error(`note: ${r.checkpointNote}`);
  if (opts.json) {
    console.log(
      JSON.stringify({
        run: runDir,
        checkpoint: r.checkpoint,
        epoch: r.epoch,
        split: r.split,
        loss: r.loss,
        acc: r.acc,
        n: r.n,
      }),
    );
  } else {
    console.log(
      `${runDir} (${r.checkpoint} checkpoint, epoch ${r.epoch}) on ${r.dataset}/${r.split}: ` +
        `accuracy ${(100 * r.acc).toFixed(2)}%, loss ${r.loss.toFixed(4)}, ${r.n} images`,
    );
  }
  return r;
}
