import assert from "node:assert/strict";
import { type ImageDataset, randomSubset, splitTrainVal, subset } from "../src/data/dataset.ts";
import { DataLoader } from "../src/data/loader.ts";
import { manualSeed, tidy } from "../mod.ts";
import { device } from "./helpers.ts";

/** n grey 8x8 images, each black with one bright pixel at a known place and a 3x3 box round it. */
function dotDataset(n: number): ImageDataset {
  const s = 8;
  const images = new Uint8Array(n * s * s);
  const labels = new Int32Array(n);
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const x = 1 + (i % 6), y = 1 + ((i * 5) % 6);
    images[i * s * s + y * s + x] = 255;
    labels[i] = i % 3;
    boxes.set([x - 1, y - 1, x + 2, y + 2], i * 4);
  }
  return {
    name: "dots",
    split: "train",
    n,
    channels: 1,
    height: s,
    width: s,
    images,
    labels,
    classes: ["a", "b", "c"],
    boxes,
    mean: [0.5],
    std: [0.25],
    source: "generated",
  };
}

/** (x, y) of the brightest pixel of each image in a (B, 1, H, W) batch. */
function brightest(x: number[][][][]): [number, number][] {
  return x.map((img) => {
    let best: [number, number] = [-1, -1];
    let v = -Infinity;
    img[0].forEach((row, y) => row.forEach((p, xx) => p > v && (v = p, best = [xx, y])));
    return best;
  });
}

Deno.test("loader: an epoch visits every image once, in a seeded order that changes per epoch", () => {
  const ds = dotDataset(50);
  using loader = new DataLoader(ds, { batchSize: 16, seed: 3, device });
  assert.equal(loader.length, 4);
  const seen: number[] = [];
  const sizes: number[] = [];
  for (const b of loader.epoch(1)) {
    tidy(() => {
      seen.push(...b.indices);
      sizes.push(b.x.shape[0]);
      assert.deepEqual(b.y.toArray(), Array.from(b.indices, (i) => ds.labels[i]));
    });
  }
  assert.deepEqual(sizes, [16, 16, 16, 2]);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(Array.from(loader.order(1)), seen);
  assert.notDeepEqual(Array.from(loader.order(2)), seen);
  using again = new DataLoader(ds, { batchSize: 16, seed: 3, device });
  assert.deepEqual(Array.from(again.order(1)), seen);
});

Deno.test("loader: dropLast and no shuffle", () => {
  using loader = new DataLoader(dotDataset(50), {
    batchSize: 16,
    shuffle: false,
    dropLast: true,
    device,
  });
  assert.equal(loader.length, 3);
  const firsts: number[] = [];
  for (const b of loader.epoch(0)) firsts.push(b.indices[0]);
  assert.deepEqual(firsts, [0, 16, 32]);
});

Deno.test("loader: normalisation is (pixel / 255 - mean) / std on the device", () => {
  const ds = dotDataset(4);
  using loader = new DataLoader(ds, { batchSize: 4, shuffle: false, device });
  tidy(() => {
    const b = loader.batchOf([2]);
    assert.equal(b.x.device, loader.device);
    const x = b.x.toArray() as number[][][][];
    const bx = 1 + 2, by = 1 + 4;
    assert.equal(x[0][0][by][bx], (1 - 0.5) / 0.25);
    assert.equal(x[0][0][0][0], (0 - 0.5) / 0.25);
    assert.deepEqual(b.boxes!.toArray(), [[bx - 1, by - 1, bx + 2, by + 2]]);
  });
});

Deno.test("loader: random crop and flip move the boxes with the pixels", () => {
  manualSeed(7);
  const ds = dotDataset(64);
  using loader = new DataLoader(ds, {
    batchSize: 64,
    shuffle: false,
    device,
    transforms: { normalize: false, randomCropPadding: 2, horizontalFlip: true },
  });
  tidy(() => {
    const [b] = [...loader.epoch(0, true)];
    const x = b.x.toArray() as number[][][][];
    const boxes = b.boxes!.toArray() as number[][];
    const dots = brightest(x);
    let moved = 0, flipped = 0;
    dots.forEach(([px, py], i) => {
      const [x0, y0, x1, y1] = boxes[i];
      if (px < 0 || x[i][0][py][px] < 0.99) return; // the dot was cropped away: box clipped
      // the dot is the centre of its 3x3 box (clipped at the border)
      assert.ok(
        px >= x0 && px < x1 && py >= y0 && py < y1,
        `image ${i}: dot ${px},${py} outside [${boxes[i]}]`,
      );
      const ox = 1 + (i % 6), oy = 1 + ((i * 5) % 6);
      if (px !== ox || py !== oy) moved++;
      if (Math.abs(px - ox) > 2) flipped++;
    });
    assert.ok(moved > 32, `crop/flip should move most dots, moved ${moved}`);
    assert.ok(flipped > 5, `about half the images should be flipped, saw ${flipped} far moves`);
  });
});

Deno.test("loader: resize scales images and boxes", () => {
  const ds = dotDataset(2);
  using loader = new DataLoader(ds, {
    shuffle: false,
    device,
    transforms: { resize: 16, normalize: false },
  });
  tidy(() => {
    const b = loader.batchOf([0, 1]);
    assert.deepEqual(b.x.shape, [2, 1, 16, 16]);
    assert.deepEqual(b.boxes!.toArray(), [[0, 0, 6, 6], [2, 10, 8, 16]]);
  });
});

Deno.test("dataset: validation split is seeded, disjoint and complete; subsets", () => {
  const ds = dotDataset(100);
  const a = splitTrainVal(ds, 0.2, 5);
  const b = splitTrainVal(ds, 0.2, 5);
  assert.equal(a.val!.n, 20);
  assert.equal(a.train.n, 80);
  assert.deepEqual(a.val!.boxes, b.val!.boxes);
  const key = (d: ImageDataset) =>
    Array.from({ length: d.n }, (_, i) => d.boxes!.slice(i * 4, i * 4 + 4).join());
  const all = new Set([...key(a.train), ...key(a.val!)]);
  assert.equal(all.size, new Set(key(ds)).size);
  assert.equal(splitTrainVal(ds, 0, 5).val, null);
  assert.throws(() => splitTrainVal(ds, 1, 5), /\[0, 1\)/);
  const s = subset(ds, [3, 1]);
  assert.deepEqual(Array.from(s.labels), [ds.labels[3], ds.labels[1]]);
  assert.equal(randomSubset(ds, 10, 1).n, 10);
  assert.equal(randomSubset(ds, 1000, 1), ds);
});

Deno.test("loader: shards (DistributedSampler semantics): padded training shards are equal-sized, every rank's b-th batches together are the one-process b-th batch; eval shards are disjoint and complete", () => {
  const ds = dotDataset(13);
  const one = new DataLoader(ds, { batchSize: 4, seed: 7, device });
  try {
    for (const world of [2, 3, 5]) {
      const ranks = Array.from(
        { length: world },
        (_, rank) =>
          new DataLoader(ds, {
            batchSize: 2,
            seed: 7,
            device,
            shard: { rank, worldSize: world, pad: true },
          }),
      );
      const evals = Array.from(
        { length: world },
        (_, rank) =>
          new DataLoader(ds, {
            shuffle: false,
            device,
            shard: { rank, worldSize: world, pad: false },
          }),
      );
      try {
        const size = Math.ceil(13 / world);
        for (const l of ranks) assert.equal(l.size, size);
        assert.equal(new Set(ranks.map((l) => l.length)).size, 1, "every rank runs the same steps");
        for (const epoch of [1, 2]) {
          const full = one.order(epoch);
          // rank r holds positions r, r + world, ... of the order padded from its start
          const padded = Array.from({ length: size * world }, (_, p) => full[p % 13]);
          for (const [r, l] of ranks.entries()) {
            assert.deepEqual([...l.order(epoch)], padded.filter((_, p) => p % world === r));
          }
          if (world === 2) {
            // per-rank batch 2 x 2 ranks = the one-process batch of 4, as a set
            const batches = ranks.map((l) => [...l.epoch(epoch)]);
            const whole = [...one.epoch(epoch)];
            for (let b = 0; b < 3; b++) {
              const union = batches.flatMap((bs) => [...bs[b].indices]).sort((p, q) => p - q);
              assert.deepEqual(union, [...whole[b].indices].sort((p, q) => p - q), `batch ${b}`);
            }
            for (const b of [...batches.flat(), ...whole]) {
              for (const t of [b.x, b.y, b.boxes]) t?.dispose();
            }
          }
        }
        const seen = evals.flatMap((l) => [...l.order(0)]).sort((p, q) => p - q);
        assert.deepEqual(seen, Array.from({ length: 13 }, (_, i) => i));
        assert.equal(evals.reduce((s, l) => s + l.size, 0), 13);
      } finally {
        for (const l of [...ranks, ...evals]) l.dispose();
      }
    }
    assert.throws(
      () => new DataLoader(ds, { device, shard: { rank: 2, worldSize: 2, pad: true } }),
      /shard: rank must be an integer in 0\.\.1, got 2/,
    );
  } finally {
    one.dispose();
  }
});
