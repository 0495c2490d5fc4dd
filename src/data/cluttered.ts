/**
 * Cluttered Fashion-MNIST: a localisation benchmark made from real Fashion-MNIST. Each item
 * is placed at a seeded random position on a larger canvas (default 64x64) together with
 * clutter fragments cut from other items and kept outside the item's box, so the box (the
 * item's tight bounding box on the canvas) is exact. Train and test come from the matching
 * source splits with different seeds.
 *
 * @module
 */

import { type ImageDataset, subsetIndices } from "./dataset.ts";
import { fashionMnistSpec, idxCounts, loadFashionMnist } from "./fashion_mnist.ts";
import { type DatasetSpec, splitWords } from "./spec.ts";
import { mulberry32 } from "./random.ts";
import { checkMemory } from "../util/memory.ts";

/** Options of the generator. */
export interface ClutteredOptions {
  /** Canvas height = width (default 64; at least the source size). */
  canvas?: number;
  /** Clutter fragments per image (default 4). */
  fragments?: number;
  /** Fragment height = width (default 8). */
  fragmentSize?: number;
  /** Seed (default 0); the split name is mixed in, so train and test differ. */
  seed?: number;
  /** Generate only the first `count` source items (default all). */
  count?: number;
  /**
   * Keep only the items at these indices (of the first `count`), in this order: the result is
   * `subset(whole, keep)`, each image the same, the statistics still the whole split's, and
   * memory for the kept images only (the others are drawn into one scratch canvas and dropped).
   */
  keep?: ArrayLike<number> | null;
}

/** Tight box [x0, y0, x1, y1) of the non-zero pixels of a size x size image (null if empty). */
function tightBox(
  img: Uint8Array,
  off: number,
  size: number,
): [number, number, number, number] | null {
  let x0 = size, y0 = size, x1 = -1, y1 = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (img[off + y * size + x] > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

function hashSplit(split: string): number {
  let h = 2166136261;
  for (const ch of split) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/** Builds the cluttered version of a grey, square source split (Fashion-MNIST). */
export function makeCluttered(source: ImageDataset, options: ClutteredOptions = {}): ImageDataset {
  if (source.channels !== 1 || source.height !== source.width) {
    throw new Error(
      `cluttered: source ${source.name} must be grey and square, got ${source.channels}x${source.height}x${source.width}`,
    );
  }
  const size = source.height;
  const canvas = options.canvas ?? 64;
  if (!Number.isInteger(canvas) || canvas < size) {
    throw new RangeError(`canvas must be an integer >= ${size}, got ${canvas}`);
  }
  const fragments = options.fragments ?? 4;
  const fs = options.fragmentSize ?? 8;
  if (!(fs >= 1 && fs <= size)) {
    throw new RangeError(`fragmentSize must be in 1..${size}, got ${fs}`);
  }
  const n = Math.min(options.count ?? source.n, source.n);
  if (n === 0) throw new Error(`cluttered: source ${source.name}/${source.split} has no images`);
  // output slot of each generated item (-1: drawn for the random stream and statistics only)
  const slot = new Int32Array(n).fill(options.keep ? -1 : 0);
  const kept = options.keep ? options.keep.length : n;
  if (options.keep) {
    Array.from(options.keep).forEach((j, at) => {
      if (!(Number.isInteger(j) && j >= 0 && j < n)) {
        throw new RangeError(`cluttered: kept index ${j} outside 0..${n - 1}`);
      }
      slot[j] = at;
    });
  } else {
    for (let i = 0; i < n; i++) slot[i] = i;
  }
  checkMemory(
    kept * canvas * canvas,
    `cluttered-fmnist ${source.split}: ${kept} images on a ${canvas}x${canvas} canvas`,
  );
  const rand = mulberry32(((options.seed ?? 0) * 7919 + hashSplit(source.split)) >>> 0);
  const ri = (k: number) => Math.floor(rand() * k);
  const px = size * size;
  const cpx = canvas * canvas;
  const images = new Uint8Array(kept * cpx);
  const boxes = new Float32Array(kept * 4);
  const labels = new Int32Array(kept);
  const scratch = new Uint8Array(cpx);
  let sum = 0, sq = 0;
  for (let i = 0; i < n; i++) {
    const img = slot[i] >= 0 ? images.subarray(slot[i] * cpx, (slot[i] + 1) * cpx) : scratch;
    if (img === scratch) scratch.fill(0);
    const box = tightBox(source.images, i * px, size) ?? [0, 0, size, size];
    // place the item so that its tight box lies anywhere on the canvas
    const ox = ri(canvas - (box[2] - box[0]) + 1) - box[0];
    const oy = ri(canvas - (box[3] - box[1]) + 1) - box[1];
    for (let y = box[1]; y < box[3]; y++) {
      for (let x = box[0]; x < box[2]; x++) {
        img[(y + oy) * canvas + (x + ox)] = source.images[i * px + y * size + x];
      }
    }
    const bx0 = box[0] + ox, by0 = box[1] + oy, bx1 = box[2] + ox, by1 = box[3] + oy;
    if (slot[i] >= 0) {
      boxes.set([bx0, by0, bx1, by1], slot[i] * 4);
      labels[slot[i]] = source.labels[i];
    }
    // clutter: fragments of other items, kept outside the item's box
    for (let f = 0; f < fragments; f++) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const fx = ri(canvas - fs + 1), fy = ri(canvas - fs + 1);
        if (fx < bx1 && fx + fs > bx0 && fy < by1 && fy + fs > by0) continue; // overlaps the box
        const other = ri(source.n);
        const sx = ri(size - fs + 1), sy = ri(size - fs + 1);
        for (let y = 0; y < fs; y++) {
          for (let x = 0; x < fs; x++) {
            const v = source.images[other * px + (sy + y) * size + (sx + x)];
            const at = (fy + y) * canvas + (fx + x);
            if (v > img[at]) img[at] = v;
          }
        }
        break;
      }
    }
    // the split's statistics, over every generated image (kept or not)
    for (let k = 0; k < cpx; k++) {
      const v = img[k] / 255;
      sum += v;
      sq += v * v;
    }
  }
  const mean = sum / (n * cpx);
  const std = Math.sqrt(Math.max(sq / (n * cpx) - mean * mean, 1e-12));
  return {
    name: "cluttered-fmnist",
    split: source.split,
    n: kept,
    channels: 1,
    height: canvas,
    width: canvas,
    images,
    labels,
    classes: source.classes,
    boxes,
    mean: [mean],
    std: [std],
    source:
      `generated from ${source.name} (${source.source}), canvas ${canvas}, ${fragments} fragments of ${fs}px, seed ${
        options.seed ?? 0
      }`,
  };
}

/** Cluttered Fashion-MNIST: made from the Fashion-MNIST files at load time (makeCluttered). */
export const clutteredFmnistSpec: DatasetSpec = {
  name: "cluttered-fmnist",
  description: "Fashion-MNIST items on a 64x64 canvas with clutter, exact boxes (generated)",
  hasBoxes: true,
  loadsSubset: true,
  find: fashionMnistSpec.find,
  extraLocations: fashionMnistSpec.extraLocations,
  load: async (dir, o) => {
    const source = await loadFashionMnist(dir, o.split);
    const keep = o.subset &&
      subsetIndices(source.n, o.subset, `cluttered-fmnist's ${splitWords(o.split)}`, dir);
    return makeCluttered(source, { canvas: o.canvas, seed: o.seed, keep });
  },
  counts: idxCounts,
};
