/**
 * Fashion-MNIST (and MNIST, same format): finding the files and loading a split.
 *
 * @module
 */

import type { ImageDataset } from "./dataset.ts";
import { readIdx } from "./idx.ts";

/** Fashion-MNIST's class names, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** Fashion-MNIST's training-set pixel mean and std (of pixel / 255). */
export const FASHION_MNIST_STATS = { mean: [0.2860], std: [0.3530] } as const;

const FILES = {
  train: ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
  test: ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
} as const;

function findFile(dir: string, base: string): string | undefined {
  for (const name of [base, `${base}.gz`]) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `dir` when it holds Fashion-MNIST's four idx files (raw or .gz), else undefined. */
export function findFashionMnist(dir: string): string | undefined {
  return [...FILES.train, ...FILES.test].every((f) => findFile(dir, f)) ? dir : undefined;
}

/** Loads one split of Fashion-MNIST from `dir`, checking that images and labels agree. */
export async function loadFashionMnist(
  dir: string,
  split: "train" | "test",
): Promise<ImageDataset> {
  const [imagesBase, labelsBase] = FILES[split];
  const imagesFile = findFile(dir, imagesBase);
  const labelsFile = findFile(dir, labelsBase);
  if (!imagesFile || !labelsFile) {
    throw new Error(`${dir}: missing ${imagesFile ? labelsBase : imagesBase}[.gz]`);
  }
  const images = await readIdx(imagesFile);
  const labels = await readIdx(labelsFile);
  if (images.shape.length !== 3) {
    throw new Error(`${imagesFile}: expected [N, H, W] images, got [${images.shape.join(", ")}]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new Error(
      `${labelsFile}: expected ${images.shape[0]} labels to match ${imagesFile}, got [${
        labels.shape.join(", ")
      }]`,
    );
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) {
    throw new Error(`${labelsFile}: label ${labels.data[bad]} at index ${bad} is not in 0..9`);
  }
  return {
    name: "fashion-mnist",
    split,
    n: images.shape[0],
    channels: 1,
    height: images.shape[1],
    width: images.shape[2],
    images: images.data,
    labels: Int32Array.from(labels.data),
    classes: FASHION_MNIST_CLASSES,
    mean: FASHION_MNIST_STATS.mean,
    std: FASHION_MNIST_STATS.std,
    source: dir,
  };
}
