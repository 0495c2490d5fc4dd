/**
 * Batches from an ImageDataset, assembled on the device: the whole split is uploaded once as
 * a uint8 tensor, and each batch is an index_select plus float conversion, normalisation and
 * augmentation (random crop with padding, horizontal flip, resize) done by libtorch on the
 * device, with the boxes moved along. Shuffling is seeded per epoch, so an epoch's order is
 * a function of (seed, epoch) alone; augmentation draws from libtorch's generator. The next
 * batch is prepared before the current one is handed out (on CUDA its kernels queue behind
 * the current step's).
 *
 * @module
 */

import { type ImageDataset, permutation } from "./dataset.ts";
import { noGrad } from "../tensor/autograd.ts";
import { fromBytes, rand, randint, tensor, zeros } from "../tensor/create.ts";
import { type Device, deviceCode, deviceName } from "../tensor/device.ts";
import { keep, tidy } from "../tensor/engine.ts";
import { interpolate, stack, where } from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Augmentations and preprocessing applied to every batch. */
export interface Transforms {
  /** Subtract the dataset's mean and divide by its std (default true). */
  normalize?: boolean;
  /** Random crop back to the input size after zero-padding by this many pixels (training). */
  randomCropPadding?: number;
  /** Flip horizontally with probability 0.5 (training). */
  horizontalFlip?: boolean;
  /** Resize (bilinear) to this square size, e.g. 224 for deit-tiny. */
  resize?: number;
}

/** Options of a DataLoader. */
export interface LoaderOptions {
  /** Images per batch (default 256). */
  batchSize?: number;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Device of the batches (default cpu). */
  device?: Device;
  /** Preprocessing and augmentation. */
  transforms?: Transforms;
  /**
   * This process's part of the data in data-parallel training: rank `rank` of `worldSize` takes
   * every worldSize-th image of the epoch's order from position `rank` (PyTorch's
   * DistributedSampler). With `pad` (training), the order is first padded by repeating its start
   * to a multiple of worldSize, so every rank runs the same number of steps; without it
   * (evaluation) the shards are disjoint and together hold each image once.
   */
  shard?: { rank: number; worldSize: number; pad: boolean };
}

/** One batch. The tensors belong to the caller's tidy scope (or dispose them). */
export interface Batch {
  /** Float images (B, C, H, W) after the transforms. */
  x: Tensor;
  /** int64 labels (B). */
  y: Tensor;
  /** float32 boxes (B, 4) in pixels of `x`, when the dataset has them (NaN rows: none). */
  boxes?: Tensor;
  /** Dataset indices of the batch's images. */
  indices: Uint32Array;
}

/** Iterates batches of a dataset on a device. Dispose it to free the uploaded split. */
export class DataLoader {
  readonly #ds: ImageDataset;
  readonly #images: Tensor;
  readonly #labels: Tensor;
  readonly #boxes?: Tensor;
  readonly #mean: Tensor;
  readonly #std: Tensor;
  readonly #batchSize: number;
  readonly #shuffle: boolean;
  readonly #seed: number;
  readonly #dropLast: boolean;
  readonly #transforms: Transforms;
  readonly #shard: { rank: number; worldSize: number; pad: boolean } | null;
  /** Device of the batches. */
  readonly device: "cpu" | `cuda:${number}`;

  /** Uploads `dataset` to the device. */
  constructor(dataset: ImageDataset, options: LoaderOptions = {}) {
    this.#ds = dataset;
    this.#batchSize = options.batchSize ?? 256;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
    }
    this.#shuffle = options.shuffle ?? true;
    this.#seed = options.seed ?? 0;
    this.#dropLast = options.dropLast ?? false;
    this.#transforms = options.transforms ?? {};
    this.#shard = options.shard && options.shard.worldSize > 1 ? { ...options.shard } : null;
    if (this.#shard) {
      const { rank, worldSize } = this.#shard;
      if (
        !Number.isInteger(worldSize) || !Number.isInteger(rank) || rank < 0 || rank >= worldSize
      ) {
        throw new RangeError(`shard: rank must be an integer in 0..${worldSize - 1}, got ${rank}`);
      }
    }
    this.device = deviceName(deviceCode(options.device ?? "cpu"));
    const device = this.device;
    const { n, channels: c, height: h, width: w } = dataset;
    this.#images = keep(fromBytes(dataset.images, "uint8", [n, c, h, w], { device }));
    this.#labels = keep(tensor(dataset.labels, { dtype: "int64", device }));
    if (dataset.boxes) {
      this.#boxes = keep(tensor(dataset.boxes, { shape: [n, 4], device }));
    }
    this.#mean = keep(tensor([...dataset.mean], { shape: [1, c, 1, 1], device }));
    this.#std = keep(tensor([...dataset.std], { shape: [1, c, 1, 1], device }));
  }

  /** The dataset being served. */
  get dataset(): ImageDataset {
    return this.#ds;
  }

  /** Images this loader serves an epoch: the dataset's, or its shard's (padding included). */
  get size(): number {
    const n = this.#ds.n;
    if (!this.#shard) return n;
    const { rank, worldSize, pad } = this.#shard;
    return pad ? Math.ceil(n / worldSize) : Math.floor((n - rank + worldSize - 1) / worldSize);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.size / this.#batchSize;
    return this.#dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /**
   * The order of images in `epoch` (a pure function of seed and epoch), or with `shard` this
   * rank's part of it.
   */
  order(epoch: number): Uint32Array {
    const n = this.#ds.n;
    const all = this.#shuffle
      ? permutation(n, (this.#seed * 1000003 + epoch) >>> 0)
      : Uint32Array.from({ length: n }, (_, i) => i);
    if (!this.#shard) return all;
    const { rank, worldSize } = this.#shard;
    const mine = new Uint32Array(this.size);
    for (let i = 0; i < mine.length; i++) mine[i] = all[(rank + i * worldSize) % n];
    return mine;
  }

  /** The batches of one epoch; each is prepared before the previous one is returned. */
  *epoch(epoch = 0, train = true): Generator<Batch> {
    const order = this.order(epoch);
    const count = this.length;
    let next = count > 0 ? this.#make(order, 0, train) : undefined;
    for (let b = 0; b < count; b++) {
      const current = next!;
      next = b + 1 < count ? this.#make(order, b + 1, train) : undefined;
      yield current;
    }
  }

  /**
   * A batch of specific images, with the eval transforms (no augmentation); every index must
   * be an integer in 0..n-1 (TypeError / RangeError naming it).
   */
  batchOf(indices: ArrayLike<number>): Batch {
    const n = this.#ds.n;
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i];
      if (!Number.isInteger(v)) {
        throw new TypeError(`batchOf: indices[${i}] must be an integer, got ${v}`);
      }
      if (v < 0 || v >= n) {
        throw new RangeError(`batchOf: indices[${i}] = ${v} is outside the dataset (0..${n - 1})`);
      }
    }
    const idx = Uint32Array.from(indices);
    return this.#assemble(idx, false);
  }

  #make(order: Uint32Array, b: number, train: boolean): Batch {
    const start = b * this.#batchSize;
    return this.#assemble(
      order.subarray(start, Math.min(start + this.#batchSize, order.length)),
      train,
    );
  }

  #assemble(indices: Uint32Array, train: boolean): Batch {
    return noGrad(() =>
      tidy(() => {
        const t = this.#transforms;
        const idx = tensor(Int32Array.from(indices), { dtype: "int64", device: this.device });
        let x = this.#images.indexSelect(0, idx).to("float32").div(255);
        if (t.normalize ?? true) x = x.sub(this.#mean).div(this.#std);
        let boxes = this.#boxes?.indexSelect(0, idx);
        if (train && t.randomCropPadding) [x, boxes] = randomCrop(x, boxes, t.randomCropPadding);
        if (train && t.horizontalFlip) [x, boxes] = randomFlip(x, boxes);
        if (t.resize && (x.shape[2] !== t.resize || x.shape[3] !== t.resize)) {
          const [h, w] = [x.shape[2], x.shape[3]];
          x = interpolate(x, { size: t.resize, mode: "bilinear" });
          if (boxes) {
            boxes = boxes.mul(
              tensor([t.resize / w, t.resize / h, t.resize / w, t.resize / h], {
                device: this.device,
              }),
            );
          }
        }
        const batch: Batch = {
          x,
          y: this.#labels.indexSelect(0, idx),
          indices: Uint32Array.from(indices),
        };
        if (boxes) batch.boxes = boxes;
        return batch;
      })
    );
  }

  /** Frees the uploaded split. */
  dispose(): void {
    for (const t of [this.#images, this.#labels, this.#boxes, this.#mean, this.#std]) t?.dispose();
  }

  /** Same as dispose(). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Zero-pads by `pad` and crops back to the input size at a random offset per image. */
function randomCrop(
  x: Tensor,
  boxes: Tensor | undefined,
  pad: number,
): [Tensor, Tensor | undefined] {
  const [b, c, h, w] = x.shape;
  const device = x.device;
  // pad with zeros (after normalisation, as torchvision's RandomCrop pads the tensor it gets)
  const padded = zeros([b, c, h + 2 * pad, w + 2 * pad], { device });
  padded.narrow(2, pad, h).narrow(3, pad, w).copy_(x);
  const dy = randint(0, 2 * pad + 1, [b], { device });
  const dx = randint(0, 2 * pad + 1, [b], { device });
  const rows = dy.reshape(b, 1, 1, 1).add(rangeOn(h, device).reshape(1, 1, h, 1)).expand(
    b,
    c,
    h,
    w + 2 * pad,
  );
  const cols = dx.reshape(b, 1, 1, 1).add(rangeOn(w, device).reshape(1, 1, 1, w)).expand(
    b,
    c,
    h,
    w,
  );
  const cropped = padded.gather(2, rows).gather(3, cols);
  if (!boxes) return [cropped, undefined];
  // a box moves by (pad - dx, pad - dy) and is clipped to the image
  const shift = stack([dx, dy, dx, dy], 1).to("float32").neg().add(pad);
  const lim = tensor([w, h, w, h], { device });
  return [cropped, boxes.add(shift).clamp(0).minimum(lim)];
}

/** Flips each image horizontally with probability 0.5. */
function randomFlip(x: Tensor, boxes: Tensor | undefined): [Tensor, Tensor | undefined] {
  const [b, , , w] = x.shape;
  const flip = rand([b], { device: x.device }).lt(0.5);
  const flipped = where(flip.reshape(b, 1, 1, 1), x.flip(3), x);
  if (!boxes) return [flipped, undefined];
  // [x0, y0, x1, y1] -> [w - x1, y0, w - x0, y1]
  const mirrored = stack([
    boxes.select(1, 2).rsub(w),
    boxes.select(1, 1),
    boxes.select(1, 0).rsub(w),
    boxes.select(1, 3),
  ], 1);
  return [flipped, where(flip.reshape(b, 1), mirrored, boxes)];
}

function rangeOn(n: number, device: string): Tensor {
  return tensor(Int32Array.from({ length: n }, (_, i) => i), {
    dtype: "int64",
    device: device as Device,
  });
}
