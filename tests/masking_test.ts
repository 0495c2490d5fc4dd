import assert from "node:assert/strict";
import { maskBottomK, maskBySaliency, maskCount, maskTopK, tensor, tidy } from "../mod.ts";
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
