/**
 * The in-memory dataset form every reader produces: fixed-size uint8 images in PyTorch's
 * (N, C, H, W) layout, labels, optional object boxes, class names and the per-channel
 * normalisation statistics. Small helpers make subsets and validation splits.
 *
 * @module
 */

import { mulberry32 } from "./random.ts";
import { SettingError } from "../util/vocabulary.ts";

/** A split of an image-classification dataset, decoded and held in memory. */
export interface ImageDataset {
  /** Dataset name as on the CLI ("fashion-mnist", "cifar10", "oxford-pet", ...). */
  name: string;
  /** Split name ("train", "test", "val", "trainval"). */
  split: string;
  /** Number of images. */
  n: number;
  /** Channels per image (1 grey, 3 RGB). */
  channels: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** n * channels * height * width bytes, image-major, then channel, row, column. */
  images: Uint8Array;
  /** n class indices. */
  labels: Int32Array;
  /** Class names by index. */
  classes: readonly string[];
  /**
   * Object boxes where the dataset has them: n * 4 floats [x0, y0, x1, y1] in pixels of the
   * stored image (x1, y1 exclusive); NaN for an image without a box.
   */
  boxes?: Float32Array;
  /** Per-channel mean of pixel / 255 (for normalisation). */
  mean: readonly number[];
  /** Per-channel standard deviation of pixel / 255. */
  std: readonly number[];
  /** Where it was read from (folder or "generated"). */
  source: string;
}

/** Bytes per image. */
export function imageBytes(ds: ImageDataset): number {
  return ds.channels * ds.height * ds.width;
}

/** The images at `indices` (in that order) as a new dataset. */
export function subset(
  ds: ImageDataset,
  indices: ArrayLike<number>,
  split = ds.split,
): ImageDataset {
  const px = imageBytes(ds);
  const images = new Uint8Array(indices.length * px);
  const labels = new Int32Array(indices.length);
  const boxes = ds.boxes ? new Float32Array(indices.length * 4) : undefined;
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < ds.n)) throw new RangeError(`subset index ${j} outside 0..${ds.n - 1}`);
    images.set(ds.images.subarray(j * px, (j + 1) * px), i * px);
    labels[i] = ds.labels[j];
    if (boxes) boxes.set(ds.boxes!.subarray(j * 4, j * 4 + 4), i * 4);
  }
  return { ...ds, split, n: indices.length, images, labels, boxes };
}

/** A seeded permutation of 0..n-1 (Fisher-Yates over mulberry32). */
export function permutation(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Which images of a split a run takes: `count` of them by a seeded shuffle (`--subset`). */
export interface SubsetChoice {
  /** How many. */
  count: number;
  /** The shuffle's seed. */
  seed: number;
}

/**
 * The indices {@link randomSubset} takes from a split of `n` images (null: all, in order).
 * Throws when `count` is more than `n`, as torch.utils.data.random_split refuses lengths beyond
 * the dataset (no silent clamp); `what` names the split ("cifar10's training split") and
 * `source` where it came from.
 */
export function subsetIndices(
  n: number,
  choice: SubsetChoice,
  what: string,
  source: string,
): Uint32Array | null {
  const { count } = choice;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`subset size must be a positive integer, got ${count}`);
  }
  if (count > n) {
    throw new SettingError(
      ["subset"],
      (v) =>
        `subset ${count} is more than the ${n} images of ${what} (${source}); give at most ` +
        `${n}, or no ${v.setting("subset")} to train on all`,
    );
  }
  return count === n ? null : permutation(n, choice.seed).subarray(0, count);
}

/** `count` images drawn without replacement by a seeded shuffle (all when count >= n). */
export function randomSubset(ds: ImageDataset, count: number, seed: number): ImageDataset {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`subset size must be a positive integer, got ${count}`);
  }
  if (count >= ds.n) return ds;
  return subset(ds, permutation(ds.n, seed).subarray(0, count));
}

/**
 * Carves a validation split out of a training split with a fixed seed: returns
 * `{ train, val }` where val holds round(fraction * n) images (none when fraction is 0).
 */
export function splitTrainVal(
  ds: ImageDataset,
  fraction: number,
  seed: number,
): { train: ImageDataset; val: ImageDataset | null } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`validation fraction must be in [0, 1), got ${fraction}`);
  }
  const nVal = Math.round(fraction * ds.n);
  if (nVal === 0) return { train: ds, val: null };
  if (nVal >= ds.n) {
    throw new RangeError(`validation fraction ${fraction} leaves no training images`);
  }
  const p = permutation(ds.n, seed);
  const val = Array.from(p.subarray(0, nVal)).sort((a, b) => a - b);
  const train = Array.from(p.subarray(nVal)).sort((a, b) => a - b);
  return { train: subset(ds, train, ds.split), val: subset(ds, val, "val") };
}

/** Checks a dataset's arrays agree with its sizes; throws naming the field. */
export function validateDataset(ds: ImageDataset): void {
  const where = `${ds.name}/${ds.split} (${ds.source})`;
  if (ds.images.length !== ds.n * imageBytes(ds)) {
    throw new Error(
      `${where}: images hold ${ds.images.length} bytes, expected ${ds.n * imageBytes(ds)}`,
    );
  }
  if (ds.labels.length !== ds.n) {
    throw new Error(`${where}: ${ds.labels.length} labels for ${ds.n} images`);
  }
  const bad = ds.labels.findIndex((l) => l < 0 || l >= ds.classes.length);
  if (bad >= 0) {
    throw new Error(
      `${where}: label ${ds.labels[bad]} at ${bad} outside 0..${ds.classes.length - 1}`,
    );
  }
  if (ds.boxes && ds.boxes.length !== ds.n * 4) {
    throw new Error(`${where}: ${ds.boxes.length / 4} boxes for ${ds.n} images`);
  }
  if (ds.mean.length !== ds.channels || ds.std.length !== ds.channels) {
    throw new Error(`${where}: mean/std need ${ds.channels} channel values`);
  }
}
