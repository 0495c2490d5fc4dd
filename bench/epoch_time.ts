/**
 * One timed epoch of the shallow CNN through the trainer's step (bench/epochs.ts, bench/dist_rank.ts):
 * Adadelta lr 0.1, global batch 256, one warm-up batch first; with `parallel`, this rank's
 * share of every batch, gradients averaged over the ranks.
 *
 * @module
 */

import { Adadelta, createModel, type Device, Saliency, synchronize } from "../mod.ts";
import type { ImageDataset } from "../src/data/dataset.ts";
import { DataLoader } from "../src/data/loader.ts";
import { type DataParallel, type EpochPlan, trainStep } from "../src/train/mod.ts";

/** Seconds of one epoch of `plan` on `data` (the warm-up batch not counted). */
export function shallowCnnEpochSeconds(
  data: ImageDataset,
  plan: EpochPlan,
  device: Device,
  parallel: DataParallel | null = null,
): number {
  const world = parallel?.worldSize ?? 1;
  const model = createModel("shallow-cnn", { device });
  parallel?.broadcastModel(model);
  const optimizer = new Adadelta(model.parameters(), { lr: 0.1 });
  const ctx = {
    model,
    optimizer,
    lambda: 1,
    saliency: new Saliency(model),
    reduction: "mean" as const,
    fill: "random" as const,
    sync: parallel?.stepSync(),
  };
  const shard = parallel ? { shard: { rank: parallel.rank, worldSize: world, pad: true } } : {};
  using loader = new DataLoader(data, {
    batchSize: 256 / world,
    device,
    dropLast: true,
    ...shard,
  });
  const [warm] = loader.epoch(99);
  trainStep(ctx, warm.x, warm.y, plan);
  synchronize();
  const t0 = performance.now();
  for (const b of loader.epoch(1)) {
    trainStep(ctx, b.x, b.y, plan);
    b.x.dispose();
    b.y.dispose();
  }
  synchronize();
  const s = (performance.now() - t0) / 1000;
  optimizer.dispose();
  model.dispose();
  return s;
}
