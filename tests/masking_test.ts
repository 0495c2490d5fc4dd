import assert from "node:assert/strict";
import {
  dilateMask,
  manualSeed,
  maskBottomK,
  maskBySaliency,
  maskCount,
  maskTopK,
  rand,
  tensor,
  tidy,
} from "../mod.ts";
import { device } from "./helpers.ts";

// x: 2 samples, 2 channels, 2x2; channel 1 = channel 0 + 10
const x = () =>
  tensor(
    [
      [[[1, 2], [3, 4]], [[11, 12], [13, 14]]],
      [[[5, 6], [7, 8]], [[15, 16], [17, 18]]],
    ],
    { device },
  );

Deno.test("maskTopK masks the k most salient pixels in all channels; ties go to the lower index", () => {
  tidy(() => {
    const s = tensor([[[0.5, 0.9], [0.9, 0.1]], [[4, 3], [2, 1]]], { device });
    const m = maskTopK(x(), s, { count: 1, fill: "zero" });
    assert.deepEqual(m.toArray(), [
      [[[1, 0], [3, 4]], [[11, 0], [13, 14]]],
      [[[0, 6], [7, 8]], [[0, 16], [17, 18]]],
    ]);
    const two = maskTopK(x(), s, { count: 2, fill: -1 });
    assert.deepEqual(two.select(0, 0).select(0, 0).toArray(), [[1, -1], [-1, 4]]);
  });
});

Deno.test("maskBottomK by fraction, k = 0 and k = all", () => {
  tidy(() => {
    const s = tensor([[[0.5, 0.9], [0.9, 0.1]], [[4, 3], [2, 1]]], { device });
    const half = maskBottomK(x(), s, { fraction: 0.5, fill: 0 });
    assert.deepEqual(half.select(0, 0).toArray(), [[[0, 2], [3, 0]], [[0, 12], [13, 0]]]);
    assert.deepEqual(half.select(0, 1).select(0, 1).toArray(), [[15, 16], [0, 0]]);
    const none = maskBottomK(x(), s, { count: 0, fill: 0 });
    assert.deepEqual(none.toArray(), x().toArray());
    const all = maskTopK(x(), s, { fraction: 1, fill: 7 });
    assert.ok(all.eq(7).all().item() === 1);
  });
});

Deno.test("fills: mean and random stay within each sample's (or channel's) own range", () => {
  tidy(() => {
    const s = tensor([[[1, 0], [0, 0]], [[1, 0], [0, 0]]], { device });
    const mean = maskTopK(x(), s, { count: 1, fill: "mean" });
    // sample 0: mean of 1..4 and 11..14 = 7.5
    assert.equal(mean.select(0, 0).select(0, 0).select(0, 0).select(0, 0).item(), 7.5);
    const perChannel = maskTopK(x(), s, { count: 1, fill: "mean", perChannel: true });
    assert.equal(perChannel.select(0, 0).select(0, 0).select(0, 0).select(0, 0).item(), 2.5);
    assert.equal(perChannel.select(0, 0).select(0, 1).select(0, 0).select(0, 0).item(), 12.5);
    for (let trial = 0; trial < 20; trial++) {
      const r = maskTopK(x(), s, { fraction: 1, fill: "random", perChannel: true });
      const v = r.toArray() as number[][][][];
      for (const [b, lo] of [[0, 1], [1, 5]]) {
        for (const c of [0, 1]) {
          for (const row of v[b][c]) {
            for (const p of row) {
              assert.ok(p >= lo + 10 * c && p <= lo + 3 + 10 * c, `sample ${b} channel ${c}: ${p}`);
            }
          }
        }
      }
    }
  });
});

Deno.test("feature-level masking ranks single (c, h, w) entries", () => {
  tidy(() => {
    const s = x().neg(); // the smallest values are the most salient
    const { masked, mask } = maskBySaliency(x(), s, "top", { count: 3, fill: 0 });
    assert.deepEqual(mask.select(0, 0).toArray(), [[[true, true], [true, false]], [[false, false], [
      false,
      false,
    ]]]);
    assert.equal(masked.eq(0).sum().item(), 6);
  });
});

Deno.test("mask errors: bad shapes, k out of range, unknown fill", () => {
  tidy(() => {
    const s = tensor([[[1, 0], [0, 0]], [[1, 0], [0, 0]]], { device });
    assert.throws(() => maskTopK(x(), s, { count: 5 }), /count must be an integer in 0\.\.4/);
    assert.throws(() => maskTopK(x(), s, { fraction: 1.5 }), /fraction must be in \[0, 1\]/);
    assert.throws(() => maskTopK(x(), tensor([[1, 2]], { device }), { count: 1 }), /mask/);
    assert.throws(
      () => maskTopK(x(), s, { count: 1, fill: "blue" as "zero" }),
      /unknown mask fill "blue"/,
    );
    assert.equal(maskCount({ fraction: 0.2 }, 784), 157);
  });
});

Deno.test("ties at the threshold go to the lowest positions, for top and bottom alike", () => {
  tidy(() => {
    const flat = tensor([[[5, 1, 3, 1], [3, 3, 9, 1]]], { device }); // (1, 2, 4): 8 pixels
    const x1 = tensor([[Array.from({ length: 2 }, () => [1, 1, 1, 1])]], { device }); // (1, 1, 2, 4)
    const bottom = maskBySaliency(x1, flat, "bottom", { count: 4, fill: 0 }).mask;
    // sorted ascending: 1@1, 1@3, 1@7, then the 3s at 2, 4, 5: the first 3 wins
    assert.deepEqual(bottom.select(0, 0).select(0, 0).toArray(), [[false, true, true, true], [
      false,
      false,
      false,
      true,
    ]]);
    const top = maskBySaliency(x1, flat, "top", { count: 3, fill: 0 }).mask;
    // 9@6, 5@0, then one of the 3s at 2, 4, 5: position 2
    assert.deepEqual(top.select(0, 0).select(0, 0).toArray(), [[true, false, true, false], [
      false,
      false,
      true,
      false,
    ]]);
  });
});

/** An 8x8 grid with true at the given (row, col) cells. */
function grid8(cells: [number, number][]): boolean[][] {
  const g = Array.from({ length: 8 }, () => Array<boolean>(8).fill(false));
  for (const [r, c] of cells) g[r][c] = true;
  return g;
}

/** The cells of rows r0..r1 and columns c0..c1 (inclusive). */
function square(r0: number, r1: number, c0: number, c1: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.push([r, c]);
  return out;
}

/** An 8x8 plane of f(row, col). */
const plane8 = (f: (r: number, c: number) => number) =>
  Array.from({ length: 8 }, (_, r) => Array.from({ length: 8 }, (_, c) => f(r, c)));

Deno.test("dilate grows a top-k mask into (2N+1)^2 squares, clipped at the border; N = 0 is the plain mask", () => {
  tidy(() => {
    // one sample, 2 channels (all 1, all 2), 8x8; saliency peaks at (2, 3), then (7, 0)
    const sal = tensor([plane8((r, c) => (r === 2 && c === 3 ? 9 : r === 7 && c === 0 ? 8 : 0))], {
      device,
    });
    const x8 = tensor([[plane8(() => 1), plane8(() => 2)]], { device });
    const one = maskBySaliency(x8, sal, "top", { count: 1, fill: -1, dilate: 1 });
    const expected1 = grid8(square(1, 3, 2, 4)); // the 3x3 square around (2, 3)
    for (const c of [0, 1]) {
      assert.deepEqual(one.mask.select(0, 0).select(0, c).toArray(), expected1);
    }
    // filled exactly there, in every channel; untouched elsewhere
    assert.deepEqual(
      one.masked.select(0, 0).select(0, 1).toArray(),
      expected1.map((row) => row.map((m) => (m ? -1 : 2))),
    );
    // two pixels, N = 2: the 5x5 square around (2, 3) and, at the corner (7, 0), its 3x3 part
    // inside the image
    const two = maskBySaliency(x8, sal, "top", { count: 2, fill: 0, dilate: 2 });
    assert.deepEqual(
      two.mask.select(0, 0).select(0, 0).toArray(),
      grid8([...square(0, 4, 1, 5), ...square(5, 7, 0, 2)]),
    );
    // N = 0: today's mask and, with a random fill under one seed, the same numbers
    manualSeed(11);
    const plain = maskBySaliency(x8, sal, "top", { count: 2, fill: "random" });
    manualSeed(11);
    const zero = maskBySaliency(x8, sal, "top", { count: 2, fill: "random", dilate: 0 });
    assert.deepEqual(zero.mask.toArray(), plain.mask.toArray());
    assert.deepEqual(zero.masked.toArray(), plain.masked.toArray());
    assert.deepEqual(zero.mask.select(0, 0).select(0, 0).toArray(), grid8([[2, 3], [7, 0]]));
    // dilateMask on its own; bad sizes are refused
    assert.deepEqual(dilateMask(plain.mask, 0).toArray(), plain.mask.toArray());
    assert.throws(() => dilateMask(plain.mask, -1), /dilate must be a non-negative integer/);
    assert.throws(
      () => maskBySaliency(x8, sal, "top", { count: 1, dilate: 1.5 }),
      /dilate must be a non-negative integer, got 1.5/,
    );
  });
});

Deno.test("a dilated random fill stays in the sample's range and draws as many numbers as an undilated one", () => {
  tidy(() => {
    const sal = tensor([plane8((r, c) => r * 8 + c)], { device }); // peak at (7, 7)
    const x8 = tensor([[plane8((r, c) => (r + c) / 14)]], { device }); // [0, 1]
    manualSeed(3);
    const grown = maskBySaliency(x8, sal, "top", { count: 1, fill: "random", dilate: 1 });
    const next = rand([4]).toArray();
    manualSeed(3);
    maskBySaliency(x8, sal, "top", { count: 1, fill: "random" });
    assert.deepEqual(next, rand([4]).toArray(), "the random stream continues alike");
    const m = grown.mask.select(0, 0).select(0, 0).toArray() as boolean[][];
    const v = grown.masked.select(0, 0).select(0, 0).toArray() as number[][];
    const x0 = x8.select(0, 0).select(0, 0).toArray() as number[][];
    assert.deepEqual(m, grid8(square(6, 7, 6, 7))); // (7, 7) grown inside the image
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) {
        if (m[r][c]) assert.ok(v[r][c] >= 0 && v[r][c] <= 1, `${r},${c}: ${v[r][c]}`);
        else assert.equal(v[r][c], x0[r][c]);
      }
    }
  });
});
