/**
 * A short supervised run of the shallow CNN (cross-entropy, SGD with momentum) on byte images,
 * used by the quick start to show the stack working end to end. The full trainer (baseline,
 * SGT, HLGM, checkpoints, resume) builds on the same pieces.
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import { DataLoader } from "../data/loader.ts";
import { ShallowCNN } from "../models/shallow_cnn.ts";
import { SGD } from "../optim/sgd.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Device } from "../tensor/device.ts";
import { tidy } from "../tensor/engine.ts";
import { crossEntropy } from "../tensor/functional.ts";

/** Options of a quick run. */
export interface QuickTrainOptions {
  /** Training images. */
  train: ImageDataset;
  /** Test images (accuracy after each epoch). */
  test: ImageDataset;
  /** Epochs (default 1). */
  epochs?: number;
  /** Batch size (default 256). */
  batchSize?: number;
  /** Learning rate (default 0.05). */
  lr?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Seed for initialisation and shuffling (default 0). */
  seed?: number;
  /** Device (default cpu). */
  device?: Device;
  /** Called after every batch. */
  onBatch?: (progress: BatchProgress) => void;
}

/** Progress within an epoch. */
export interface BatchProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Batches done in this epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Mean training loss so far this epoch. */
  loss: number;
  /** Training accuracy so far this epoch. */
  accuracy: number;
  /** Images per second so far this epoch. */
  imagesPerSecond: number;
}

/** One epoch's results. */
export interface EpochResult {
  /** 1-based epoch. */
  epoch: number;
  /** Mean training loss. */
  trainLoss: number;
  /** Training accuracy. */
  trainAccuracy: number;
  /** Test accuracy. */
  testAccuracy: number;
  /** Seconds spent training this epoch. */
  seconds: number;
  /** Training images per second. */
  imagesPerSecond: number;
}

/** Accuracy of `model` in eval mode over every batch of `loader`. */
function evaluate(model: ShallowCNN, loader: DataLoader): number {
  model.eval();
  let correct = 0;
  for (const batch of loader.epoch(0, false)) {
    correct += tidy(() => noGrad(() => model.forward(batch.x).argmax(1).eq(batch.y).sum().item()));
  }
  return correct / loader.dataset.n;
}

/** Trains a fresh shallow CNN; returns one result per epoch. */
export function quickTrain(options: QuickTrainOptions): EpochResult[] {
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 256;
  const device = options.device ?? "cpu";
  const seed = options.seed ?? 0;
  if (options.train.n < batchSize) {
    throw new RangeError(`${options.train.n} training images make no full batch of ${batchSize}`);
  }
  const train = new DataLoader(options.train, { batchSize, seed, dropLast: true, device });
  const test = new DataLoader(options.test, { batchSize: 1000, shuffle: false, device });
  const model = new ShallowCNN({
    inChannels: options.train.channels,
    imageSize: options.train.height,
    numClasses: options.train.classes.length,
    device: train.device,
  });
  const optimizer = new SGD(model.parameters(), {
    lr: options.lr ?? 0.05,
    momentum: options.momentum ?? 0.9,
  });
  const results: EpochResult[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      const start = performance.now();
      let b = 0;
      for (const batch of train.epoch(epoch)) {
        const [loss, hits] = tidy(() => {
          const logits = model.train().forward(batch.x);
          const l = crossEntropy(logits, batch.y);
          l.backward();
          optimizer.step();
          optimizer.zeroGrad();
          return [l.item(), noGrad(() => logits.argmax(1).eq(batch.y).sum().item())];
        });
        b++;
        if (!Number.isFinite(loss)) {
          throw new Error(`loss became ${loss} at epoch ${epoch}, batch ${b}`);
        }
        lossSum += loss;
        correct += hits;
        seen += batch.indices.length;
        options.onBatch?.({
          epoch,
          batch: b,
          batches: train.length,
          loss: lossSum / b,
          accuracy: correct / seen,
          imagesPerSecond: seen / ((performance.now() - start) / 1000),
        });
      }
      const seconds = (performance.now() - start) / 1000;
      results.push({
        epoch,
        trainLoss: lossSum / b,
        trainAccuracy: correct / seen,
        testAccuracy: evaluate(model, test),
        seconds,
        imagesPerSecond: seen / seconds,
      });
    }
  } finally {
    optimizer.dispose();
    model.dispose();
    train.dispose();
    test.dispose();
  }
  return results;
}
