/**
 * Fashion-MNIST (and MNIST, same format): finding the files and loading a split.
 *
 * @module
 */

import type { ImageDataset } from "./dataset.ts";
import { entryProblem, firstPresent, present } from "./files.ts";
import { readIdx } from "./idx.ts";
import type { DatasetSpec } from "./spec.ts";

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
const FASHION_MNIST_STATS = { mean: [0.2860], std: [0.3530] } as const;

const FILES = {
  train: ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
  test: ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
} as const;

/** Side of the square images of the idx datasets (Fashion-MNIST and MNIST). */
const IDX_IMAGE_SIZE = 28;

/**
 * `dir` when anything is at one of Fashion-MNIST's four idx file names (raw or .gz), else
 * undefined: a folder with some of the files is found, and the loader names what is wrong with
 * the others (missing, a folder, a link loop) instead of the dataset being "not found".
 */
export function findFashionMnist(dir: string): string | undefined {
  return [...FILES.train, ...FILES.test].some((f) =>
      present(`${dir}/${f}`) || present(`${dir}/${f}.gz`)
    )
    ? dir
    : undefined;
}

/** The idx file of `base` in `dir` (raw, else .gz); throws naming the path and what it holds. */
function idxFile(dir: string, base: string, what: string): string {
  const entry = firstPresent(dir, [base, `${base}.gz`]);
  if (!entry) throw new Error(`${dir}/${base}.gz: missing, as is ${base} (${what})`);
  const problem = entryProblem(entry, what);
  if (problem) throw new Error(problem);
  return entry.path;
}

/** "fashion-mnist's test labels: an idx1 file, raw or gzipped". */
function describe(name: string, split: "train" | "test", part: "images" | "labels"): string {
  return `${name}'s ${split === "train" ? "training" : "test"} ${part}: an idx${
    part === "images" ? 3 : 1
  } file, raw or gzipped`;
}

/**
 * Loads one split of Fashion-MNIST from `dir` (`name` says which idx dataset, for messages),
 * checking that the images are N x 28 x 28 with N > 0 and that there is one label in 0..9 per
 * image; every error names the file and what was expected.
 */
export async function loadFashionMnist(
  dir: string,
  split: "train" | "test",
  name = "fashion-mnist",
): Promise<ImageDataset> {
  const [imagesBase, labelsBase] = FILES[split];
  const imagesFile = idxFile(dir, imagesBase, describe(name, split, "images"));
  const labelsFile = idxFile(dir, labelsBase, describe(name, split, "labels"));
  const images = await readIdx(imagesFile);
  const size = IDX_IMAGE_SIZE;
  if (images.shape.length !== 3) {
    throw new Error(
      `${imagesFile}: holds a [${images.shape.join(", ")}] array, ${name}'s images are ` +
        `N x ${size} x ${size} (an idx3 file)`,
    );
  }
  const [n, h, w] = images.shape;
  if (n === 0) {
    throw new Error(
      `${imagesFile}: 0 images (an empty ${split} split); ${name} needs at least one`,
    );
  }
  if (h !== size || w !== size) {
    throw new Error(`${imagesFile}: images are ${h}x${w}, ${name}'s are ${size}x${size}`);
  }
  const labels = await readIdx(labelsFile);
  if (labels.shape.length !== 1) {
    throw new Error(
      `${labelsFile}: labels are [${labels.shape.join(", ")}], expected one label per image ` +
        "([N], an idx1 file)",
    );
  }
  if (labels.shape[0] !== n) {
    throw new Error(
      `${labelsFile}: ${labels.shape[0]} labels, but ${imagesFile} holds ${n} images`,
    );
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) {
    throw new Error(`${labelsFile}: label ${labels.data[bad]} at index ${bad} is not in 0..9`);
  }
  return {
    name: "fashion-mnist",
    split,
    n,
    channels: 1,
    height: h,
    width: w,
    images: images.data,
    labels: Int32Array.from(labels.data),
    classes: FASHION_MNIST_CLASSES,
    mean: FASHION_MNIST_STATS.mean,
    std: FASHION_MNIST_STATS.std,
    source: dir,
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

/** Fashion-MNIST, from its idx files (`<root>/fashion-mnist`, or where Debian's dataset-fashion-mnist puts them). */
export const fashionMnistSpec: DatasetSpec = {
  name: "fashion-mnist",
  description: "Fashion-MNIST: 70,000 28x28 grey images of clothing, 10 classes (idx files)",
  hasBoxes: false,
  find: (root) => findFashionMnist(`${root}/fashion-mnist`) ?? findFashionMnist(root),
  extraLocations: ["/usr/share/datasets/fashion-mnist"],
  load: (dir, o) => loadFashionMnist(dir, o.split),
  counts: idxCounts,
};
