/**
 * A short supervised run of the shallow CNN (cross-entropy, SGD with momentum) on byte images,
 * used by the quick start to show the stack working end to end. The full trainer (baseline,
 * SGT, HLGM, checkpoints, resume) builds on the same pieces.
 *
 * @module
 */

import type { ByteImages } from "../data/fashion_mnist.ts";
import { mulberry32 } from "../data/synthetic.ts";
import { ShallowCNN } from "../models/shallow_cnn.ts";
import { SGD } from "../optim/sgd.ts";
import { type Device, deviceCode, deviceName } from "../tensor/device.ts";
import { tidy } from "../tensor/engine.ts";
import { noGrad } from "../tensor/autograd.ts";
import { crossEntropy } from "../tensor/functional.ts";
import { tensor } from "../tensor/create.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of a quick run. */
export interface QuickTrainOptions {
  /** Training images. */
  train: ByteImages;
  /** Test images (accuracy after each epoch). */
  test: ByteImages;
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

const MEAN = 0.2860; // Fashion-MNIST train pixel mean / std (of x / 255)
const STD = 0.3530;

function batchTensors(
  data: ByteImages,
  index: ArrayLike<number>,
  device: Device,
): [Tensor, Tensor] {
  const px = data.size * data.size;
  const x = new Float32Array(index.length * px);
  const y = new BigInt64Array(index.length);
  for (let i = 0; i < index.length; i++) {
    const src = index[i] * px;
    for (let j = 0; j < px; j++) x[i * px + j] = (data.images[src + j] / 255 - MEAN) / STD;
    y[i] = BigInt(data.labels[index[i]]);
  }
  return [
    tensor(x, { shape: [index.length, 1, data.size, data.size], device }),
    tensor(y, { device }),
  ];
}

function shuffled(n: number, rand: () => number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Test-set accuracy of `forward` in eval mode. */
function evaluate(forward: (x: Tensor) => Tensor, data: ByteImages, device: Device): number {
  let correct = 0;
  for (let start = 0; start < data.n; start += 1000) {
    const index = Uint32Array.from({ length: Math.min(1000, data.n - start) }, (_, i) => start + i);
    correct += tidy(() =>
      noGrad(() => {
        const [x, y] = batchTensors(data, index, device);
        return forward(x).argmax(1).eq(y).sum().item();
      })
    );
  }
  return correct / data.n;
}

/** Trains a fresh shallow CNN; returns one result per epoch. */
export function quickTrain(options: QuickTrainOptions): EpochResult[] {
  const { train, test } = options;
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 256;
  const lr = options.lr ?? 0.05;
  const momentum = options.momentum ?? 0.9;
  const device = deviceName(deviceCode(options.device ?? "cpu"));
  const rand = mulberry32(options.seed ?? 0);
  const model = new ShallowCNN({ imageSize: train.size, device });
  const optimizer = new SGD(model.parameters(), { lr, momentum });
  const results: EpochResult[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = shuffled(train.n, rand);
      const batches = Math.floor(train.n / batchSize); // drop the last partial batch
      if (batches === 0) {
        throw new RangeError(`${train.n} training images make no full batch of ${batchSize}`);
      }
      let lossSum = 0;
      let correct = 0;
      const start = performance.now();
      for (let b = 0; b < batches; b++) {
        const index = order.subarray(b * batchSize, (b + 1) * batchSize);
        const [loss, hits] = tidy(() => {
          const [x, y] = batchTensors(train, index, device);
          const logits = model.train().forward(x);
          const l = crossEntropy(logits, y);
          l.backward();
          optimizer.step();
          optimizer.zeroGrad();
          return [l.item(), noGrad(() => logits.argmax(1).eq(y).sum().item())];
        });
        if (!Number.isFinite(loss)) {
          throw new Error(`loss became ${loss} at epoch ${epoch}, batch ${b + 1}`);
        }
        lossSum += loss;
        correct += hits;
        const seconds = (performance.now() - start) / 1000;
        options.onBatch?.({
          epoch,
          batch: b + 1,
          batches,
          loss: lossSum / (b + 1),
          accuracy: correct / ((b + 1) * batchSize),
          imagesPerSecond: ((b + 1) * batchSize) / seconds,
        });
      }
      const seconds = (performance.now() - start) / 1000;
      results.push({
        epoch,
        trainLoss: lossSum / batches,
        trainAccuracy: correct / (batches * batchSize),
        testAccuracy: evaluate((x) => model.eval().forward(x), test, device),
        seconds,
        imagesPerSecond: (batches * batchSize) / seconds,
      });
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return results;
}
