import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
// @ts-types="npm:@types/pngjs@6.0.5"
import { PNG } from "pngjs";
import { encodeCifar } from "../src/data/cifar.ts";
import { permutation } from "../src/data/dataset.ts";
import { BOX_COLOR, renderGrid, TEXT_COLOR } from "../src/report/dataset_grid.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { loadDataset } from "../src/data/registry.ts";
import { NO_DATA, runCli } from "./helpers.ts";

/** Runs the CLI with HLGM_DATA pointing at an empty folder (nothing touches ~/.cache). */
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { ...NO_DATA, ...env });

/** Colour pixel value of generated CIFAR image i at channel c, row y, column x. */
const px = (i: number, c: number, y: number, x: number) => (i * 29 + c * 80 + y * 5 + x * 2) & 0xff;

function cifarImages(first: number, n: number): Uint8Array {
  const out = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        out[i * 3072 + c * 1024 + p] = px(first + i, c, p >> 5, p & 31);
      }
    }
  }
  return out;
}

function writeCifar10(root: string): void {
  const dir = `${root}/cifar10/cifar-10-batches-bin`;
  Deno.mkdirSync(dir, { recursive: true });
  for (let b = 1; b <= 5; b++) {
    Deno.writeFileSync(
      `${dir}/data_batch_${b}.bin`,
      encodeCifar(cifarImages(b * 2, 2), [b, (b + 5) % 10]),
    );
  }
  Deno.writeFileSync(
    `${dir}/test_batch.bin`,
    encodeCifar(cifarImages(100, 7), [0, 1, 2, 3, 4, 5, 6]),
  );
}

/** MNIST-format files: a bright square per image at a place depending on the image. */
function writeIdx(dir: string, nTrain: number, nTest: number, gz: boolean): void {
  Deno.mkdirSync(dir, { recursive: true });
  const write = (name: string, b: Uint8Array) =>
    Deno.writeFileSync(`${dir}/${name}${gz ? ".gz" : ""}`, gz ? gzipSync(b) : b);
  for (const [prefix, n] of [["train", nTrain], ["t10k", nTest]] as const) {
    const img = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) {
      const o = (i * 3) % 12;
      for (let y = 5 + o; y < 15 + o; y++) {
        for (let x = 3 + o; x < 14 + o; x++) img[i * 784 + y * 28 + x] = 150 + (i % 100);
      }
    }
    write(`${prefix}-images-idx3-ubyte`, encodeIdx([n, 28, 28], img));
    write(
      `${prefix}-labels-idx1-ubyte`,
      encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10)),
    );
  }
}

/** A data root with cifar10, mnist (gz), fashion-mnist (raw) and a broken cifar100. */
function makeRoot(): string {
  const root = Deno.makeTempDirSync();
  writeCifar10(root);
  writeIdx(`${root}/mnist`, 12, 5, true);
  writeIdx(`${root}/fashion-mnist`, 8, 6, false);
  const c100 = `${root}/cifar100/cifar-100-binary`;
  Deno.mkdirSync(c100, { recursive: true });
  Deno.writeFileSync(`${c100}/train.bin`, new Uint8Array(3074 * 2 + 10));
  Deno.writeFileSync(`${c100}/test.bin`, new Uint8Array(3074));
  return root;
}

function decodePng(path: string): PNG {
  return PNG.sync.read(Buffer.from(Deno.readFileSync(path)));
}

function rgbAt(png: PNG, x: number, y: number): number[] {
  const o = (y * png.width + x) * 4;
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
}

Deno.test("data list: where each dataset is, counts per split, problems, or how to get it", async () => {
  const root = makeRoot();
  try {
    const r = await cli(["data", "list", "--data-dir", root]);
    assert.equal(r.code, 0, r.stderr);
    const line = (name: string) => r.stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
    assert.match(
      line("cifar10"),
      new RegExp(`${root}/cifar10/cifar-10-batches-bin: train 10, test 7$`),
    );
    assert.match(line("mnist"), /\/mnist: train 12, test 5$/);
    assert.match(line("fashion-mnist"), /\/fashion-mnist: train 8, test 6$/);
    assert.match(line("cluttered-fmnist"), /\/fashion-mnist: train 8, test 6$/);
    assert.match(
      line("cifar100"),
      /PROBLEM: .*train\.bin: length 6158 bytes is not a multiple of the 3074-byte record size/,
    );
    const empty = Deno.makeTempDirSync();
    const r2 = await cli(["data", "list", "--data-dir", empty, "--json"]);
    assert.equal(r2.code, 0, r2.stderr);
    const json = JSON.parse(r2.stdout);
    assert.deepEqual(json.roots, [empty]);
    const c10 = json.datasets.find((d: { name: string }) => d.name === "cifar10");
    assert.equal(c10.dir, null);
    assert.equal(c10.get, "deno run -A cli/main.ts data download cifar10");
    const coarse = json.datasets.find((d: { name: string }) => d.name === "cifar100-coarse");
    assert.equal(coarse.get, "deno run -A cli/main.ts data download cifar100");
    Deno.removeSync(empty);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("data verify: loads every split and prints a summary; problems exit 1", async () => {
  const root = makeRoot();
  try {
    // the splits load, but these are not the official files: each one's MD5 (and size) is
    // checked against the published one, and the first mismatch named
    const c10 = await cli(["data", "verify", "cifar10", "--data-dir", root]);
    assert.equal(c10.code, 1, c10.stderr);
    assert.match(
      c10.stdout,
      /train: 10 images 3x32x32, 10\/10 classes present \(1\.\.1 per class\)/,
    );
    assert.match(c10.stdout, /test: 7 images 3x32x32, 7\/10 classes present/);
    assert.doesNotMatch(c10.stdout, /cifar10: ok/);
    const dir = `${root}/cifar10/cifar-10-batches-bin`;
    const md5 = (f: string) =>
      createHash("md5").update(Deno.readFileSync(`${dir}/${f}`)).digest("hex");
    const lines = c10.stderr.trim().split("\n");
    assert.equal(
      lines.at(-1),
      `error: cifar10 failed verification: ${dir}/data_batch_1.bin: MD5 ` +
        `${md5("data_batch_1.bin")}, expected 5dd7e06a14cb22eb9f671a540d1b7c25 (6146 bytes, ` +
        `expected 30730000) (and 5 more above)`,
    );
    assert.equal(
      lines[4],
      `problem: ${dir}/test_batch.bin: MD5 ${md5("test_batch.bin")}, expected ` +
        `803d5f7f4d78ea53de84dbe85f74fb6d (21511 bytes, expected 30730000)`,
    );
    const boxes = await cli(["data", "verify", "cluttered-fmnist", "--data-dir", root]);
    assert.equal(boxes.code, 0, boxes.stderr);
    assert.match(boxes.stdout, /test: 6 images 1x64x64, .*, 6 with boxes/);
    const bad = await cli(["data", "verify", "cifar100", "--data-dir", root]);
    assert.equal(bad.code, 1);
    const last = bad.stderr.trim().split("\n").at(-1)!;
    assert.match(
      last,
      /^error: cifar100 failed verification: .*train\.bin: length 6158 bytes is not a multiple of the 3074-byte record size/,
    );
    const missing = await cli(["data", "verify", "mnist", "--data-dir", `${root}/nothing`]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error: mnist not found \(looked in .*\/nothing\/mnist\); get it: deno run -A cli\/main\.ts data download mnist\n$/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("data show: a PNG grid of the chosen images at the right size and pixels", async () => {
  const root = makeRoot();
  try {
    const out = `${root}/grid.png`;
    const r = await cli([
      "data",
      "show",
      "cifar10",
      "--data-dir",
      root,
      "--n",
      "5",
      "--columns",
      "3",
      "--scale",
      "2",
      "--seed",
      "3",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`wrote ${out} \\(208x162\\): 5 test images of cifar10`));
    const png = decodePng(out);
    // 3 columns of 64 px tiles with 4 px gaps; 2 rows of 64 px + an 11 px label band
    assert.deepEqual([png.width, png.height], [4 + 3 * 68, 4 + 2 * 79]);
    const order = Array.from(permutation(7, 3).subarray(0, 5));
    for (const [k, y, x] of [[0, 0, 0], [1, 10, 20], [4, 31, 31]]) {
      const tx = 4 + (k % 3) * 68, ty = 4 + Math.floor(k / 3) * 79;
      const i = 100 + order[k]; // generated index of the test image shown in tile k
      for (const [dy, dx] of [[0, 0], [1, 1]]) {
        assert.deepEqual(rgbAt(png, tx + 2 * x + dx, ty + 2 * y + dy), [
          px(i, 0, y, x),
          px(i, 1, y, x),
          px(i, 2, y, x),
        ]);
      }
      assert.match(r.stdout, new RegExp(`#${order[k]}: ${order[k]} `));
    }
    // the label band under tile 0 has text in the text colour
    let ink = 0;
    for (let y = 4 + 64; y < 4 + 79; y++) {
      for (let x = 4; x < 68; x++) if (rgbAt(png, x, y).join() === TEXT_COLOR.join()) ink++;
    }
    assert.ok(ink > 10, `expected label text, found ${ink} text pixels`);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("data show: boxes are drawn as rectangles; the PNG equals the in-process render", async () => {
  const root = makeRoot();
  try {
    const out = `${root}/boxes.png`;
    const r = await cli([
      "data",
      "show",
      "cluttered-fmnist",
      "--data-dir",
      root,
      "--n",
      "4",
      "--split",
      "train",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /boxes in red/);
    const png = decodePng(out);
    const ds = await loadDataset("cluttered-fmnist", { dataDir: root, split: "train" });
    const indices = Array.from(permutation(ds.n, 0).subarray(0, 4));
    const { image, layout } = renderGrid(ds, indices);
    assert.deepEqual([png.width, png.height], [image.width, image.height]);
    for (let p = 0; p < image.width * image.height; p++) {
      const a = [png.data[p * 4], png.data[p * 4 + 1], png.data[p * 4 + 2]];
      const b = [image.data[p * 3], image.data[p * 3 + 1], image.data[p * 3 + 2]];
      if (a.join() !== b.join()) assert.fail(`pixel ${p}: PNG ${a} vs render ${b}`);
    }
    // box edges: the top-left corner and the middle of the right edge are box-coloured
    const s = layout.scale;
    assert.equal(s, 2); // 64 px canvas -> 128 px tiles
    for (const [k, tile] of layout.tiles.entries()) {
      const [x0, y0, x1, y1] = ds.boxes!.subarray(tile.index * 4, tile.index * 4 + 4);
      assert.deepEqual(rgbAt(png, tile.x + x0 * s, tile.y + y0 * s), [...BOX_COLOR], `tile ${k}`);
      const midY: number = tile.y + Math.round(((y0 + y1) / 2) * s);
      assert.deepEqual(rgbAt(png, tile.x + x1 * s - 1, midY), [...BOX_COLOR], `tile ${k}`);
      // just inside the outline is image, not box
      assert.notDeepEqual(rgbAt(png, tile.x + x0 * s + 1, midY), [...BOX_COLOR]);
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("data: unknown datasets and bad flags are one-line usage errors (exit 2)", async () => {
  for (
    const [args, pattern] of [
      [["data", "verify", "imagenet"], /unknown dataset "imagenet"; expected one of .*cifar10/],
      [["data", "show", "nope"], /unknown dataset "nope"/],
      [["data", "download", "nope"], /unknown dataset "nope"/],
      [["data", "show", "cifar10", "--n", "0"], /--n must be a positive integer/],
      [["data", "show", "cifar10", "--split", "val"], /Allowed choices are train, test/],
      [["data", "show", "cifar10", "--seed", "-1"], /--seed must be a non-negative integer/],
    ] as const
  ) {
    const r = await cli([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

Deno.test("data download: present, no network, and checksum mismatch", async () => {
  const root = makeRoot();
  try {
    const present = await cli(["data", "download", "cifar10", "--data-dir", root]);
    assert.equal(present.code, 0, present.stderr);
    assert.match(present.stdout, /cifar10 is already present in .*cifar-10-batches-bin/);

    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const empty = `${root}/empty`;
    const off = await cli(["data", "download", "cifar100", "--data-dir", empty], {
      HLGM_DATA_MIRROR: `http://127.0.0.1:${port}/`,
    });
    assert.equal(off.code, 1);
    assert.equal(off.stderr.trim().split("\n").length, 1, off.stderr);
    assert.match(
      off.stderr,
      new RegExp(
        `^error: cannot download http://127\\.0\\.0\\.1:${port}/cifar-100-binary\\.tar\\.gz: .*` +
          `place it \\(archives extracted\\) in ${empty}/cifar100/\\n$`,
      ),
    );

    const junk = new TextEncoder().encode("not the real archive");
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(junk),
    );
    try {
      const bad = await cli([
        "data",
        "download",
        "cifar100-coarse",
        "--data-dir",
        empty,
        "--mirror",
        `http://127.0.0.1:${server.addr.port}/m`,
      ]);
      assert.equal(bad.code, 1);
      const md5 = createHash("md5").update(junk).digest("hex");
      assert.match(
        bad.stderr,
        new RegExp(
          `error: checksum mismatch for http://127\\.0\\.0\\.1:\\d+/m/cifar-100-binary\\.tar\\.gz: ` +
            `MD5 ${md5}, expected 03b5dce01913d631647c71ecec9e9cb8`,
        ),
      );
      await assert.rejects(Deno.stat(`${empty}/cifar100`), Deno.errors.NotFound);
    } finally {
      await server.shutdown();
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("data: synthetic is listed, verified and shown like the others; nothing to download", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "hlgm-synthetic-" });
  try {
    const list = await cli(["data", "list", "--data-dir", dir]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^synthetic\s+\(generated, no files\): train 2048, test 512$/m);
    const verify = await cli(["data", "verify", "synthetic"]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /test: 512 images 1x28x28, 10\/10 classes present/);
    const show = await cli(["data", "show", "synthetic", "--n", "4", "--out", `${dir}/s.png`]);
    assert.equal(show.code, 0, show.stderr);
    const png = PNG.sync.read(Buffer.from(Deno.readFileSync(`${dir}/s.png`)));
    const ds = await loadDataset("synthetic", { split: "test" });
    const { image } = renderGrid(
      ds,
      show.stdout.trim().split("\n").slice(1).map((l) => Number(l.trim().match(/^#(\d+):/)![1])),
    );
    assert.deepEqual({ width: png.width, height: png.height }, {
      width: image.width,
      height: image.height,
    });
    const dl = await cli(["data", "download", "synthetic"]);
    assert.equal(dl.code, 0);
    assert.match(dl.stdout, /synthetic is generated when it is used: nothing to download/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
