/**
 * Oxford-IIIT Pet reader on a small generated copy in the real formats: JPEGs (jpeg-js encoder,
 * plus a CMYK JPEG made by ImageMagick, a PNG and a GIF named .jpg), trimap PNGs (grey and
 * palette), VOC XML head boxes and the list files with their comment headers. Each image is a
 * coloured rectangle on a background, the trimap marks the rectangle as pet with a 1-pixel
 * border of 3, so every expected box and pixel value is known.
 *
 * No tensors are created here (the reader is plain TypeScript), so HLGM_TEST_DEVICE does not
 * apply.
 *
 * @module
 */

import assert from "node:assert/strict";
import jpegJs from "jpeg-js";
import { encode as encodePng } from "fast-png";
// @ts-types="npm:@types/omggif@1.0.5"
import { GifWriter } from "omggif";
import {
  findOxfordPet,
  IMAGENET_STATS,
  loadOxfordPet,
  oxfordPetCounts,
  type OxfordPetOptions,
  parsePetList,
  parseVocXml,
} from "../src/data/oxford_pet.ts";
import { decodeImage, resizeToChw } from "../src/data/image_codec.ts";
import { readDatasetCache } from "../src/data/cache.ts";
import { validateDataset } from "../src/data/dataset.ts";
import { datasetSpec, loadDataset } from "../src/data/registry.ts";

/** ImageMagick: 16x12 rgb(200,30,40) with rgb(20,40,220) in x 4..11, y 3..8, as CMYK JPEG. */
const CMYK_JPEG = Uint8Array.from(
  atob(
    "/9j/7gAOQWRvYmUAZAAAAAAC/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/9sAQwECAgICAgIFAwMFCgcGBwoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK/8AAFAgADAAQBAERAAIRAQMRAQQRAP/EABgAAQADAQAAAAAAAAAAAAAAAAAFBggJ/8QAJBAAAAQGAgIDAAAAAAAAAAAAAQQREgACAwUTFAYVB1ExUpH/xAAXAQEBAQEAAAAAAAAAAAAAAAAACAYJ/8QAIxEAAQMCBQUAAAAAAAAAAAAAEQMSEwIGAQUHFTEABAgUIf/aAA4EAQACEQMRBAAAPwDR/iLx1ZOfdh3Bo1S1MWPWnllVz1V0o/UIxXk5rpdui207Iggp7c75qVKhFC1rFUwZKiTxgB9PPzxm0OtPWbdd7XXT9WBkNSdJlmc56ShEdIA5xJ+DpzxLjpK/bG5Vqy4mNxTACq75UB9Q8u+OrJwHr+nNGqu3lybM8syNYiNlD7DDxj10u3Wndt7QQT9SBkNKlJlmc56qhEdIA5xJ+B5M6HWnoztWyLrqe1O+apOoRQtaxJMGSok8YAfS5bx0lYdfTq1Zsr3ZZgFEb8IAe4q1svl7sr+nvBoplTJrGJqb0VFaIKij+xRef2faV1x73l6HdxlkySarHBzX01Nc2kgEYHjDqeMgu+7LVk2TMF+1kD4VVEntLXMqpc11QJBxHOPUWWPHSTtM5VpOR2KoMqp7SFzvl7vTO4vBo3iXHsmJqjFRUcIoqB+QyCz7StSTZMvQ7SQPhSTSe0tcymlzXVAkHEc49M/u+7Lqj3vMF+6jLJlVFWODmvqqa5tJAIwPGHQyeOnW7hyrVarctQZkX0sf/9k=",
  ),
  (c) => c.charCodeAt(0),
);

type Rgb = [number, number, number];
type Rect = [number, number, number, number]; // x0, y0, x1, y1 (exclusive)
type Encoding = "jpeg" | "png" | "grey-png" | "gif" | "cmyk";

/** One generated image: a `fg` rectangle on `bg`, and how it is stored. */
interface Spec {
  name: string;
  classId: number;
  species: number;
  breedId: number;
  w: number;
  h: number;
  rect: Rect;
  fg: Rgb;
  bg: Rgb;
  encoding?: Encoding;
  /** 1-based inclusive head box for the XML; none = no XML file. */
  head?: [number, number, number, number];
  /** Write the trimap as a palette PNG. */
  paletteTrimap?: boolean;
}

const CLASSES = ["Abyssinian", "american_bulldog", "great_pyrenees"];
const RED: Rgb = [200, 30, 40];
const GREEN: Rgb = [40, 180, 60];
const BLUE: Rgb = [20, 40, 220];
const GREY: Rgb = [128, 128, 128];
const WHITE: Rgb = [235, 235, 235];

function spec(
  name: string,
  classId: number,
  w: number,
  h: number,
  rect: Rect,
  fg: Rgb,
  bg: Rgb,
  more: Partial<Spec> = {},
): Spec {
  const species = classId === 1 ? 1 : 2;
  const breedId = classId === 1 ? 1 : classId - 1;
  return { name, classId, species, breedId, w, h, rect, fg, bg, ...more };
}

const TRAIN: Spec[] = [
  spec("Abyssinian_1", 1, 64, 48, [8, 6, 40, 30], RED, GREY, { head: [10, 8, 20, 18] }),
  spec("Abyssinian_2", 1, 50, 70, [5, 20, 45, 66], RED, WHITE, {
    head: [6, 21, 30, 40],
    paletteTrimap: true,
  }),
  spec("american_bulldog_1", 2, 80, 60, [30, 10, 76, 58], GREEN, GREY, { head: [31, 11, 50, 30] }),
  spec("american_bulldog_2", 2, 40, 40, [0, 0, 24, 24], GREEN, WHITE), // no XML: pet box
  spec("great_pyrenees_1", 3, 72, 54, [16, 12, 56, 42], BLUE, GREY, {
    head: [17, 13, 30, 25],
    encoding: "png",
  }),
  spec("great_pyrenees_2", 3, 60, 60, [10, 10, 50, 50], BLUE, WHITE, {
    head: [20, 20, 40, 40],
    encoding: "gif",
  }),
];

const TEST: Spec[] = [
  spec("Abyssinian_3", 1, 16, 12, [4, 3, 12, 9], BLUE, RED, { encoding: "cmyk" }),
  spec("american_bulldog_3", 2, 48, 64, [12, 16, 36, 48], GREY, WHITE, { encoding: "grey-png" }),
  spec("great_pyrenees_3", 3, 66, 44, [20, 4, 60, 40], BLUE, GREY),
];

function header(split: string): string {
  return [
    `#Image CLASS-ID SPECIES BREED ID (${split})`,
    "#ID: 1:37 Class ids",
    "#SPECIES: 1:Cat 2:Dog",
    "#BREED ID: 1-25:Cat 1:12:Dog",
    "#All images with 1st letter as captial are cat images",
    "#images with small first letter are dog images",
    "",
  ].join("\n");
}

function listText(specs: Spec[], split: string): string {
  return header(split) +
    specs.map((s) => `${s.name} ${s.classId} ${s.species} ${s.breedId}\n`).join("");
}

function pixelsOf(s: Spec): Uint8Array {
  const rgba = new Uint8Array(s.w * s.h * 4);
  const [x0, y0, x1, y1] = s.rect;
  for (let y = 0; y < s.h; y++) {
    for (let x = 0; x < s.w; x++) {
      const c = x >= x0 && x < x1 && y >= y0 && y < y1 ? s.fg : s.bg;
      rgba.set([...c, 255], (y * s.w + x) * 4);
    }
  }
  return rgba;
}

const encoded = new Map<string, Uint8Array>();

/** The image file's bytes (memoised: jpeg-js takes ~30 ms per 300x200 image). */
function encodeImage(s: Spec): Uint8Array {
  const key = JSON.stringify([s.w, s.h, s.rect, s.fg, s.bg, s.encoding]);
  let bytes = encoded.get(key);
  if (!bytes) encoded.set(key, bytes = encodeUncached(s));
  return bytes;
}

function encodeUncached(s: Spec): Uint8Array {
  const rgba = pixelsOf(s);
  switch (s.encoding ?? "jpeg") {
    case "jpeg":
      return jpegJs.encode({ data: rgba, width: s.w, height: s.h }, 95).data;
    case "png":
      return encodePng({ width: s.w, height: s.h, data: rgba, channels: 4, depth: 8 });
    case "grey-png": {
      const grey = new Uint8Array(s.w * s.h).map((_, i) => rgba[i * 4]);
      return encodePng({ width: s.w, height: s.h, data: grey, channels: 1, depth: 8 });
    }
    case "gif": {
      const buf = new Uint8Array(1024 + s.w * s.h * 2);
      const palette = [
        (s.bg[0] << 16) | (s.bg[1] << 8) | s.bg[2],
        (s.fg[0] << 16) | (s.fg[1] << 8) | s.fg[2],
      ];
      const indices = new Uint8Array(s.w * s.h).map((_, i) =>
        rgba[i * 4] === s.fg[0] && rgba[i * 4 + 1] === s.fg[1] ? 1 : 0
      );
      const gw = new GifWriter(buf, s.w, s.h, { palette });
      gw.addFrame(0, 0, s.w, s.h, Array.from(indices));
      return buf.slice(0, gw.end());
    }
    case "cmyk":
      return CMYK_JPEG;
  }
}

/** Trimap: 1 inside the rectangle, 3 on its outermost ring, 2 outside. */
function trimapOf(s: Spec): Uint8Array {
  const t = new Uint8Array(s.w * s.h).fill(2);
  const [x0, y0, x1, y1] = s.rect;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      t[y * s.w + x] = x === x0 || x === x1 - 1 || y === y0 || y === y1 - 1 ? 3 : 1;
    }
  }
  if (s.paletteTrimap) {
    return encodePng({
      width: s.w,
      height: s.h,
      data: t,
      channels: 1,
      depth: 8,
      palette: [[0, 0, 0], [255, 255, 255], [0, 0, 0], [128, 128, 128]],
    });
  }
  return encodePng({ width: s.w, height: s.h, data: t, channels: 1, depth: 8 });
}

function xmlOf(s: Spec): string {
  const [xmin, ymin, xmax, ymax] = s.head!;
  const species = s.species === 1 ? "cat" : "dog";
  return `<annotation><folder>OXIIIT</folder><filename>${s.name}.jpg</filename>
<source><database>OXFORD-IIIT Pet Dataset</database></source>
<size><width>${s.w}</width><height>${s.h}</height><depth>3</depth></size>
<segmented>0</segmented>
<object><name>${species}</name><pose>Frontal</pose><truncated>0</truncated><occluded>0</occluded>
<bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${xmax}</xmax><ymax>${ymax}</ymax></bndbox>
<difficult>0</difficult></object></annotation>
`;
}

async function writeSpec(dir: string, s: Spec): Promise<void> {
  await Deno.writeFile(`${dir}/images/${s.name}.jpg`, encodeImage(s));
  await Deno.writeFile(`${dir}/annotations/trimaps/${s.name}.png`, trimapOf(s));
  if (s.head) await Deno.writeTextFile(`${dir}/annotations/xmls/${s.name}.xml`, xmlOf(s));
}

/** A dataset folder with `train` and `test` (null: no test.txt). */
async function makePets(train: Spec[], test: Spec[] | null): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hlgm-pets-" });
  for (const sub of ["images", "annotations/trimaps", "annotations/xmls"]) {
    await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
  }
  for (const s of [...train, ...(test ?? [])]) await writeSpec(dir, s);
  await Deno.writeTextFile(`${dir}/annotations/trainval.txt`, listText(train, "trainval"));
  if (test) await Deno.writeTextFile(`${dir}/annotations/test.txt`, listText(test, "test"));
  return dir;
}

/** Runs `fn` with console.warn captured. */
async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(" "));
  try {
    return { value: await fn(), warnings };
  } finally {
    console.warn = original;
  }
}

/** Loads with the cache off unless asked (and in a private folder when on). */
function load(dir: string, o: Partial<OxfordPetOptions> & { split: "train" | "test" }) {
  return loadOxfordPet(dir, { cache: false, ...o });
}

const expectedBox = (b: readonly number[], w: number, h: number, size: number) => [
  Math.fround((b[0] * size) / w),
  Math.fround((b[1] * size) / h),
  Math.fround((b[2] * size) / w),
  Math.fround((b[3] * size) / h),
];

function boxAt(boxes: Float32Array | undefined, i: number): number[] {
  assert.ok(boxes, "dataset has boxes");
  return Array.from(boxes.subarray(i * 4, i * 4 + 4));
}

/** The pixel (channel values) at (x, y) of image i. */
function pixel(
  ds: { images: Uint8Array; width: number; height: number },
  i: number,
  x: number,
  y: number,
) {
  const plane = ds.width * ds.height;
  const base = i * 3 * plane + y * ds.width + x;
  return [ds.images[base], ds.images[base + plane], ds.images[base + 2 * plane]];
}

function assertColour(got: number[], want: Rgb, tol: number, what: string): void {
  for (let c = 0; c < 3; c++) {
    assert.ok(
      Math.abs(got[c] - want[c]) <= tol,
      `${what}: got [${got}], expected about [${want}] (±${tol})`,
    );
  }
}

/** The centre of a rectangle in resized pixels. */
function centre(s: Spec, size: number): [number, number] {
  const [x0, y0, x1, y1] = s.rect;
  return [Math.floor(((x0 + x1) / 2) * size / s.w), Math.floor(((y0 + y1) / 2) * size / s.h)];
}

Deno.test("oxford-pet: train split decodes every format, labels, classes, pet boxes", async () => {
  const dir = await makePets(TRAIN, TEST);
  try {
    const size = 32;
    const { value: ds, warnings } = await captureWarnings(() =>
      load(dir, { split: "train", imageSize: size })
    );
    validateDataset(ds);
    assert.deepEqual(warnings, []);
    assert.equal(ds.name, "oxford-pet");
    assert.equal(ds.split, "train");
    assert.equal(ds.n, TRAIN.length);
    assert.equal(ds.channels, 3);
    assert.equal(ds.height, size);
    assert.equal(ds.width, size);
    assert.equal(ds.source, dir);
    assert.deepEqual([...ds.classes], CLASSES);
    assert.deepEqual(Array.from(ds.labels), TRAIN.map((s) => s.classId - 1));
    assert.deepEqual([...ds.mean], IMAGENET_STATS.mean);
    assert.deepEqual([...ds.std], IMAGENET_STATS.std);
    TRAIN.forEach((s, i) => {
      // pet (1) and border (3) pixels: exactly the rectangle
      assert.deepEqual(boxAt(ds.boxes, i), expectedBox(s.rect, s.w, s.h, size), s.name);
      const [cx, cy] = centre(s, size);
      assertColour(pixel(ds, i, cx, cy), s.fg, 10, `${s.name} centre`);
      assertColour(pixel(ds, i, size - 1, size - 1), s.bg, 10, `${s.name} corner`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("oxford-pet: test split (CMYK JPEG, grey PNG named .jpg) and head-less split", async () => {
  const dir = await makePets(TRAIN, TEST);
  try {
    const size = 24;
    const ds = await load(dir, { split: "test", imageSize: size });
    assert.equal(ds.split, "test");
    assert.equal(ds.n, TEST.length);
    assert.deepEqual([...ds.classes], CLASSES);
    assert.deepEqual(Array.from(ds.labels), [0, 1, 2]);
    TEST.forEach((s, i) => {
      assert.deepEqual(boxAt(ds.boxes, i), expectedBox(s.rect, s.w, s.h, size), s.name);
      const [cx, cy] = centre(s, size);
      assertColour(pixel(ds, i, cx, cy), s.fg, 12, `${s.name} centre`);
      assertColour(pixel(ds, i, 0, 0), s.bg, 12, `${s.name} corner`);
    });
    // grey image: the three planes are equal
    const g = pixel(ds, 1, 3, 3);
    assert.equal(g[0], g[1]);
    assert.equal(g[1], g[2]);
    // head mode on the test split (no XMLs): every image falls back, one warning line
    const { value: heads, warnings } = await captureWarnings(() =>
      load(dir, { split: "test", imageSize: size, box: "head" })
    );
    assert.deepEqual(Array.from(heads.boxes!), Array.from(ds.boxes!));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /3 of 3 images have no head box XML/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("oxford-pet: head boxes from the XMLs, pet box where there is none", async () => {
  const dir = await makePets(TRAIN, TEST);
  try {
    const size = 40;
    const { value: ds, warnings } = await captureWarnings(() =>
      load(dir, { split: "train", imageSize: size, box: "head" })
    );
    TRAIN.forEach((s, i) => {
      const want = s.head
        ? expectedBox([s.head[0] - 1, s.head[1] - 1, s.head[2], s.head[3]], s.w, s.h, size)
        : expectedBox(s.rect, s.w, s.h, size);
      assert.deepEqual(boxAt(ds.boxes, i), want, s.name);
    });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0],
      /1 of 6 images have no head box XML and use their pet box: american_bulldog_2$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("oxford-pet: resize matches PIL's bilinear filter on a known gradient", async () => {
  // A horizontal ramp 0..255 over 256 pixels shrunk 8x: PIL's antialiased bilinear averages
  // 16 source pixels with triangle weights centred on 8k + 3.5, giving 8k + 3.5 -> 8k + 4.
  const w = 256, h = 4;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data.fill(x, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  const out = resizeToChw({ width: w, height: h, channels: 3, data }, 32, 2);
  const row = Array.from(out.subarray(0, 32));
  // interior outputs: mean of x weighted symmetrically around 8k + 3.5, rounded half up
  for (let k = 1; k < 31; k++) assert.equal(row[k], 8 * k + 4, `output ${k}`);
  // the planes are equal (grey ramp) and rows identical
  assert.deepEqual(Array.from(out.subarray(64, 96)), row);
  assert.deepEqual(Array.from(out.subarray(32, 64)), row);
  // upscaling keeps constant images constant
  const flat = resizeToChw(
    { width: 3, height: 3, channels: 1, data: new Uint8Array(9).fill(77) },
    7,
  );
  assert.ok(flat.every((v) => v === 77));
  // and decodeImage refuses what is not an image, naming the file
  await assert.rejects(
    () => decodeImage(new TextEncoder().encode("hello"), "x/hello.jpg"),
    /x\/hello\.jpg: not a JPEG, PNG or GIF image/,
  );
});

Deno.test("oxford-pet: a corrupt JPEG is skipped with one warning; strict names the file", async () => {
  const dir = await makePets(TRAIN, TEST);
  try {
    const bad = `${dir}/images/american_bulldog_1.jpg`;
    const good = await Deno.readFile(bad);
    await Deno.writeFile(bad, good.subarray(0, 200)); // truncated: header only
    await Deno.writeFile(`${dir}/images/Abyssinian_2.jpg`, new Uint8Array([1, 2, 3, 4])); // garbage
    const { value: ds, warnings } = await captureWarnings(() =>
      load(dir, { split: "train", imageSize: 16 })
    );
    assert.equal(ds.n, TRAIN.length - 2);
    assert.deepEqual(Array.from(ds.labels), [0, 1, 2, 2]);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0],
      /skipped 2 of 6 images .*: Abyssinian_2, american_bulldog_1 \(first: /,
    );
    assert.match(warnings[0], /Abyssinian_2\.jpg: not a JPEG, PNG or GIF image/);
    // the kept images keep their own boxes
    const kept = TRAIN.filter((s) => s.name !== "Abyssinian_2" && s.name !== "american_bulldog_1");
    kept.forEach((s, i) => assert.deepEqual(boxAt(ds.boxes, i), expectedBox(s.rect, s.w, s.h, 16)));

    await assert.rejects(
      () => load(dir, { split: "train", imageSize: 16, strict: true }),
      (e: Error) => e.message.includes(`${dir}/images/Abyssinian_2.jpg`),
    );
    // the same in the inline path (no workers)
    await Deno.writeFile(`${dir}/images/Abyssinian_2.jpg`, encodeImage(TRAIN[1]));
    await assert.rejects(
      () => load(dir, { split: "train", imageSize: 16, strict: true, workers: 0 }),
      (e: Error) => e.message.startsWith(`${bad}: `) && /JPEG/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("oxford-pet: trimap problems name the trimap file", async () => {
  const dir = await makePets(TRAIN, TEST);
  try {
    const s = TRAIN[0];
    const trimap = `${dir}/annotations/trimaps/${s.name}.png`;
    await Deno.writeFile(
      trimap,
      encodePng({
        width: s.w + 1,
        height: s.h,
        data: new Uint8Array((s.w + 1) * s.h).fill(2),
        channels: 1,
        depth: 8,
      }),
    );
    await assert.rejects(
      () => load(dir, { split: "train", imageSize: 16, strict: true }),
      (e: Error) =>
        e.message.startsWith(`${trimap}: trimap is ${s.w + 1}x${s.h}`) &&
        e.message.includes(`is ${s.w}x${s.h}`),
    );
    await Deno.writeFile(
      trimap,
      encodePng({
        width: s.w,
        height: s.h,
        data: new Uint8Array(s.w * s.h).fill(7),
        channels: 1,
        depth: 8,
      }),
    );
    await assert.rejects(
      () => load(dir, { split: "train", imageSize: 16, strict: true }),
      (e: Error) => e.message.startsWith(`${trimap}: trimap value 7 at (0, 0)`),
    );
    await Deno.remove(trimap);
    const { value: ds, warnings } = await captureWarnings(() =>
      load(dir, { split: "train", imageSize: 16 })
    );
    assert.equal(ds.n, TRAIN.length - 1);
    assert.match(warnings[0], /skipped 1 of 6 .*Abyssinian_1 .*trimap is missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("oxford-pet: malformed XML, list files and class ids are errors naming the file", async () => {
  const dir = await makePets(TRAIN, null);
  try {
    // no test.txt
    await assert.rejects(
      () => load(dir, { split: "test" }),
      (e: Error) => e.message.startsWith(`${dir}/annotations/test.txt: missing`),
    );
    // train still loads without test.txt
    assert.equal((await load(dir, { split: "train", imageSize: 8 })).n, TRAIN.length);

    const xml = `${dir}/annotations/xmls/Abyssinian_1.xml`;
    await Deno.writeTextFile(xml, "<annotation><size><width>64</width></size><object>");
    await assert.rejects(
      () => load(dir, { split: "train", imageSize: 8, box: "head" }),
      (e: Error) => e.message.startsWith(`${xml}: malformed XML`),
    );
    // pet boxes do not read the XMLs
    assert.equal((await load(dir, { split: "train", imageSize: 8 })).n, TRAIN.length);
    await Deno.writeTextFile(xml, "<annotation><size><width>64</width></size></annotation>");
    await assert.rejects(
      () => load(dir, { split: "train", imageSize: 8, box: "head" }),
      (e: Error) => e.message === `${xml}: malformed XML (<size><height> is null)`,
    );

    const list = `${dir}/annotations/trainval.txt`;
    await Deno.writeTextFile(list, "# header\nAbyssinian_1 1 1\n");
    await assert.rejects(
      () => load(dir, { split: "train" }),
      (e: Error) => e.message.startsWith(`${list}:2: malformed line "Abyssinian_1 1 1"`),
    );
    await Deno.writeTextFile(list, "Abyssinian_1 38 1 1\n");
    await assert.rejects(
      () => load(dir, { split: "train" }),
      (e: Error) => e.message === `${list}:1: unknown class id 38 (expected 1..37)`,
    );
    await Deno.writeTextFile(list, "Abyssinian_1 1 1 1\nBengal_1 1 1 2\n");
    await assert.rejects(
      () => load(dir, { split: "train" }),
      (e: Error) => e.message.includes(`class id 1 is "Bengal"`) && e.message.startsWith(list),
    );
    await Deno.writeTextFile(list, "Abyssinian_1 1 1 1\ngreat_pyrenees_1 3 2 2\n");
    await assert.rejects(
      () => load(dir, { split: "train" }),
      (e: Error) => e.message.startsWith(list) && e.message.includes("class id 2 has no image"),
    );
    await Deno.remove(list);
    await assert.rejects(
      () => load(dir, { split: "train" }),
      (e: Error) => e.message.startsWith(`${list}: missing`),
    );
    await assert.rejects(() => load(dir, { split: "train", imageSize: 0 }), /imageSize/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("oxford-pet: list and XML parsers", () => {
  const entries = parsePetList(listText(TRAIN, "trainval"), "t.txt");
  assert.equal(entries.length, TRAIN.length);
  assert.deepEqual(entries[2], {
    name: "american_bulldog_1",
    breed: "american_bulldog",
    classId: 2,
    species: 2,
    breedId: 1,
  });
  assert.throws(() => parsePetList("Abyssinian_1 1 3 1\n", "t.txt"), /t\.txt:1: unknown species 3/);
  assert.throws(
    () => parsePetList("a_1 1 1 1\na_1 1 1 1\n", "t.txt"),
    /t\.txt:2: a_1 is listed twice/,
  );
  const head = parseVocXml(xmlOf(TRAIN[0]), "a.xml");
  assert.deepEqual(head, { width: 64, height: 48, box: [9, 7, 20, 18] });
  // two objects: their union
  const two = xmlOf(TRAIN[0]).replace(
    "</annotation>",
    "<object><bndbox><xmin>30</xmin><ymin>2</ymin><xmax>40</xmax><ymax>10</ymax></bndbox></object></annotation>",
  );
  assert.deepEqual(parseVocXml(two, "a.xml").box, [9, 1, 40, 18]);
  assert.throws(() => parseVocXml("<annotation>", "a.xml"), /^Error: a\.xml: malformed XML/);
});

Deno.test("oxford-pet: workers and inline decoding agree", async () => {
  const dir = await makePets(TRAIN, TEST);
  try {
    const inline = await load(dir, { split: "train", imageSize: 20, workers: 0 });
    const pooled = await load(dir, { split: "train", imageSize: 20, workers: 3 });
    assert.deepEqual(pooled.images, inline.images);
    assert.deepEqual(pooled.labels, inline.labels);
    assert.deepEqual(pooled.boxes, inline.boxes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("oxford-pet: registry finds and loads it", async () => {
  const root = await Deno.makeTempDir({ prefix: "hlgm-root-" });
  const dir = await makePets(TRAIN, TEST);
  try {
    await Deno.rename(dir, `${root}/oxford-pet`);
    const spec = datasetSpec("oxford-pet");
    assert.equal(spec.hasBoxes, true);
    assert.equal(spec.find(root), `${root}/oxford-pet`);
    assert.equal(findOxfordPet(`${root}/oxford-pet`), `${root}/oxford-pet`);
    assert.equal(findOxfordPet(`${root}/nothing`), undefined);
    assert.deepEqual(await oxfordPetCounts(`${root}/oxford-pet`), { train: 6, test: 3 });
    assert.deepEqual(await spec.counts?.(`${root}/oxford-pet`), { train: 6, test: 3 });
    const previous = Deno.env.get("HLGM_CACHE_DIR");
    Deno.env.set("HLGM_CACHE_DIR", `${root}/cache`);
    try {
      const { value: ds, warnings } = await captureWarnings(() =>
        loadDataset("oxford-pet", { dataDir: root, split: "test", imageSize: 16, box: "head" })
      );
      assert.equal(ds.n, 3);
      assert.equal(ds.width, 16);
      assert.match(warnings[0], /3 of 3 images have no head box XML/);
      assert.ok(
        (await Deno.readDir(`${root}/cache/datasets-cache`)[Symbol.asyncIterator]().next()).value,
      );
    } finally {
      if (previous === undefined) Deno.env.delete("HLGM_CACHE_DIR");
      else Deno.env.set("HLGM_CACHE_DIR", previous);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("oxford-pet: a decode cache hit decodes nothing, invalidated by a changed file, survives corruption", async () => {
  // 200 images of 300x200 (real JPEGs), 224x224 output as in training
  const specs: Spec[] = [];
  for (let i = 0; i < 200; i++) {
    const c = i % 3;
    const x0 = 20 + 7 * (i % 5), y0 = 10 + 9 * (i % 4); // 3 x 20 distinct images
    specs.push(
      spec(
        `${CLASSES[c]}_${100 + i}`,
        c + 1,
        300,
        200,
        [x0, y0, x0 + 150, y0 + 120],
        [RED, GREEN, BLUE][c],
        GREY,
      ),
    );
  }
  const dir = await makePets(specs, TEST);
  const cacheDir = await Deno.makeTempDir({ prefix: "hlgm-cache-" });
  try {
    const options = { split: "train", imageSize: 224, cacheDir } as const;
    let decoded = 0;
    const counting = { ...options, onProgress: (done: number) => (decoded = done) };
    const first = await loadOxfordPet(dir, counting);
    assert.equal(decoded, 200, "the first load decodes every image");
    // What the cache does, not how fast: the hit must not decode at all. An image replaced
    // by garbage of the same size and mtime would fail to decode (a warning and one image
    // fewer); from the cache it comes back as it was.
    const victim = `${dir}/images/${specs[7].name}.jpg`;
    const original = await Deno.readFile(victim);
    const { mtime, atime } = await Deno.stat(victim);
    await Deno.writeFile(victim, new Uint8Array(original.length));
    await Deno.utime(victim, atime!, mtime!);
    decoded = 0;
    const { value: second, warnings: hitWarnings } = await captureWarnings(() =>
      loadOxfordPet(dir, counting)
    );
    assert.equal(decoded, 0, "a cache hit decodes no image");
    assert.deepEqual(hitWarnings, []);
    await Deno.writeFile(victim, original);
    await Deno.utime(victim, atime!, mtime!);
    assert.equal(second.n, 200);
    assert.deepEqual(second.images, first.images);
    assert.deepEqual(second.labels, first.labels);
    assert.deepEqual(second.boxes, first.boxes);
    assert.deepEqual(second.classes, first.classes);

    const files = [...Deno.readDirSync(cacheDir)].map((e) => e.name);
    assert.equal(files.length, 1, `one cache file, no temporary left: ${files}`);
    const cacheFile = `${cacheDir}/${files[0]}`;

    // a changed image (new content, new size/mtime) is picked up
    const changed = { ...specs[5], fg: WHITE };
    await Deno.writeFile(`${dir}/images/${changed.name}.jpg`, encodeImage(changed));
    const third = await loadOxfordPet(dir, options);
    const [cx, cy] = centre(changed, 224);
    assertColour(pixel(third, 5, cx, cy), WHITE, 10, "changed image");
    assertColour(pixel(first, 5, cx, cy), specs[5].fg, 10, "original image");

    // a changed list file (one image fewer) too
    await Deno.writeTextFile(
      `${dir}/annotations/trainval.txt`,
      listText(specs.slice(1), "trainval"),
    );
    assert.equal((await loadOxfordPet(dir, options)).n, 199);

    // a truncated cache file: one warning, rebuilt, same result
    const size = (await Deno.stat(cacheFile)).size;
    await Deno.truncate(cacheFile, Math.floor(size / 2));
    const { value: rebuilt, warnings } = await captureWarnings(() => loadOxfordPet(dir, options));
    assert.equal(rebuilt.n, 199);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /ignoring corrupt cache file .*truncated.*rebuilding/);
    assert.equal((await readDatasetCache(cacheFile, "other key")).status, "stale");
    // garbage in place of the cache file
    await Deno.writeFile(cacheFile, new TextEncoder().encode("not a cache"));
    const { value: again, warnings: w2 } = await captureWarnings(() => loadOxfordPet(dir, options));
    assert.equal(again.n, 199);
    assert.match(w2[0], /bad magic/);
    assert.deepEqual(
      again.images.subarray(0, 3 * 224 * 224),
      first.images.subarray(3 * 224 * 224, 6 * 224 * 224),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("oxford-pet: skipped images are remembered by the cache (warning again, strict throws)", async () => {
  const dir = await makePets(TRAIN, TEST);
  const cacheDir = await Deno.makeTempDir({ prefix: "hlgm-cache-" });
  try {
    await Deno.writeFile(
      `${dir}/images/great_pyrenees_2.jpg`,
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0]),
    );
    const options = { split: "train", imageSize: 16, cacheDir } as const;
    const a = await captureWarnings(() => loadOxfordPet(dir, options));
    const b = await captureWarnings(() => loadOxfordPet(dir, options));
    assert.equal(a.value.n, 5);
    assert.equal(b.value.n, 5);
    assert.deepEqual(b.warnings, a.warnings);
    assert.equal(a.warnings.length, 1);
    await assert.rejects(
      () => loadOxfordPet(dir, { ...options, strict: true }),
      (e: Error) => e.message.startsWith(`${dir}/images/great_pyrenees_2.jpg: `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});
