/**
 * A small generated stand-in for Fashion-MNIST when the real files are absent: 28x28 grey
 * images where each class is a bright bar at its own position and angle, plus noise. Seeded,
 * so runs are reproducible; learnable in an epoch, so a quick run shows accuracy rising.
 *
 * @module
 */

import type { ImageDataset } from "./dataset.ts";
import type { DatasetSpec } from "./spec.ts";
import { mulberry32 } from "./random.ts";
import { checkMemory } from "../util/memory.ts";

/** `n` generated 28x28 images over 10 classes. */
export function syntheticImages(n: number, seed: number): ImageDataset {
  const size = 28;
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`synthetic: image count must be a non-negative integer, got ${n}`);
  }
  checkMemory(n * size * size, `synthetic: ${n} generated ${size}x${size} images`);
  const rand = mulberry32(seed);
  const images = new Uint8Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(rand() * 10);
    labels[i] = label;
    const angle = (label * Math.PI) / 10;
    const cx = 14 + (rand() - 0.5) * 6;
    const cy = 14 + (rand() - 0.5) * 6;
    const base = i * size * size;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        // distance from the line through (cx, cy) at `angle`
        const d = Math.abs((x - cx) * Math.sin(angle) - (y - cy) * Math.cos(angle));
        const along = Math.abs((x - cx) * Math.cos(angle) + (y - cy) * Math.sin(angle));
        const bar = d < 1.8 && along < 10 ? 200 : 0;
        images[base + y * size + x] = Math.min(255, bar + Math.floor(rand() * 50));
      }
    }
  }
  return {
    name: "synthetic",
    split: `seed-${seed}`,
    n,
    channels: 1,
    height: size,
    width: size,
    images,
    labels,
    classes: Array.from({ length: 10 }, (_, k) => `bar-${k * 18}deg`),
    mean: [0.1],
    std: [0.2],
    source: "generated",
  };
}

/** Where a generated dataset "is": it has no files, every data root has it. */
export const GENERATED = "(generated, no files)";

/** Images per split of the registry's synthetic set (training runs draw `--subset` instead). */
const SYNTHETIC_COUNTS = { train: 2048, test: 512 } as const;

/** The synthetic split a training run of seed `seed` uses when it asks for `n` images. */
export function syntheticSplit(split: "train" | "test", n?: number, seed = 0): ImageDataset {
  return split === "train"
    ? { ...syntheticImages(n ?? SYNTHETIC_COUNTS.train, 1 + seed), name: "synthetic", split }
    : { ...syntheticImages(SYNTHETIC_COUNTS.test, 100_003), name: "synthetic", split };
}

/** The registry's entry: always present, generated on load. */
export const syntheticSpec: DatasetSpec = {
  name: "synthetic",
  description: "generated 28x28 bars at 10 angles on noise (no files, no boxes): for trying things",
  hasBoxes: false,
  find: () => GENERATED,
  load: (_dir, o) => Promise.resolve(syntheticSplit(o.split, undefined, o.seed ?? 0)),
  counts: () => Promise.resolve({ ...SYNTHETIC_COUNTS }),
};
