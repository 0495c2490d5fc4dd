import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { encodeIdx, parseIdx, readIdx } from "../src/data/idx.ts";
import { loadFashionMnist } from "../src/data/fashion_mnist.ts";
import { locateDataset } from "../src/data/registry.ts";

Deno.test("idx: round-trips raw and gzipped files", async () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7 % 256);
  const raw = encodeIdx([2, 3, 4], data);
  assert.deepEqual([...raw.subarray(0, 4)], [0, 0, 8, 3]);
  const a = parseIdx(raw, "x");
  assert.deepEqual(a.shape, [2, 3, 4]);
  assert.deepEqual([...a.data], [...data]);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/x.gz`, gzipSync(raw));
    const b = await readIdx(`${dir}/x.gz`);
    assert.deepEqual(b.shape, [2, 3, 4]);
    assert.deepEqual([...b.data], [...data]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("idx: bad files are errors that name the file and the problem", () => {
  const good = encodeIdx([5], new Uint8Array(5));
  assert.throws(
    () => parseIdx(good.subarray(0, good.length - 2), "labels.idx"),
    /labels\.idx: .*3 bytes.*needs 5.*truncated/,
  );
  const badMagic = good.slice();
  badMagic[2] = 0x0d; // float type
  assert.throws(
    () => parseIdx(badMagic, "f.idx"),
    /f\.idx: not an unsigned-byte IDX file \(magic 0x00000d01/,
  );
  assert.throws(
    () => parseIdx(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), "z.gz"),
    /z\.gz: corrupt gzip/,
  );
  assert.throws(() => parseIdx(new Uint8Array([0, 0]), "s"), /s: too short/);
});

Deno.test("fashion-mnist: the real files, when installed, have 60,000/10,000 images", async () => {
  const dir = locateDataset("fashion-mnist");
  if (!dir) {
    console.log("Fashion-MNIST not installed; skipped (apt-get install dataset-fashion-mnist)");
    return;
  }
  const train = await loadFashionMnist(dir, "train");
  const test = await loadFashionMnist(dir, "test");
  assert.equal(train.n, 60000);
  assert.equal(test.n, 10000);
  assert.equal(train.height, 28);
  assert.equal(train.width, 28);
  const counts = new Array(10).fill(0);
  for (const l of train.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(6000));
});
