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

function home(): string {
  return Deno.env.get("HOME") ?? ".";
}

/** Folders searched for a dataset: --data-dir, $HLGM_DATA, ~/.cache/hlgm/datasets (+ extra). */
export function dataRoots(dataDir?: string): string[] {
  const roots = [dataDir, Deno.env.get("HLGM_DATA"), `${home()}/.cache/hlgm/datasets`];
  return roots.filter((r): r is string => !!r);
}

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

/**
 * The folder holding Fashion-MNIST's four idx files: with `dataDir`, only `<dataDir>` and
 * `<dataDir>/fashion-mnist` (a folder named explicitly is what the user means); otherwise
 * `$HLGM_DATA/fashion-mnist`, `~/.cache/hlgm/datasets/fashion-mnist`, then Debian's
 * /usr/share/datasets/fashion-mnist. Undefined if none holds them.
 */
export function findFashionMnist(dataDir?: string): string | undefined {
  const dirs = dataDir
    ? [dataDir, `${dataDir}/fashion-mnist`]
    : [...dataRoots().map((r) => `${r}/fashion-mnist`), "/usr/share/datasets/fashion-mnist"];
  return dirs.find((d) => [...FILES.train, ...FILES.test].every((f) => findFile(d, f)));
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
