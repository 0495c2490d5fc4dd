/**
 * CIFAR-10 and CIFAR-100, binary versions ("suitable for C programs"), read and validated.
 *
 * CIFAR-10 (`cifar-10-batches-bin/`): `data_batch_1.bin` .. `data_batch_5.bin` (train),
 * `test_batch.bin`, `batches.meta.txt` (class names); each record is 1 label byte then 3072
 * pixel bytes: the red, green and blue 32x32 planes, row-major (already CHW).
 *
 * CIFAR-100 (`cifar-100-binary/`): `train.bin`, `test.bin`, `fine_label_names.txt`,
 * `coarse_label_names.txt`; each record is the coarse label byte, the fine label byte, then
 * the 3072 pixel bytes. The labels are the fine ones (100 classes) unless the coarse ones
 * (20 superclasses) are asked for.
 *
 * @module
 */

import type { ImageDataset } from "./dataset.ts";
import { entryProblem, present, probe } from "./files.ts";
import type { DatasetSpec } from "./spec.ts";

/** Pixel bytes per CIFAR image (3 x 32 x 32). */
export const CIFAR_IMAGE_BYTES = 3 * 32 * 32;

/** CIFAR-10's class names, by label (as in batches.meta.txt). */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** CIFAR-100's fine class names, by label (as in fine_label_names.txt). */
export const CIFAR100_CLASSES: readonly string[] = (
  "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus " +
  "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch " +
  "crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo " +
  "keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse " +
  "mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy " +
  "porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper " +
  "snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television " +
  "tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split(" ");

/** CIFAR-100's coarse class (superclass) names, by label (as in coarse_label_names.txt). */
export const CIFAR100_COARSE_CLASSES: readonly string[] = (
  "aquatic_mammals fish flowers food_containers fruit_and_vegetables " +
  "household_electrical_devices household_furniture insects large_carnivores " +
  "large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores " +
  "medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1 " +
  "vehicles_2"
).split(" ");

/** CIFAR-10's training-set per-channel mean and std of pixel / 255. */
export const CIFAR10_STATS = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2470, 0.2435, 0.2616],
} as const;

/** CIFAR-100's training-set per-channel mean and std of pixel / 255. */
const CIFAR100_STATS = {
  mean: [0.5071, 0.4865, 0.4409],
  std: [0.2673, 0.2564, 0.2762],
} as const;

/** The two CIFAR variants: their files and record layouts. */
const LAYOUT = {
  cifar10: {
    folder: "cifar-10-batches-bin",
    train: [
      "data_batch_1.bin",
      "data_batch_2.bin",
      "data_batch_3.bin",
      "data_batch_4.bin",
      "data_batch_5.bin",
    ],
    test: ["test_batch.bin"],
    labelBytes: 1,
  },
  cifar100: {
    folder: "cifar-100-binary",
    train: ["train.bin"],
    test: ["test.bin"],
    labelBytes: 2,
  },
} as const;

type Variant = keyof typeof LAYOUT;

function find(variant: Variant, dir: string): string | undefined {
  const l = LAYOUT[variant];
  for (const d of [`${dir}/${l.folder}`, dir]) {
    if ([...l.train, ...l.test].some((f) => present(`${d}/${f}`))) return d;
  }
  return undefined;
}

/**
 * The folder holding CIFAR-10's batch files: `dir/cifar-10-batches-bin` or `dir` itself, when
 * anything is at one of the batch files' names (a missing one, or a folder or link loop in a
 * file's place, is then reported by the loader by name).
 */
function findCifar10(dir: string): string | undefined {
  return find("cifar10", dir);
}

/** The folder holding CIFAR-100's train.bin / test.bin (`dir/cifar-100-binary` or `dir`). */
function findCifar100(dir: string): string | undefined {
  return find("cifar100", dir);
}

/** Class names from a meta file (one per line, blank lines ignored), or `fallback` without one. */
async function readNames(
  file: string,
  fallback: readonly string[],
): Promise<readonly string[]> {
  const entry = probe(file);
  if (entry.kind === "missing") return fallback;
  const problem = entryProblem(entry, `a text file of ${fallback.length} class names`);
  if (problem) throw new Error(problem);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== fallback.length) {
    throw new Error(`${file}: ${names.length} class names, expected ${fallback.length}`);
  }
  return names;
}

function recordBytes(variant: Variant): number {
  return LAYOUT[variant].labelBytes + CIFAR_IMAGE_BYTES;
}

function lengthError(file: string, length: number, variant: Variant): Error {
  const record = recordBytes(variant);
  const labels = variant === "cifar10" ? "1 label byte" : "2 label bytes (coarse, fine)";
  return new Error(
    `${file}: length ${length} bytes is not a multiple of the ${record}-byte record size ` +
      `(${labels} + ${CIFAR_IMAGE_BYTES} pixel bytes); the file is truncated or not CIFAR binary`,
  );
}

/**
 * The files of one split, checking each is a regular file; throws naming the missing ones, or
 * the first that is something else (a folder, a symbolic link loop, a link to nothing).
 */
function splitFiles(variant: Variant, dir: string, split: "train" | "test"): string[] {
  const names = LAYOUT[variant][split];
  const entries = names.map((f) => probe(`${dir}/${f}`));
  const missing = names.filter((_, i) => entries[i].kind === "missing");
  if (missing.length > 0) {
    throw new Error(`${dir}: missing ${missing.join(", ")} (${variant} ${split} split)`);
  }
  for (const e of entries) {
    const problem = entryProblem(
      e,
      `a ${variant} ${split} batch of ${recordBytes(variant)}-byte records`,
    );
    if (problem) throw new Error(problem);
  }
  return names.map((f) => `${dir}/${f}`);
}

function emptyError(file: string, variant: Variant): Error {
  return new Error(`${file}: empty (no ${recordBytes(variant)}-byte records)`);
}

/**
 * Image counts per split from the file sizes alone (no pixels read); throws naming a missing
 * file or one whose length is not a whole number of records.
 */
async function counts(variant: Variant, dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const split of ["train", "test"] as const) {
    let n = 0;
    for (const file of splitFiles(variant, dir, split)) {
      const size = (await Deno.stat(file)).size;
      if (size % recordBytes(variant) !== 0) throw lengthError(file, size, variant);
      if (size === 0) throw emptyError(file, variant);
      n += size / recordBytes(variant);
    }
    out[split] = n;
  }
  return out;
}

/** CIFAR-10's image counts per split, from the batch files' sizes. */
export function cifar10Counts(dir: string): Promise<Record<string, number>> {
  return counts("cifar10", dir);
}

/** CIFAR-100's image counts per split, from train.bin's and test.bin's sizes. */
function cifar100Counts(dir: string): Promise<Record<string, number>> {
  return counts("cifar100", dir);
}

/** Reads and validates the records of one split. */
async function readRecords(
  variant: Variant,
  files: string[],
  classes: number,
  coarseClasses: number,
): Promise<{ images: Uint8Array; labels: Int32Array; coarse: Int32Array }> {
  const record = recordBytes(variant);
  const chunks: { file: string; bytes: Uint8Array }[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
    }
    if (bytes.length % record !== 0) throw lengthError(file, bytes.length, variant);
    if (bytes.length === 0) throw emptyError(file, variant);
    chunks.push({ file, bytes });
  }
  const n = chunks.reduce((s, c) => s + c.bytes.length / record, 0);
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(n);
  const coarse = new Int32Array(variant === "cifar100" ? n : 0);
  let i = 0;
  for (const { file, bytes } of chunks) {
    const count = bytes.length / record;
    for (let r = 0; r < count; r++, i++) {
      const off = r * record;
      if (variant === "cifar100") {
        const c = bytes[off];
        if (c >= coarseClasses) {
          throw new Error(
            `${file}: coarse label ${c} in record ${r} is not in 0..${coarseClasses - 1}`,
          );
        }
        coarse[i] = c;
      }
      const label = bytes[off + record - CIFAR_IMAGE_BYTES - 1];
      if (label >= classes) {
        throw new Error(
          `${file}: ${variant === "cifar100" ? "fine " : ""}label ${label} in record ${r} ` +
            `is not in 0..${classes - 1}`,
        );
      }
      labels[i] = label;
      images.set(
        bytes.subarray(off + record - CIFAR_IMAGE_BYTES, off + record),
        i * CIFAR_IMAGE_BYTES,
      );
    }
  }
  return { images, labels, coarse };
}

/** Loads one split of CIFAR-10 from the folder holding its batch files. */
export async function loadCifar10(dir: string, split: "train" | "test"): Promise<ImageDataset> {
  const files = splitFiles("cifar10", dir, split);
  const classes = await readNames(`${dir}/batches.meta.txt`, CIFAR10_CLASSES);
  const { images, labels } = await readRecords("cifar10", files, classes.length, 0);
  return cifarSplit("cifar10", split, images, labels, classes, CIFAR10_STATS, dir);
}

/** A split of 32x32 RGB CIFAR images with the set's normalisation statistics. */
function cifarSplit(
  name: string,
  split: string,
  images: Uint8Array,
  labels: Int32Array,
  classes: readonly string[],
  stats: { mean: readonly number[]; std: readonly number[] },
  source: string,
): ImageDataset {
  const { mean, std } = stats;
  const shape = { channels: 3, height: 32, width: 32 };
  return { name, split, n: labels.length, ...shape, images, labels, classes, mean, std, source };
}

/** Options of {@link loadCifar100}. */
export interface Cifar100Options {
  /** Which labels the dataset carries: the 100 fine classes (default) or the 20 coarse ones. */
  labels?: "fine" | "coarse";
}

/**
 * Loads one split of CIFAR-100 from the folder holding train.bin / test.bin. Both label bytes
 * are validated; the dataset carries the fine labels (name "cifar100"), or with
 * `labels: "coarse"` the superclass labels and names (name "cifar100-coarse").
 */
export async function loadCifar100(
  dir: string,
  split: "train" | "test",
  options: Cifar100Options = {},
): Promise<ImageDataset> {
  const files = splitFiles("cifar100", dir, split);
  const fine = await readNames(`${dir}/fine_label_names.txt`, CIFAR100_CLASSES);
  const coarseNames = await readNames(`${dir}/coarse_label_names.txt`, CIFAR100_COARSE_CLASSES);
  const { images, labels, coarse } = await readRecords(
    "cifar100",
    files,
    fine.length,
    coarseNames.length,
  );
  return options.labels === "coarse"
    ? cifarSplit("cifar100-coarse", split, images, coarse, coarseNames, CIFAR100_STATS, dir)
    : cifarSplit("cifar100", split, images, labels, fine, CIFAR100_STATS, dir);
}

/**
 * Encodes CIFAR binary records (for tests and tools): `images` n x 3072 CHW bytes, `labels`
 * (CIFAR-10) or fine labels with `coarse` (CIFAR-100 layout, coarse byte first).
 */
export function encodeCifar(
  images: Uint8Array,
  labels: ArrayLike<number>,
  coarse?: ArrayLike<number>,
): Uint8Array {
  const lb = coarse ? 2 : 1;
  const record = lb + CIFAR_IMAGE_BYTES;
  const n = labels.length;
  if (images.length !== n * CIFAR_IMAGE_BYTES) {
    throw new RangeError(`encodeCifar: ${images.length} image bytes for ${n} labels`);
  }
  const out = new Uint8Array(n * record);
  for (let i = 0; i < n; i++) {
    if (coarse) out[i * record] = coarse[i];
    out[i * record + lb - 1] = labels[i];
    out.set(images.subarray(i * CIFAR_IMAGE_BYTES, (i + 1) * CIFAR_IMAGE_BYTES), i * record + lb);
  }
  return out;
}

/** CIFAR-10, binary version (`<root>/cifar10`). */
export const cifar10Spec: DatasetSpec = {
  name: "cifar10",
  description: "CIFAR-10: 60,000 32x32 colour images, 10 classes (binary version)",
  hasBoxes: false,
  find: (root) => findCifar10(`${root}/cifar10`) ?? findCifar10(`${root}/cifar-10-batches-bin`),
  load: (dir, o) => loadCifar10(dir, o.split),
  counts: cifar10Counts,
};

/** CIFAR-100, binary version, fine labels (`<root>/cifar100`). */
export const cifar100Spec: DatasetSpec = {
  name: "cifar100",
  description: "CIFAR-100: 60,000 32x32 colour images, 100 fine classes (binary version)",
  hasBoxes: false,
  find: (root) => findCifar100(`${root}/cifar100`) ?? findCifar100(`${root}/cifar-100-binary`),
  load: (dir, o) => loadCifar100(dir, o.split),
  counts: cifar100Counts,
};

/** CIFAR-100's files with the 20 coarse labels. */
export const cifar100CoarseSpec: DatasetSpec = {
  name: "cifar100-coarse",
  description: "CIFAR-100 with its 20 coarse superclass labels (the cifar100 files)",
  hasBoxes: false,
  find: cifar100Spec.find,
  load: (dir, o) => loadCifar100(dir, o.split, { labels: "coarse" }),
  counts: cifar100Counts,
};
