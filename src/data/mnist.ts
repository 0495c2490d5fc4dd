/**
 * MNIST (handwritten digits): the same IDX files as Fashion-MNIST, read by the same reader
 * with MNIST's class names and statistics; plus cheap per-split counts from the label files.
 *
 * @module
 */

import type { ImageDataset } from "./dataset.ts";
import { findFashionMnist, idxCounts, loadFashionMnist } from "./fashion_mnist.ts";
import type { DatasetSpec } from "./spec.ts";

/** MNIST's class names, by label. */
export const MNIST_CLASSES: readonly string[] = [
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
];

/** MNIST's training-set pixel mean and std (of pixel / 255). */
const MNIST_STATS = { mean: [0.1307], std: [0.3081] } as const;

/** `dir` when it holds the four MNIST idx files (raw or .gz), else undefined. */
function findMnist(dir: string): string | undefined {
  return findFashionMnist(dir);
}

/** Loads one split of MNIST from `dir` (validated like Fashion-MNIST). */
export async function loadMnist(dir: string, split: "train" | "test"): Promise<ImageDataset> {
  return {
    ...await loadFashionMnist(dir, split, "mnist"),
    name: "mnist",
    classes: MNIST_CLASSES,
    mean: MNIST_STATS.mean,
    std: MNIST_STATS.std,
  };
}

/** MNIST, from its idx files (`<root>/mnist`). */
export const mnistSpec: DatasetSpec = {
  name: "mnist",
  description: "MNIST: 70,000 28x28 grey images of handwritten digits, 10 classes (idx files)",
  hasBoxes: false,
  find: (root) => findMnist(`${root}/mnist`),
  load: (dir, o) => loadMnist(dir, o.split),
  counts: idxCounts,
};
