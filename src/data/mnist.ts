/**
 * MNIST (handwritten digits): the same IDX files as Fashion-MNIST, read by the same reader
 * with MNIST's class names and statistics; plus cheap per-split counts from the label files.
 *
 * @module
 */

import type { ImageDataset } from "./dataset.ts";
import { findFashionMnist, idxFile, loadFashionMnist } from "./fashion_mnist.ts";
import { readIdx } from "./idx.ts";

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
export function findMnist(dir: string): string | undefined {
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

const LABEL_FILES = { train: "train-labels-idx1-ubyte", test: "t10k-labels-idx1-ubyte" } as const;
const IMAGE_FILES = { train: "train-images-idx3-ubyte", test: "t10k-images-idx3-ubyte" } as const;

/**
 * Image counts per split of an MNIST-format folder, read from the (small) label files'
 * headers; throws naming a missing, invalid or empty file (the images files are checked to be
 * there, not read).
 */
export async function idxCounts(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const split of ["train", "test"] as const) {
    const part = split === "train" ? "training" : "test";
    idxFile(dir, IMAGE_FILES[split], `the ${part} images: an idx3 file, raw or gzipped`);
    const file = idxFile(
      dir,
      LABEL_FILES[split],
      `the ${part} labels: an idx1 file, raw or gzipped`,
    );
    const idx = await readIdx(file);
    if (idx.shape.length !== 1) {
      throw new Error(`${file}: expected [N] labels, got [${idx.shape.join(", ")}]`);
    }
    if (idx.shape[0] === 0) throw new Error(`${file}: 0 labels (an empty ${split} split)`);
    out[split] = idx.shape[0];
  }
  return out;
}
