/**
 * `hlgm train` (quick run): loads Fashion-MNIST (or generates data), trains the shallow CNN,
 * prints progress and per-epoch results.
 *
 * @module
 */

import { manualSeed } from "../../mod.ts";
import { type ImageDataset, randomSubset } from "../../src/data/dataset.ts";
import { loadDataset, locateDataset } from "../../src/data/registry.ts";
import { syntheticImages } from "../../src/data/synthetic.ts";
import { quickTrain } from "../../src/train/quick.ts";
import type { Device } from "../../src/tensor/device.ts";
import { ProgressLine } from "../progress.ts";

/** Parsed flags of `train`. */
export interface TrainFlags {
  dataset?: "fashion-mnist" | "synthetic";
  dataDir?: string;
  epochs: number;
  subset?: number;
  batchSize: number;
  lr: number;
  momentum: number;
  device: string;
  seed: number;
}

async function loadData(
  flags: TrainFlags,
): Promise<{ name: string; train: ImageDataset; test: ImageDataset }> {
  const dir = flags.dataset === "synthetic"
    ? undefined
    : locateDataset("fashion-mnist", flags.dataDir);
  if (dir) {
    return {
      name: `Fashion-MNIST (${dir})`,
      train: await loadDataset("fashion-mnist", { dataDir: flags.dataDir, split: "train" }),
      test: await loadDataset("fashion-mnist", { dataDir: flags.dataDir, split: "test" }),
    };
  }
  if (flags.dataset === "fashion-mnist") {
    // the registry's error says where it looked and how to get it
    await loadDataset("fashion-mnist", { dataDir: flags.dataDir, split: "train" });
  }
  const n = flags.subset ?? 10000;
  return {
    name: "synthetic bars (Fashion-MNIST not found; `apt-get install dataset-fashion-mnist`)",
    train: syntheticImages(n, 1),
    test: syntheticImages(2000, 2),
  };
}

/** Runs a quick training job and prints its results. */
export async function runTrain(flags: TrainFlags): Promise<void> {
  const data = await loadData(flags);
  const train = flags.subset ? randomSubset(data.train, flags.subset, flags.seed) : data.train;
  console.log(
    `training shallow-cnn on ${data.name}: ${train.n} train / ${data.test.n} test images, ` +
      `${flags.epochs} epoch(s), batch ${flags.batchSize}, SGD lr ${flags.lr} momentum ${flags.momentum}, ` +
      `device ${flags.device}, seed ${flags.seed}`,
  );
  manualSeed(flags.seed);
  const progress = new ProgressLine();
  const results = quickTrain({
    train,
    test: data.test,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    lr: flags.lr,
    momentum: flags.momentum,
    seed: flags.seed,
    device: flags.device as Device,
    onBatch: (p) =>
      progress.update(
        `epoch ${p.epoch}/${flags.epochs} batch ${p.batch}/${p.batches} loss ${
          p.loss.toFixed(4)
        } ` +
          `acc ${(100 * p.accuracy).toFixed(1)}% ${p.imagesPerSecond.toFixed(0)} img/s ` +
          `ETA ${((p.batches - p.batch) * flags.batchSize / p.imagesPerSecond).toFixed(0)}s`,
        p.batch / p.batches,
      ),
  });
  for (const r of results) {
    progress.done();
    console.log(
      `epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)}, train acc ${
        (100 * r.trainAccuracy).toFixed(2)
      }%, ` +
        `test acc ${(100 * r.testAccuracy).toFixed(2)}%, ${r.seconds.toFixed(1)} s, ${
          r.imagesPerSecond.toFixed(0)
        } img/s`,
    );
  }
}
