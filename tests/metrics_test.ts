import assert from "node:assert/strict";
import {
  boxMask,
  pointingGame,
  relevanceMassAccuracy,
  sib,
  sibCount,
  summarize,
  tensor,
  tidy,
  topKIntersection,
} from "../mod.ts";
import { device } from "./helpers.ts";

/** A 4x4 map whose pixel (x, y) has saliency 16 - (y * 4 + x): the top-left is the most salient. */
const ramp = () =>
  tensor([
    Array.from({ length: 4 }, (_, y) => Array.from({ length: 4 }, (_, x) => 16 - (y * 4 + x))),
  ], { device });

Deno.test("sibCount is max(1, round(x% of H*W))", () => {
  assert.equal(sibCount(0.5, 28 * 28), 4);
  assert.equal(sibCount(1, 64 * 64), 41);
  assert.equal(sibCount(0.5, 16), 1);
  assert.equal(sibCount(10, 16), 2);
  assert.throws(() => sibCount(0, 16), /percent must be in \(0, 100\]/);
});

Deno.test("SIB counts the top pixels inside the box", () => {
  tidy(() => {
    // box = top-left 2x2: pixels 0, 1, 4, 5 (saliency ranks 1, 2, 5, 6)
    const [s25, s50, s100] = sib(ramp(), [[0, 0, 2, 2]], [25, 50, 100]);
    assert.deepEqual(Array.from(s25), [0.5]); // top 4 = pixels 0,1,2,3: two inside
    assert.deepEqual(Array.from(s50), [0.5]); // top 8 = rows 0-1: four inside
    assert.deepEqual(Array.from(s100), [0.25]);
  });
});

Deno.test("SIB: boxes at the border, several boxes (union), batches, ties", () => {
  tidy(() => {
    const maps = tensor([
      [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]], // all tied: lowest indices first
      [[0, 0, 0, 9], [0, 0, 0, 8], [0, 0, 0, 0], [7, 0, 0, 0]],
    ], { device });
    const boxes = [
      [[2, 0, 6, 1]] as [number, number, number, number][], // sticks out of the image: clipped
      [[3, 0, 4, 2], [0, 3, 1, 4]] as [number, number, number, number][], // two corners
    ];
    const [top3] = sib(maps, boxes, [18.75]); // 3 of 16 pixels
    assert.deepEqual(Array.from(top3), [1 / 3, 1]);
    const t = tensor([[2, 0, 4, 1], [3, 0, 4, 2]], { device }); // (B, 4) tensor form
    assert.deepEqual(Array.from(sib(maps, t, [18.75])[0]), [1 / 3, 2 / 3]);
  });
});

Deno.test("boxMask: union of boxes by pixel centres; bad boxes are clear errors", () => {
  tidy(() => {
    const m = boxMask([[[0.6, 0, 2, 1], [3, 3, 4, 4]]], 1, 4, 4, device);
    // pixel 0's centre (0.5) is left of x0 = 0.6
    assert.deepEqual(m.toArray(), [[
      [false, true, false, false],
      [false, false, false, false],
      [false, false, false, false],
      [false, false, false, true],
    ]]);
    assert.throws(() => boxMask([[[2, 2, 2, 3]]], 1, 4, 4, device), /image 0: empty box/);
    assert.throws(
      () => boxMask([[[5, 0, 7, 2]]], 1, 4, 4, device),
      /image 0: box .* lies outside the 4x4 image/,
    );
    assert.throws(() => boxMask([[]], 1, 4, 4, device), /image 0 has no box/);
    assert.throws(() => boxMask([[[0, 0, 1, 1]]], 2, 4, 4, device), /boxes must be \(B, 4\)/);
  });
});

Deno.test("pointing game, relevance mass accuracy, top-k intersection", () => {
  tidy(() => {
    const box = [[1, 0, 3, 1]] as [number, number, number, number][]; // pixels 1, 2 (values 15, 14)
    assert.deepEqual(Array.from(pointingGame(ramp(), box)), [0]); // max is pixel 0
    assert.deepEqual(Array.from(pointingGame(ramp(), [[0, 0, 1, 1]])), [1]);
    const rma = relevanceMassAccuracy(ramp(), box)[0];
    assert.ok(Math.abs(rma - 29 / 136) < 1e-12, `${rma}`);
    assert.deepEqual(Array.from(topKIntersection(ramp(), box, 3)), [2 / 3]);
  });
});

Deno.test("summarize: median, mean, quartiles as numpy's linear percentiles", () => {
  const s = summarize([4, 1, 3, 2, 10]);
  assert.deepEqual(s, { median: 3, mean: 4, q1: 2, q3: 4, n: 5 });
  const e = summarize([1, 2, 3, 4]);
  assert.equal(e.median, 2.5);
  assert.equal(e.q1, 1.75);
  assert.equal(e.q3, 3.25);
});
