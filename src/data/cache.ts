/**
 * On-disk cache of decoded dataset splits, so that a split decoded from thousands of image
 * files loads in a fraction of the time the second time.
 *
 * Files live under `<cache dir>/datasets-cache/` (the cache dir of `native/build.ts`:
 * `HLGM_CACHE_DIR`, else `XDG_CACHE_HOME/hlgm`, else `~/.cache/hlgm`). One file is one split:
 *
 * ```
 * "HLGMDSC1"                    8 bytes magic
 * u32 little-endian L           header length
 * L bytes                       header JSON (key, sizes, classes, statistics, extras)
 * zero padding to 8 bytes
 * images                        n * channels * height * width bytes
 * zero padding to 8 bytes
 * labels                        n int32, little-endian
 * zero padding to 8 bytes
 * boxes (when present)          n * 4 float32, little-endian
 * ```
 *
 * Files are written to a temporary name and renamed, so a reader never sees half a file. A
 * file that does not parse, or whose size disagrees with its header, is reported by
 * {@link readDatasetCache} as corrupt (the caller rebuilds it); one whose key differs is
 * simply stale.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { cacheDir } from "../util/cache_dir.ts";
import { writeAtomic } from "../util/atomic_write.ts";
import type { ImageDataset } from "./dataset.ts";

const MAGIC = "HLGMDSC1";
const FORMAT = 1;

/** The folder dataset caches are written to. */
export function datasetCacheDir(): string {
  return `${cacheDir()}/datasets-cache`;
}

/** Hex SHA-256 of strings and byte arrays, each length-prefixed (so parts cannot run together). */
export function hashParts(parts: readonly (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    const bytes = typeof p === "string" ? new TextEncoder().encode(p) : p;
    h.update(`${bytes.length}:`);
    h.update(bytes);
  }
  return h.digest("hex");
}

/** The header stored in front of the arrays: the split's fields but its arrays, and the key. */
type CacheHeader =
  & Pick<ImageDataset, "name" | "split" | "n" | "channels" | "height" | "width" | "source">
  & {
    format: number;
    key: string;
    classes: string[];
    mean: number[];
    std: number[];
    hasBoxes: boolean;
    extra: unknown;
  };

/** A cache read: the dataset and the extra JSON stored with it. */
export interface CachedDataset<E> {
  /** The split, its arrays viewing the file's bytes. */
  dataset: ImageDataset;
  /** What the writer stored besides the arrays. */
  extra: E;
}

/** Result of {@link readDatasetCache}. */
export type CacheRead<E> =
  | { status: "hit"; value: CachedDataset<E> }
  | { status: "missing" }
  | { status: "stale" }
  | { status: "corrupt"; reason: string };

const align8 = (x: number) => (x + 7) & ~7;

function layout(h: { n: number; channels: number; height: number; width: number }, hl: number) {
  const images = align8(12 + hl);
  const imageBytes = h.n * h.channels * h.height * h.width;
  const labels = align8(images + imageBytes);
  const boxes = align8(labels + h.n * 4);
  return { images, imageBytes, labels, boxes };
}

/**
 * Reads a cached split if `file` exists and was written under `key`. Never throws for a bad
 * file: it says "corrupt" with the reason, and the caller rebuilds.
 */
export async function readDatasetCache<E = unknown>(
  file: string,
  key: string,
): Promise<CacheRead<E>> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { status: "missing" };
    return { status: "corrupt", reason: `cannot read (${(e as Error).message})` };
  }
  try {
    if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
      return { status: "corrupt", reason: "not a dataset cache file (bad magic)" };
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const hl = view.getUint32(8, true);
    if (12 + hl > bytes.length) return { status: "corrupt", reason: "truncated header" };
    let h: CacheHeader;
    try {
      h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hl)));
    } catch (e) {
      return { status: "corrupt", reason: `header is not JSON (${(e as Error).message})` };
    }
    if (h.format !== FORMAT) return { status: "stale" };
    if (h.key !== key) return { status: "stale" };
    for (const f of ["n", "channels", "height", "width"] as const) {
      if (!Number.isInteger(h[f]) || h[f] < 0) {
        return { status: "corrupt", reason: `header field ${f} is ${h[f]}` };
      }
    }
    if (!Array.isArray(h.classes) || !Array.isArray(h.mean) || !Array.isArray(h.std)) {
      return { status: "corrupt", reason: "header lacks classes/mean/std" };
    }
    const at = layout(h, hl);
    const end = h.hasBoxes ? at.boxes + h.n * 16 : at.labels + h.n * 4;
    if (bytes.length !== end) {
      return {
        status: "corrupt",
        reason: `${bytes.length} bytes, header says ${end}${
          bytes.length < end ? " (truncated)" : ""
        }`,
      };
    }
    const labels = new Int32Array(bytes.buffer, bytes.byteOffset + at.labels, h.n);
    const bad = labels.findIndex((l) => l < 0 || l >= h.classes.length);
    if (bad >= 0) return { status: "corrupt", reason: `label ${labels[bad]} at ${bad}` };
    const dataset: ImageDataset = {
      name: h.name,
      split: h.split,
      n: h.n,
      channels: h.channels,
      height: h.height,
      width: h.width,
      images: bytes.subarray(at.images, at.images + at.imageBytes),
      labels,
      classes: h.classes,
      boxes: h.hasBoxes
        ? new Float32Array(bytes.buffer, bytes.byteOffset + at.boxes, h.n * 4)
        : undefined,
      mean: h.mean,
      std: h.std,
      source: h.source,
    };
    return { status: "hit", value: { dataset, extra: h.extra as E } };
  } catch (e) {
    return { status: "corrupt", reason: (e as Error).message };
  }
}

/**
 * Writes a split to `file` atomically (temporary file, then rename), creating the folder.
 * Throws on failure (the caller may only warn: the cache is an optimisation).
 */
export async function writeDatasetCache(
  file: string,
  key: string,
  ds: ImageDataset,
  extra: unknown,
): Promise<void> {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error("dataset cache needs a little-endian machine");
  }
  const header: CacheHeader = {
    format: FORMAT,
    key,
    name: ds.name,
    split: ds.split,
    n: ds.n,
    channels: ds.channels,
    height: ds.height,
    width: ds.width,
    classes: [...ds.classes],
    mean: [...ds.mean],
    std: [...ds.std],
    hasBoxes: !!ds.boxes,
    source: ds.source,
    extra,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const at = layout(ds, json.length);
  const head = new Uint8Array(at.images);
  head.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(head.buffer).setUint32(8, json.length, true);
  head.set(json, 12);
  const labelsStart = at.images + at.imageBytes;
  const parts: Uint8Array[] = [
    head,
    ds.images,
    new Uint8Array(at.labels - labelsStart),
    new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength),
  ];
  if (ds.boxes) {
    parts.push(new Uint8Array(at.boxes - (at.labels + ds.n * 4)));
    parts.push(new Uint8Array(ds.boxes.buffer, ds.boxes.byteOffset, ds.boxes.byteLength));
  }
  const dir = file.slice(0, file.lastIndexOf("/")) || ".";
  await Deno.mkdir(dir, { recursive: true });
  writeAtomic(file, parts);
}
