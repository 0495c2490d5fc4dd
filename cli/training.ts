/**
 * One training job on the terminal (`train`, `demo`): the engine with a progress line (a TTY)
 * or plain per-epoch lines, and Ctrl-C handling (cli/interrupt.ts).
 *
 * @module
 */

import { withInterrupt } from "./interrupt.ts";
import { ProgressLine } from "./progress.ts";
import type { TrainConfig } from "../src/train/config.ts";
import type { EpochMetrics } from "../src/train/run_dir.ts";
import { train, type TrainResult } from "../src/train/trainer.ts";

/** A percentage with 2 decimals and a "%" sign, or a blank for null. */
export const pct = (
  v: number | null,
): string => (v === null ? "   -  " : `${(100 * v).toFixed(2)}%`);

/** One plain line per epoch. */
export function epochLine(m: EpochMetrics, epochs: number): string {
  const k = m.k === null ? "" : ` k=${m.k.toFixed(2)}`;
  return `epoch ${
    String(m.epoch).padStart(String(epochs).length)
  }/${epochs} ${m.phase}/${m.mode}${k}: ` +
    `loss ${m.train_loss.toFixed(4)} acc ${pct(m.train_acc)} | val ${pct(m.val_acc)} | ` +
    `test ${pct(m.test_acc)} | ${m.seconds.toFixed(1)} s, ${m.images_per_s.toFixed(0)} img/s`;
}

/** Runs one training job; returns the engine's result. */
export async function runTraining(
  config: TrainConfig,
  out: string,
  resume: boolean,
  quiet = false,
): Promise<TrainResult> {
  const progress = new ProgressLine();
  return await withInterrupt(progress, ({ stopping }) =>
    train(config, out, {
      resume,
      shouldStop: stopping,
      onBatch: (p) => {
        const eta = ((p.batches - p.batch) * config.batchSize) / Math.max(p.imagesPerSecond, 1e-9);
        progress.update(
          `epoch ${p.epoch}/${p.epochs} ${p.plan.phase}/${p.plan.mode} batch ${p.batch}/${p.batches} ` +
            `loss ${p.loss.toFixed(4)} acc ${(100 * p.acc).toFixed(1)}% ${
              p.imagesPerSecond.toFixed(0)
            } img/s ` +
            `ETA ${eta.toFixed(0)}s`,
          p.batch / p.batches,
        );
      },
      onEpoch: (m) => {
        progress.done();
        if (!quiet) console.log(epochLine(m, config.epochs));
      },
    }));
}
