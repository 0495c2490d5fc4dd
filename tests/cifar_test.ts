import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import {
  CIFAR100_CLASSES,
  CIFAR100_COARSE_CLASSES,
  CIFAR10_CLASSES,
  CIFAR10_STATS,
  cifar10Counts,
  encodeCifar,
  loadCifar10,
  loadCifar100,
} from "../src/data/cifar.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { MNIST_CLASSES } from "../src/data/mnist.ts";
import { idxCounts } from "../src/data/fashion_mnist.ts";
import { loadDataset, locateDataset } from "../src/data/registry.ts";

/** Image i of a generated set: channel c, row y, column x has a value derived from all four. */
function pixel(i: number, c: number, y: number, x: number): number {
  return (i * 37 + c * 91 + y * 7 + x * 3) & 0xff;
}

function images(first: number, n: number): Uint8Array {
  const out = new Uint8Array(n * 3072);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          out[i * 3072 + c * 1024 + y * 32 + x] = pixel(first + i, c, y, x);
        }
      }
    }
  }
  return out;
}

/** CIFAR-10 batches under <root>/cifar10/cifar-10-batches-bin: `perBatch` images each. */
function writeCifar10(root: string, perBatch = 3, testN = 4, meta?: string[]): string {
  const dir = `${root}/cifar10/cifar-10-batches-bin`;
  Deno.mkdirSync(dir, { recursive: true });
  for (let b = 0; b < 5; b++) {
    const first = b * perBatch;
    const labels = Array.from({ length: perBatch }, (_, i) => (first + i) % 10);
    Deno.writeFileSync(
      `${dir}/data_batch_${b + 1}.bin`,
      encodeCifar(images(first, perBatch), labels),
    );
  }
  const labels = Array.from({ length: testN }, (_, i) => (9 - i % 10));
  Deno.writeFileSync(`${dir}/test_batch.bin`, encodeCifar(images(1000, testN), labels));
  if (meta) Deno.writeTextFileSync(`${dir}/batches.meta.txt`, meta.join("\n") + "\n\n");
  return dir;
}

/** CIFAR-100 train.bin/test.bin under <root>/cifar100/cifar-100-binary. */
function writeCifar100(root: string, trainN = 6, testN = 3, meta = true): string {
  const dir = `${root}/cifar100/cifar-100-binary`;
  Deno.mkdirSync(dir, { recursive: true });
  for (const [file, n, first] of [["train.bin", trainN, 0], ["test.bin", testN, 500]] as const) {
    const fine = Array.from({ length: n }, (_, i) => (first + i * 17) % 100);
    const coarse = Array.from({ length: n }, (_, i) => (first + i * 3) % 20);
    Deno.writeFileSync(`${dir}/${file}`, encodeCifar(images(first, n), fine, coarse));
  }
  if (meta) {
    Deno.writeTextFileSync(`${dir}/fine_label_names.txt`, CIFAR100_CLASSES.join("\n") + "\n");
    Deno.writeTextFileSync(
      `${dir}/coarse_label_names.txt`,
      CIFAR100_COARSE_CLASSES.join("\n") + "\n",
    );
  }
  return dir;
}

Deno.test("cifar: the official class lists have 10, 100 and 20 distinct names", () => {
  assert.equal(new Set(CIFAR10_CLASSES).size, 10);
  assert.equal(new Set(CIFAR100_CLASSES).size, 100);
  assert.equal(new Set(CIFAR100_COARSE_CLASSES).size, 20);
  assert.equal(CIFAR100_CLASSES[0], "apple");
  assert.equal(CIFAR100_CLASSES[99], "worm");
  assert.equal(CIFAR100_COARSE_CLASSES[19], "vehicles_2");
});

Deno.test("cifar10: batches load in order with their pixels (CHW), labels and meta names", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const names = CIFAR10_CLASSES.map((c) => `my-${c}`);
    const dir = writeCifar10(root, 3, 4, names);
    assert.equal(locateDataset("cifar10", root), dir);
    const train = await loadDataset("cifar10", { dataDir: root, split: "train" });
    assert.equal(train.n, 15);
    assert.deepEqual([train.channels, train.height, train.width], [3, 32, 32]);
    assert.deepEqual(Array.from(train.labels), Array.from({ length: 15 }, (_, i) => i % 10));
    for (const [i, c, y, x] of [[0, 0, 0, 0], [4, 1, 5, 7], [14, 2, 31, 31], [9, 2, 0, 17]]) {
      assert.equal(train.images[i * 3072 + c * 1024 + y * 32 + x], pixel(i, c, y, x));
    }
    assert.deepEqual(train.classes, names);
    assert.deepEqual(train.mean, CIFAR10_STATS.mean);
    assert.equal(train.name, "cifar10");
    assert.equal(train.source, dir);
    const test = await loadCifar10(dir, "test");
    assert.equal(test.n, 4);
    assert.deepEqual(Array.from(test.labels), [9, 8, 7, 6]);
    assert.equal(test.images[3 * 3072 + 2 * 1024 + 10 * 32 + 20], pixel(1003, 2, 10, 20));
    assert.deepEqual(await cifar10Counts(dir), { train: 15, test: 4 });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("cifar10: without batches.meta.txt the official names are used", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const dir = writeCifar10(root, 1, 1);
    assert.deepEqual((await loadCifar10(dir, "test")).classes, CIFAR10_CLASSES);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("cifar10: a file that is not whole records names the file, its length and the record size", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const dir = writeCifar10(root, 2, 2);
    const file = `${dir}/data_batch_2.bin`;
    Deno.writeFileSync(file, Deno.readFileSync(file).subarray(0, 3073 + 100));
    const pattern = new RegExp(
      `${
        file.replaceAll("/", "\\/")
      }: length 3173 bytes is not a multiple of the 3073-byte record size`,
    );
    await assert.rejects(loadCifar10(dir, "train"), pattern);
    await assert.rejects(cifar10Counts(dir), pattern);
    // the test split does not read that file
    assert.equal((await loadCifar10(dir, "test")).n, 2);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("cifar10: a missing batch file is named; an empty one is an error", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const dir = writeCifar10(root, 2, 2);
    Deno.removeSync(`${dir}/data_batch_3.bin`);
    // still found (so the loader can say what is missing)
    assert.equal(locateDataset("cifar10", root), dir);
    await assert.rejects(
      loadDataset("cifar10", { dataDir: root, split: "train" }),
      /cifar-10-batches-bin: missing data_batch_3\.bin \(cifar10 train split\)/,
    );
    await assert.rejects(cifar10Counts(dir), /missing data_batch_3\.bin/);
    Deno.writeFileSync(`${dir}/test_batch.bin`, new Uint8Array(0));
    await assert.rejects(loadCifar10(dir, "test"), /test_batch\.bin: empty/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("cifar10: a label outside 0..9 and a bad meta file are errors naming the file", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const dir = writeCifar10(root, 2, 3);
    const bytes = Deno.readFileSync(`${dir}/test_batch.bin`);
    bytes[2 * 3073] = 10;
    Deno.writeFileSync(`${dir}/test_batch.bin`, bytes);
    await assert.rejects(
      loadCifar10(dir, "test"),
      /test_batch\.bin: label 10 in record 2 is not in 0\.\.9/,
    );
    Deno.writeTextFileSync(`${dir}/batches.meta.txt`, "a\nb\nc\n");
    await assert.rejects(
      loadCifar10(dir, "train"),
      /batches\.meta\.txt: 3 class names, expected 10/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("cifar100: fine labels by default, coarse labels by option and as cifar100-coarse", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const dir = writeCifar100(root, 6, 3);
    const fine = await loadDataset("cifar100", { dataDir: root, split: "train" });
    assert.equal(fine.n, 6);
    assert.equal(fine.name, "cifar100");
    assert.deepEqual(Array.from(fine.labels), [0, 17, 34, 51, 68, 85]);
    assert.equal(fine.classes.length, 100);
    assert.equal(fine.images[5 * 3072 + 1024 + 33], pixel(5, 1, 1, 1));
    const coarse = await loadCifar100(dir, "test", { labels: "coarse" });
    assert.equal(coarse.name, "cifar100-coarse");
    assert.deepEqual(Array.from(coarse.labels), [0, 3, 6]);
    assert.deepEqual(coarse.classes, CIFAR100_COARSE_CLASSES);
    assert.deepEqual(coarse.images, (await loadCifar100(dir, "test")).images);
    const viaSpec = await loadDataset("cifar100-coarse", { dataDir: root, split: "train" });
    assert.deepEqual(Array.from(viaSpec.labels), [0, 3, 6, 9, 12, 15]);
    assert.equal(viaSpec.classes.length, 20);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("cifar100: record size 3074, fine and coarse label ranges are checked", async () => {
  const root = Deno.makeTempDirSync();
  try {
    const dir = writeCifar100(root, 2, 2, false);
    assert.deepEqual((await loadCifar100(dir, "test")).classes, CIFAR100_CLASSES);
    Deno.writeFileSync(`${dir}/test.bin`, new Uint8Array(3073 * 2));
    await assert.rejects(
      loadCifar100(dir, "test"),
      /test\.bin: length 6146 bytes is not a multiple of the 3074-byte record size \(2 label bytes/,
    );
    const bytes = Deno.readFileSync(`${dir}/train.bin`);
    bytes[3074 + 1] = 100;
    Deno.writeFileSync(`${dir}/train.bin`, bytes);
    await assert.rejects(
      loadCifar100(dir, "train"),
      /fine label 100 in record 1 is not in 0\.\.99/,
    );
    bytes[3074 + 1] = 5;
    bytes[0] = 20;
    Deno.writeFileSync(`${dir}/train.bin`, bytes);
    await assert.rejects(
      loadCifar100(dir, "train"),
      /coarse label 20 in record 0 is not in 0\.\.19/,
    );
    Deno.removeSync(`${dir}/train.bin`);
    await assert.rejects(loadCifar100(dir, "train"), /missing train\.bin/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

/** MNIST-format idx files (gzipped or raw) with n images per split of value (i + y + x). */
function writeIdxDataset(dir: string, nTrain: number, nTest: number, gz: boolean): void {
  Deno.mkdirSync(dir, { recursive: true });
  const write = (name: string, bytes: Uint8Array) =>
    Deno.writeFileSync(`${dir}/${name}${gz ? ".gz" : ""}`, gz ? gzipSync(bytes) : bytes);
  for (const [prefix, n] of [["train", nTrain], ["t10k", nTest]] as const) {
    const px = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) {
      // a bright square whose place depends on the image, on a dark background
      const o = (i * 3) % 14;
      for (let y = 4 + o; y < 14 + o; y++) {
        for (let x = 4 + o; x < 14 + o; x++) px[i * 784 + y * 28 + x] = 200 + (i % 50);
      }
    }
    write(`${prefix}-images-idx3-ubyte`, encodeIdx([n, 28, 28], px));
    write(
      `${prefix}-labels-idx1-ubyte`,
      encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10)),
    );
  }
}

Deno.test("mnist: idx files under <root>/mnist load with digit names; counts from headers", async () => {
  const root = Deno.makeTempDirSync();
  try {
    writeIdxDataset(`${root}/mnist`, 12, 5, true);
    const ds = await loadDataset("mnist", { dataDir: root, split: "test" });
    assert.equal(ds.name, "mnist");
    assert.equal(ds.n, 5);
    assert.deepEqual(ds.classes, MNIST_CLASSES);
    assert.deepEqual(ds.mean, [0.1307]);
    assert.deepEqual(Array.from(ds.labels), [0, 1, 2, 3, 4]);
    assert.deepEqual(await idxCounts(`${root}/mnist`), { train: 12, test: 5 });
    // Fashion-MNIST in the same root is a different folder
    assert.equal(locateDataset("fashion-mnist", root), undefined);
    writeIdxDataset(`${root}/fashion-mnist`, 3, 2, false);
    assert.deepEqual(await idxCounts(`${root}/fashion-mnist`), { train: 3, test: 2 });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
