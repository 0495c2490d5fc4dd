/**
 * The Oxford-IIIT Pet dataset (37 cat and dog breeds, 7,349 listed images) as released at
 * https://www.robots.ox.ac.uk/~vgg/data/pets/:
 *
 * ```
 * <dir>/images/<name>.jpg                 photos (a few are really PNG or GIF, or CMYK JPEGs)
 * <dir>/annotations/trainval.txt, test.txt "<name> <class id 1..37> <species 1 cat, 2 dog> <breed id>"
 * <dir>/annotations/trimaps/<name>.png    1 pet, 2 background, 3 border (the pet's outline)
 * <dir>/annotations/xmls/<name>.xml       PASCAL VOC head box (trainval images only, 1-based,
 *                                         inclusive corners)
 * ```
 *
 * Split "train" is trainval.txt, "test" is test.txt. Class names are the breed part of the
 * image names ("great_pyrenees" from "great_pyrenees_12"), indexed by class id - 1.
 *
 * Every image is decoded (in worker threads), resized to `imageSize` x `imageSize` with PIL's
 * bilinear filter (what torchvision's `Resize((s, s))` does to a PIL image: no crop, aspect
 * not kept) and stored as planar RGB. Boxes, in pixels of the resized image:
 *
 * - "pet" (default): the bounding box of the trimap pixels that are pet (1) or border (3).
 *   The border class is the band along the pet's outline where fur meets background; it is
 *   part of the pet's extent, so it is included (the box then covers the whole animal, about a
 *   pixel wider than the pet-only pixels on each side); TensorFlow's create_pet_tf_record.py
 *   draws its boxes by the same rule (every pixel that is not background). A trimap with
 *   neither gives NaN.
 * - "head": the XML head box where there is one (1-based inclusive corners become
 *   [xmin - 1, ymin - 1, xmax, ymax), several objects their union), else the pet box; how many
 *   fell back is said in a warning.
 *
 * Boxes scale as (x * imageSize) / width and (y * imageSize) / height, stored as float32.
 *
 * Images that cannot be read (undecodable or missing image or trimap, a trimap whose size
 * differs from its image's, or with values other than 1..3) are skipped with one warning line
 * naming the count and the first few, or with `strict` the first one throws naming its file.
 * Malformed list files and XML files always throw, naming the file.
 *
 * The decoded split is cached (see ./cache.ts), keyed by the list files' contents, every
 * source file's name, size and modification time, the image size and box mode; the second
 * load reads one file.
 *
 * @module
 */

import { XMLParser, XMLValidator } from "npm:fast-xml-parser@5.12.1";
import { datasetCacheDir, hashParts, readDatasetCache, writeDatasetCache } from "./cache.ts";
import type { ImageDataset } from "./dataset.ts";
import { decodePetTask, type PetResult, type PetTask } from "./oxford_pet_decode.ts";
import type { DatasetSpec } from "./spec.ts";
import { entryProblem, present, probe, requireEntry } from "./files.ts";
import { checkMemory } from "../util/memory.ts";
import { runInWorkers } from "./worker_pool.ts";
import { pathExists } from "../util/fs.ts";

/** ImageNet's per-channel mean and std (of pixel / 255), used for Oxford-IIIT Pet. */
export const IMAGENET_STATS = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
} as const;

/** Options of {@link loadOxfordPet}. */
export interface OxfordPetOptions {
  /** "train" (trainval.txt) or "test" (test.txt). */
  split: "train" | "test";
  /** Images are resized to imageSize x imageSize (default 224). */
  imageSize?: number;
  /** The trimap's pet box (default) or the XML head box. */
  box?: "pet" | "head";
  /** Throw on the first bad image instead of skipping it with a warning (default false). */
  strict?: boolean;
  /** Called as images are decoded (not when the split comes from the cache). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Decode threads: default min(CPU cores, 8) (inline for fewer than 24 images); 0 decodes
   * on the calling thread.
   */
  workers?: number;
  /** Read and write the decode cache (default true). */
  cache?: boolean;
  /** Folder of the decode cache (default `<hlgm cache dir>/datasets-cache`). */
  cacheDir?: string;
}

/** One line of a split list file. */
export interface PetListEntry {
  /** Image name without extension, e.g. "Abyssinian_100". */
  name: string;
  /** Breed: the name without its trailing "_<number>". */
  breed: string;
  /** Class id, 1-based. */
  classId: number;
  /** 1 cat, 2 dog. */
  species: number;
  /** Breed id within the species, 1-based. */
  breedId: number;
}

const SPLIT_FILES = { train: "trainval.txt", test: "test.txt" } as const;
const MAX_CLASSES = 37;
const CACHE_FORMAT = "oxford-pet/1";
const INLINE_BELOW = 24;
const NAMES_SHOWN = 5;

/**
 * `dir` (or `<dir>/oxford-pet`, `<dir>/oxford-iiit-pet`) when it holds the dataset: the named
 * folders when anything is at `images` or at a list file's name (the loader then names what is
 * missing or wrong), `dir` itself only with an images folder and a list file.
 */
export function findOxfordPet(root: string): string | undefined {
  const lists = (dir: string) =>
    Object.values(SPLIT_FILES).some((f) => present(`${dir}/annotations/${f}`));
  for (const dir of [`${root}/oxford-pet`, `${root}/oxford-iiit-pet`]) {
    if (present(`${dir}/images`) || lists(dir)) return dir;
  }
  return probe(`${root}/images`).kind === "directory" && lists(root) ? root : undefined;
}

/**
 * Parses a split list file ("<name> <class id> <species> <breed id>" lines, "#" comments),
 * throwing for a malformed line or unknown id with the file and line number.
 */
export function parsePetList(text: string, file: string): PetListEntry[] {
  const entries: PetListEntry[] = [];
  const seen = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${file}:${i + 1}`;
    const fields = line.split(/\s+/);
    const m = /^(.+)_(\d+)$/.exec(fields[0]);
    if (fields.length !== 4 || !m || !fields.slice(1).every((f) => /^\d+$/.test(f))) {
      throw new Error(
        `${where}: malformed line "${line.slice(0, 80)}" (expected "<breed>_<number> ` +
          '<class id> <species> <breed id>")',
      );
    }
    const [classId, species, breedId] = fields.slice(1).map(Number);
    if (classId < 1 || classId > MAX_CLASSES) {
      throw new Error(`${where}: unknown class id ${classId} (expected 1..${MAX_CLASSES})`);
    }
    if (species !== 1 && species !== 2) {
      throw new Error(`${where}: unknown species ${species} (expected 1 cat or 2 dog)`);
    }
    if (breedId < 1) throw new Error(`${where}: breed id ${breedId} (expected 1 or more)`);
    if (seen.has(fields[0])) throw new Error(`${where}: ${fields[0]} is listed twice`);
    seen.add(fields[0]);
    entries.push({ name: fields[0], breed: m[1], classId, species, breedId });
  }
  return entries;
}

/**
 * Class names by class id - 1 from the entries of the list files, checking that each id has
 * one breed name and each breed one id, and that the ids run 1..K without gaps.
 */
function petClasses(lists: { file: string; entries: PetListEntry[] }[]): string[] {
  const byId = new Map<number, { breed: string; file: string }>();
  const byBreed = new Map<string, number>();
  for (const { file, entries } of lists) {
    for (const e of entries) {
      const known = byId.get(e.classId);
      if (known && known.breed !== e.breed) {
        throw new Error(
          `${file}: class id ${e.classId} is "${e.breed}" (${e.name}) but "${known.breed}" ` +
            `in ${known.file}`,
        );
      }
      const id = byBreed.get(e.breed);
      if (id !== undefined && id !== e.classId) {
        throw new Error(`${file}: breed "${e.breed}" has class ids ${id} and ${e.classId}`);
      }
      byId.set(e.classId, { breed: e.breed, file });
      byBreed.set(e.breed, e.classId);
    }
  }
  const k = Math.max(0, ...byId.keys());
  const classes: string[] = [];
  for (let id = 1; id <= k; id++) {
    const c = byId.get(id);
    if (!c) {
      throw new Error(
        `${lists.map((l) => l.file).join(", ")}: class id ${id} has no image (ids run to ${k})`,
      );
    }
    classes.push(c.breed);
  }
  return classes;
}

/** A head box from a VOC XML, in the XML's own pixel frame. */
export interface HeadBox {
  /** Image width the XML states. */
  width: number;
  /** Image height the XML states. */
  height: number;
  /** [x0, y0, x1, y1) (0-based, exclusive ends), the union of the XML's objects. */
  box: [number, number, number, number];
}

const xmlParser = new XMLParser({
  parseTagValue: false,
  ignoreAttributes: true,
  isArray: (name) => name === "object",
});

/** Parses a PASCAL VOC annotation, throwing "malformed" errors that name `file`. */
export function parseVocXml(text: string, file: string): HeadBox {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new Error(
      `${file}: malformed XML (${valid.err.msg} at line ${valid.err.line}, column ${valid.err.col})`,
    );
  }
  // deno-lint-ignore no-explicit-any
  const doc = xmlParser.parse(text) as any;
  const ann = doc?.annotation;
  if (!ann || typeof ann !== "object") throw new Error(`${file}: malformed XML (no <annotation>)`);
  const num = (v: unknown, what: string, positive = false): number => {
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
    if (!Number.isFinite(n) || (positive && n <= 0)) {
      throw new Error(`${file}: malformed XML (${what} is ${JSON.stringify(v ?? null)})`);
    }
    return n;
  };
  const width = num(ann.size?.width, "<size><width>", true);
  const height = num(ann.size?.height, "<size><height>", true);
  const objects = (ann.object ?? []) as { bndbox?: Record<string, unknown> }[];
  if (objects.length === 0) throw new Error(`${file}: malformed XML (no <object>)`);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [i, o] of objects.entries()) {
    const b = o?.bndbox;
    if (!b || typeof b !== "object") {
      throw new Error(`${file}: malformed XML (<object> ${i + 1} has no <bndbox>)`);
    }
    const xmin = num(b.xmin, "<xmin>"), ymin = num(b.ymin, "<ymin>");
    const xmax = num(b.xmax, "<xmax>"), ymax = num(b.ymax, "<ymax>");
    if (xmin > xmax || ymin > ymax) {
      throw new Error(
        `${file}: malformed XML (box ${xmin},${ymin}-${xmax},${ymax} has negative size)`,
      );
    }
    // 1-based inclusive corners -> 0-based [x0, x1), clipped to the stated size
    x0 = Math.min(x0, Math.max(0, xmin - 1));
    y0 = Math.min(y0, Math.max(0, ymin - 1));
    x1 = Math.max(x1, Math.min(width, xmax));
    y1 = Math.max(y1, Math.min(height, ymax));
  }
  return { width, height, box: [x0, y0, x1, y1] };
}

async function readText(file: string, what: string): Promise<string> {
  const entry = probe(file);
  if (entry.kind !== "missing") {
    const problem = entryProblem(entry, what);
    if (problem) throw new Error(problem);
  }
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${file}: missing (${what})`);
    throw new Error(`${file}: cannot read ${what} (${(e as Error).message})`);
  }
}

function statLine(path: string, rel: string): string {
  try {
    const s = Deno.statSync(path);
    return `${rel} ${s.size} ${s.mtime?.getTime() ?? 0}`;
  } catch {
    return `${rel} missing`;
  }
}

function shown(names: string[]): string {
  return names.slice(0, NAMES_SHOWN).join(", ") +
    (names.length > NAMES_SHOWN ? `, ... (${names.length - NAMES_SHOWN} more)` : "");
}

/** What is stored with a cached split besides the arrays. */
interface PetCacheExtra {
  /** Images left out (in list order), with why. */
  bad: { name: string; file: string; message: string }[];
  /** Warning lines to repeat when the split is read from the cache. */
  warnings: string[];
}

/**
 * Loads one split of Oxford-IIIT Pet from `dir` (the folder holding `images/` and
 * `annotations/`), decoded and resized, with a box per image; see the module notes.
 */
export async function loadOxfordPet(dir: string, options: OxfordPetOptions): Promise<ImageDataset> {
  const { split, imageSize = 224, box = "pet", strict = false } = checkPetOptions(options);
  const ann = `${dir}/annotations`;
  requireEntry(`${dir}/images`, "the folder of the photos (images/<name>.jpg)", "directory");
  const listFile = `${ann}/${SPLIT_FILES[split]}`;
  const listText = await readText(listFile, `the ${split} split's list of images`);
  const entries = parsePetList(listText, listFile);
  if (entries.length === 0) throw new Error(`${listFile}: lists no images`);
  checkMemory(
    entries.length * 3 * imageSize * imageSize,
    `oxford-pet ${split}: ${entries.length} images decoded at ${imageSize}x${imageSize}`,
  );
  const otherFile = `${ann}/${SPLIT_FILES[split === "train" ? "test" : "train"]}`;
  const otherText = pathExists(otherFile) ? await readText(otherFile, "list of images") : null;
  const lists = [{ file: listFile, entries }];
  if (otherText !== null) {
    lists.push({ file: otherFile, entries: parsePetList(otherText, otherFile) });
  }
  const classes = petClasses(lists);
  const files = petFiles(dir);

  const cache = (options.cache ?? true)
    ? petCache(dir, options, entries, files, [listText, otherText ?? "(no other list)"])
    : null;
  if (cache) {
    const read = await readDatasetCache<PetCacheExtra>(cache.file, cache.key);
    if (read.status === "hit") {
      const { dataset, extra } = read.value;
      if (strict && extra.bad.length > 0) throw new Error(extra.bad[0].message);
      for (const w of extra.warnings) console.warn(w);
      return { ...dataset, source: dir };
    }
    if (read.status === "corrupt") {
      console.warn(
        `oxford-pet: ignoring corrupt cache file ${cache.file} (${read.reason}); rebuilding`,
      );
    }
  }

  const heads = box === "head" ? await readHeadBoxes(entries, files) : [];
  const decoded = await decodePets(entries, heads, files, options);
  if (strict && decoded.bad.length > 0) throw new Error(decoded.bad[0].message);

  // Drop the bad images, keeping list order.
  const { images, ok, boxes, bad } = decoded;
  const n = entries.length;
  const px = 3 * imageSize * imageSize;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (ok[i]) keep.push(i);
  const m = keep.length;
  if (m === 0) {
    throw new Error(
      `oxford-pet ${split}: none of the ${n} images in ${listFile} could be read (first: ${
        bad[0]?.message
      })`,
    );
  }
  const labels = new Int32Array(m);
  const outBoxes = new Float32Array(m * 4);
  keep.forEach((src, dst) => {
    if (src !== dst) images.copyWithin(dst * px, src * px, (src + 1) * px);
    labels[dst] = entries[src].classId - 1;
    outBoxes.set(boxes.subarray(src * 4, src * 4 + 4), dst * 4);
  });
  const warnings = petWarnings(`oxford-pet ${split}`, entries, decoded, m);
  for (const w of warnings) console.warn(w);

  const dataset: ImageDataset = {
    name: "oxford-pet",
    split,
    n: m,
    channels: 3,
    height: imageSize,
    width: imageSize,
    images: m === n ? images : images.subarray(0, m * px),
    labels,
    classes,
    boxes: outBoxes,
    mean: IMAGENET_STATS.mean,
    std: IMAGENET_STATS.std,
    source: dir,
  };
  if (cache) {
    const extra: PetCacheExtra = {
      bad: bad.map((b) => ({ name: entries[b.index].name, file: b.file, message: b.message })),
      warnings,
    };
    try {
      await writeDatasetCache(cache.file, cache.key, dataset, extra);
    } catch (e) {
      console.warn(
        `oxford-pet: cannot write the decode cache ${cache.file} (${(e as Error).message})`,
      );
    }
  }
  return dataset;
}

/** The options, checked: a known split and box kind, a sane image size. */
function checkPetOptions(options: OxfordPetOptions): OxfordPetOptions {
  const { split, imageSize = 224, box = "pet" } = options;
  if (split !== "train" && split !== "test") {
    throw new TypeError(`oxford-pet: unknown split "${split}"; expected train or test`);
  }
  if (!Number.isInteger(imageSize) || imageSize < 1 || imageSize > 4096) {
    throw new RangeError(`oxford-pet: imageSize must be an integer in 1..4096, got ${imageSize}`);
  }
  if (box !== "pet" && box !== "head") {
    throw new TypeError(`oxford-pet: unknown box "${box}"; expected pet or head`);
  }
  return options;
}

/** Where an image's photo, trimap and head-box XML are. */
interface PetFiles {
  image(name: string): string;
  trimap(name: string): string;
  xml(name: string): string;
}

function petFiles(dir: string): PetFiles {
  return {
    image: (name) => `${dir}/images/${name}.jpg`,
    trimap: (name) => `${dir}/annotations/trimaps/${name}.png`,
    xml: (name) => `${dir}/annotations/xmls/${name}.xml`,
  };
}

/** The decode cache's file and key: the lists, every source file's size and mtime, the settings. */
function petCache(
  dir: string,
  options: OxfordPetOptions,
  entries: PetListEntry[],
  files: PetFiles,
  lists: string[],
): { file: string; key: string } {
  const { split, imageSize = 224, box = "pet" } = options;
  const stats: string[] = [];
  for (const e of entries) {
    stats.push(statLine(files.image(e.name), `images/${e.name}.jpg`));
    stats.push(statLine(files.trimap(e.name), `trimaps/${e.name}.png`));
    if (box === "head") stats.push(statLine(files.xml(e.name), `xmls/${e.name}.xml`));
  }
  const key = hashParts([CACHE_FORMAT, `${split} ${imageSize} ${box}`, ...lists, stats.join("\n")]);
  let real = dir;
  try {
    real = Deno.realPathSync(dir);
  } catch {
    // keep the given path
  }
  const where = hashParts([real]).slice(0, 12);
  const file = `${
    options.cacheDir ?? datasetCacheDir()
  }/oxford-pet-${split}-${imageSize}-${box}-${where}.bin`;
  return { file, key };
}

/** Each image's head box from its XML (null where it has none: it falls back to the pet box). */
async function readHeadBoxes(
  entries: PetListEntry[],
  files: PetFiles,
): Promise<(HeadBox | null)[]> {
  const heads: (HeadBox | null)[] = [];
  for (const e of entries) {
    let text: string;
    try {
      text = await Deno.readTextFile(files.xml(e.name));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        heads.push(null);
        continue;
      }
      throw new Error(`${files.xml(e.name)}: cannot read (${(err as Error).message})`);
    }
    heads.push(parseVocXml(text, files.xml(e.name)));
  }
  return heads;
}

/** The decoded split, in list order, and what went wrong or differed on the way. */
interface DecodedPets {
  images: Uint8Array;
  /** Boxes in pixels of the resized image (NaN: none). */
  boxes: Float32Array;
  /** 1 where the image decoded. */
  ok: Uint8Array;
  /** Images that could not be read, in list order. */
  bad: { index: number; file: string; message: string }[];
  /** Names whose trimap has no pet pixel (no box). */
  noPet: string[];
  /** Names without a head-box XML (their pet box is used). */
  fellBack: string[];
  /** Names whose XML states another size than the image's. */
  sizeDiffers: string[];
}

/** Decodes every image (on worker threads unless few or told otherwise) and places its box. */
async function decodePets(
  entries: PetListEntry[],
  heads: (HeadBox | null)[],
  files: PetFiles,
  options: OxfordPetOptions,
): Promise<DecodedPets> {
  const { imageSize = 224, box = "pet", strict = false } = options;
  const n = entries.length;
  const tasks: PetTask[] = entries.map((e, index) => ({
    index,
    image: files.image(e.name),
    trimap: box === "pet" || !heads[index] ? files.trimap(e.name) : null,
    size: imageSize,
  }));
  const px = 3 * imageSize * imageSize;
  const out: DecodedPets = {
    images: new Uint8Array(n * px),
    boxes: new Float32Array(n * 4).fill(NaN),
    ok: new Uint8Array(n),
    bad: [],
    noPet: [],
    fellBack: [],
    sizeDiffers: [],
  };
  let done = 0;
  const finished = new Uint8Array(n);

  const accept = (r: PetResult): boolean => {
    if (finished[r.index]) return true;
    finished[r.index] = 1;
    done++;
    options.onProgress?.(done, n);
    if (!r.ok) {
      out.bad.push({ index: r.index, file: r.file, message: r.message });
      return !strict;
    }
    const i = r.index;
    out.ok[i] = 1;
    out.images.set(r.pixels, i * px);
    const head = heads[i];
    let b: readonly number[] | null = r.petBox;
    let w = r.width, h = r.height;
    if (head) {
      b = head.box;
      if (head.width !== r.width || head.height !== r.height) {
        out.sizeDiffers.push(entries[i].name);
        w = head.width;
        h = head.height;
      }
    } else {
      if (box === "head") out.fellBack.push(entries[i].name);
      if (!b) out.noPet.push(entries[i].name);
    }
    if (b) {
      const s = imageSize;
      out.boxes.set([(b[0] * s) / w, (b[1] * s) / h, (b[2] * s) / w, (b[3] * s) / h], i * 4);
    }
    return true;
  };

  const threads = options.workers ??
    (n < INLINE_BELOW ? 0 : Math.min(navigator.hardwareConcurrency || 1, 8));
  let inline = threads <= 0;
  if (!inline) {
    try {
      await runInWorkers<PetTask, PetResult>(
        new URL("./oxford_pet_worker.ts", import.meta.url),
        tasks,
        threads,
        accept,
      );
    } catch (e) {
      // Workers could not run here (permissions, a failed module load): finish on this thread.
      console.warn(`oxford-pet: ${(e as Error).message}; decoding on the calling thread`);
      inline = true;
    }
  }
  if (inline && !(strict && out.bad.length > 0)) {
    for (const t of tasks) {
      if (finished[t.index]) continue;
      if (!accept(await decodePetTask(t))) break;
    }
  }
  out.bad.sort((a, b) => a.index - b.index);
  return out;
}

/** The warnings a split's loading gives (kept in the cache, to repeat when read from it). */
function petWarnings(
  tag: string,
  entries: PetListEntry[],
  d: DecodedPets,
  kept: number,
): string[] {
  const warnings: string[] = [];
  const n = entries.length;
  if (d.bad.length > 0) {
    warnings.push(
      `${tag}: skipped ${d.bad.length} of ${n} images that could not be read: ${
        shown(d.bad.map((b) => entries[b.index].name))
      } (first: ${d.bad[0].message}; pass strict to fail instead)`,
    );
  }
  if (d.fellBack.length > 0) {
    warnings.push(
      `${tag}: ${d.fellBack.length} of ${kept} images have no head box XML and use their pet box: ${
        shown(d.fellBack)
      }`,
    );
  }
  if (d.noPet.length > 0) {
    warnings.push(
      `${tag}: ${d.noPet.length} trimaps have no pet or border pixel, so no box (NaN): ${
        shown(d.noPet)
      }`,
    );
  }
  if (d.sizeDiffers.length > 0) {
    warnings.push(
      `${tag}: ${d.sizeDiffers.length} head-box XMLs state a size other than their image's ` +
        `(boxes scaled by the XML's size): ${shown(d.sizeDiffers)}`,
    );
  }
  return warnings;
}

/** Image counts of the two splits (list lines), without decoding anything. */
export async function oxfordPetCounts(dir: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [split, file] of Object.entries(SPLIT_FILES)) {
    const path = `${dir}/annotations/${file}`;
    if (pathExists(path)) {
      counts[split] = parsePetList(await readText(path, "list of images"), path).length;
    }
  }
  return counts;
}

/** The registry entry (CLI name "oxford-pet"). */
export const oxfordPetSpec: DatasetSpec = {
  name: "oxford-pet",
  description:
    "Oxford-IIIT Pet: 7,349 photos of 37 cat and dog breeds, resized; pet (trimap) or head boxes",
  hasBoxes: true,
  find: findOxfordPet,
  load: (dir, o) =>
    loadOxfordPet(dir, { split: o.split, imageSize: o.imageSize, box: o.box, strict: o.strict }),
  counts: oxfordPetCounts,
};
