import assert from "node:assert/strict";
import { makeCluttered } from "../src/data/cluttered.ts";
import { syntheticImages } from "../src/data/synthetic.ts";
import { permutation, randomSubset, subset } from "../src/data/dataset.ts";
import { loadDataset } from "../src/data/registry.ts";
import { writeFakeFashionMnist } from "./helpers.ts";

Deno.test("cluttered: the item is copied exactly inside its box and clutter stays outside", () => {
  const source = { ...syntheticImages(40, 3), split: "train" };
  const c = makeCluttered(source, { canvas: 48, fragments: 5, seed: 1 });
  assert.equal(c.n, 40);
  assert.equal(c.height, 48);
  const s = source.height;
  for (let i = 0; i < c.n; i++) {
    const [x0, y0, x1, y1] = c.boxes!.slice(i * 4, i * 4 + 4);
    assert.ok(x0 >= 0 && y0 >= 0 && x1 <= 48 && y1 <= 48 && x1 > x0 && y1 > y0);
    // the item's non-zero pixels, found in the source, give the box's size
    let sx0 = s, sy0 = s, sx1 = 0, sy1 = 0;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        if (source.images[i * s * s + y * s + x] > 0) {
          sx0 = Math.min(sx0, x),
            sy0 = Math.min(sy0, y),
            sx1 = Math.max(sx1, x + 1),
            sy1 = Math.max(sy1, y + 1);
        }
      }
    }
    assert.equal(x1 - x0, sx1 - sx0);
    assert.equal(y1 - y0, sy1 - sy0);
    for (let y = 0; y < y1 - y0; y++) {
      for (let x = 0; x < x1 - x0; x++) {
        assert.equal(
          c.images[i * 48 * 48 + (y0 + y) * 48 + (x0 + x)],
          source.images[i * s * s + (sy0 + y) * s + (sx0 + x)],
        );
      }
    }
    assert.equal(c.labels[i], source.labels[i]);
  }
  // there is clutter: bright pixels outside the boxes
  let outside = 0;
  for (let i = 0; i < c.n; i++) {
    const [x0, y0, x1, y1] = c.boxes!.slice(i * 4, i * 4 + 4);
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 48; x++) {
        if ((x < x0 || x >= x1 || y < y0 || y >= y1) && c.images[i * 48 * 48 + y * 48 + x] > 100) {
          outside++;
        }
      }
    }
  }
  assert.ok(
    outside > c.n * 10,
    `expected clutter outside the boxes, found ${outside} bright pixels`,
  );
});

Deno.test("cluttered: seeded, and train/test splits differ", () => {
  const source = syntheticImages(10, 3);
  const a = makeCluttered({ ...source, split: "train" }, { seed: 2 });
  const b = makeCluttered({ ...source, split: "train" }, { seed: 2 });
  const t = makeCluttered({ ...source, split: "test" }, { seed: 2 });
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.boxes, b.boxes);
  assert.notDeepEqual(a.boxes, t.boxes);
  assert.throws(() => makeCluttered(source, { canvas: 20 }), /canvas must be an integer >= 28/);
});

Deno.test("cluttered: keeping a subset gives exactly those images of the whole split, its statistics, and no others", () => {
  const source = { ...syntheticImages(60, 4), split: "train" };
  const whole = makeCluttered(source, { canvas: 40, seed: 2 });
  const keep = permutation(60, 9).subarray(0, 17);
  const part = makeCluttered(source, { canvas: 40, seed: 2, keep });
  const expected = subset(whole, keep);
  assert.equal(part.n, 17);
  assert.equal(part.images.length, 17 * 40 * 40); // memory for the kept images only
  assert.deepEqual(part.images, expected.images);
  assert.deepEqual(part.labels, expected.labels);
  assert.deepEqual(part.boxes, expected.boxes);
  assert.deepEqual([part.mean, part.std], [whole.mean, whole.std]);
  assert.throws(() => makeCluttered(source, { keep: [60] }), /kept index 60 outside 0..59/);
});

Deno.test("loadDataset: --subset of generated cluttered-fmnist equals randomSubset of the whole split", async () => {
  const root = await Deno.makeTempDir();
  try {
    writeFakeFashionMnist(root, 90, 20);
    const whole = await loadDataset("cluttered-fmnist", { dataDir: root, split: "train" });
    const part = await loadDataset("cluttered-fmnist", {
      dataDir: root,
      split: "train",
      subset: { count: 25, seed: 3 },
    });
    const expected = randomSubset(whole, 25, 3);
    assert.deepEqual([part.n, part.images, part.labels], [25, expected.images, expected.labels]);
    // other datasets: the same rule, applied after loading
    const fm = await loadDataset("fashion-mnist", {
      dataDir: root,
      split: "train",
      subset: { count: 25, seed: 3 },
    });
    const fmWhole = await loadDataset("fashion-mnist", { dataDir: root, split: "train" });
    assert.deepEqual(fm.images, randomSubset(fmWhole, 25, 3).images);
    await assert.rejects(
      () =>
        loadDataset("cluttered-fmnist", {
          dataDir: root,
          split: "train",
          subset: { count: 91, seed: 0 },
        }),
      /subset 91 is more than the 90 images of cluttered-fmnist's training split/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
