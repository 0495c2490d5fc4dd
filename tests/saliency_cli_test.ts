/**
 * `hlgm saliency`: the grid's size (rows x 4 panels), the object box drawn on every panel, the
 * heat-map helpers (Captum's normalisation, the top-x% mask counted as SIB counts), and the
 * argument errors. A one-epoch run on a tiny cluttered Fashion-MNIST made here.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
// @ts-types="npm:@types/pngjs@6.0.5"
import { PNG } from "npm:pngjs@7.0.0";
import { BOX_COLOR } from "../src/report/dataset_grid.ts";
import { loadDataset } from "../src/data/registry.ts";
import { colormap, normalizeAttribution } from "../src/report/colormap.ts";
import {
  defaultScale,
  renderSaliencyFigure,
  saliencyFigureSize,
  topMask,
} from "../src/report/saliency_figure.ts";
import { defaultConfig } from "../src/train/config.ts";
import { train } from "../src/train/trainer.ts";
import { device, NO_DATA, runCli, writeFakeFashionMnist } from "./helpers.ts";

const cli = (args: string[]) => runCli(args, { ...NO_DATA, HLGM_NUM_THREADS: "2" });

let fixture: Promise<{ root: string; data: string; run: string }> | undefined;

function setup(): Promise<{ root: string; data: string; run: string }> {
  fixture ??= (async () => {
    const root = Deno.makeTempDirSync({ prefix: "hlgm-saliency-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    const data = `${root}/data`;
    writeFakeFashionMnist(data, 300, 60);
    const run = `${root}/run`;
    const config = defaultConfig({
      method: "baseline",
      dataset: "cluttered-fmnist",
      dataDir: data,
      subset: 256,
      epochs: 1,
      batchSize: 64,
      device,
    });
    assert.equal((await train(config, run)).status, "completed");
    return { root, data, run };
  })();
  return fixture;
}

const isBox = (png: PNG, x: number, y: number) => {
  const o = (y * png.width + x) * 4;
  return png.data[o] === BOX_COLOR[0] && png.data[o + 1] === BOX_COLOR[1] &&
    png.data[o + 2] === BOX_COLOR[2];
};

Deno.test("saliency: a grid of rows x 4 panels with the box drawn on each panel", async () => {
  const { root, data, run } = await setup();
  const out = `${root}/grid.png`;
  const indices = [3, 0, 17];
  const r = await cli([
    "saliency",
    run,
    "--data-dir",
    data,
    "--indices",
    indices.join(","),
    "--percent",
    "5",
    "--device",
    device,
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  lines.forEach((l, i) =>
    assert.match(l, new RegExp(`^#${indices[i]} \\S.* -> \\S.* SIB\\(5\\) [01]\\.\\d\\d$`))
  );

  const png = PNG.sync.read(Buffer.from(Deno.readFileSync(out)));
  const scale = defaultScale(64, 64);
  assert.equal(scale, 2);
  assert.deepEqual({ width: png.width, height: png.height }, saliencyFigureSize(3, 1, 64, 64));
  // 4 panels of 128 px and 3 rows, with 4 px gaps and 11 px text bands
  assert.equal(png.width, 4 * 128 + 5 * 4);
  assert.equal(png.height, 4 + 11 + 3 * (128 + 11 + 4));

  // the box of each image, in panel pixels, outlined on all four panels
  const ds = await loadDataset("cluttered-fmnist", { split: "test", dataDir: data });
  indices.forEach((index, row) => {
    const [x0, y0, x1, y1] = ds.boxes!.subarray(index * 4, index * 4 + 4);
    const top = 4 + 11 + row * (128 + 11 + 4);
    for (let k = 0; k < 4; k++) {
      const left = 4 + k * (128 + 4);
      const a: number = left + Math.round(x0 * scale), b: number = top + Math.round(y0 * scale);
      const c: number = left + Math.round(x1 * scale) - 1;
      const d: number = top + Math.round(y1 * scale) - 1;
      for (const [x, y] of [[a, b], [c, b], [a, d], [c, d], [(a + c) >> 1, b], [a, (b + d) >> 1]]) {
        assert.ok(isBox(png, x, y), `row ${row} panel ${k}: no box colour at (${x}, ${y})`);
      }
      // inside the outline (2 px thick at scale 2) is not the box colour
      if (c - a > 6 && d - b > 6) {
        assert.ok(!isBox(png, (a + c) >> 1, (b + d) >> 1), `row ${row} panel ${k}: box filled`);
      }
    }
  });
});

Deno.test("saliency: --n draws random images, gradcam works on the shallow CNN", async () => {
  const { root, data, run } = await setup();
  const out = `${root}/sub/gradcam.png`;
  const r = await cli([
    "saliency",
    run,
    "--data-dir",
    data,
    "--n",
    "2",
    "--method",
    "gradcam",
    "--device",
    device,
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, 2);
  const png = PNG.sync.read(Buffer.from(Deno.readFileSync(out)));
  assert.deepEqual({ width: png.width, height: png.height }, saliencyFigureSize(2, 1, 64, 64));
});

Deno.test("saliency: usage errors exit 2, a missing dataset exits 1", async () => {
  const { root, data, run } = await setup();
  const cases: [string[], RegExp][] = [
    [["--method", "lime"], /--method/],
    [["--percent", "0"], /--percent must be in \(0, 100\]/],
    [["--percent", "101"], /--percent/],
    [["--indices", "1,a"], /--indices: "a"/],
    [["--indices", "1,1"], /repeated/],
    [["--indices", "60"], /60 is outside the test split \(0\.\.59\)/],
    [["--n", "0"], /--n must be a positive integer/],
    [["--dataset", "nope"], /unknown dataset "nope"/],
  ];
  for (const [extra, pattern] of cases) {
    const r = await cli(["saliency", run, "--data-dir", data, "--out", `${root}/e.png`, ...extra]);
    assert.equal(r.code, 2, `${extra.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  const notRun = await cli(["saliency", root]);
  assert.equal(notRun.code, 2);
  assert.match(notRun.stderr, /not a run folder/);
  const empty = Deno.makeTempDirSync({ dir: root });
  const missing = await cli(["saliency", run, "--data-dir", empty, "--out", `${root}/e.png`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cluttered-fmnist not found/);
});

Deno.test("heat map helpers: Captum's normalisation, the top-x% mask, the colour map", () => {
  // cumulative sum of |a| sorted ascending reaches 98% of 10 at the value 4: scale by 4
  const norm = normalizeAttribution([-1, 2, 3, 4]);
  assert.deepEqual(Array.from(norm), [0.25, 0.5, 0.75, 1]);
  assert.deepEqual(Array.from(normalizeAttribution([0, 0, 0])), [0, 0, 0]);
  // count max(1, round(x% of n)); ties go to the lower index, as SIB counts
  assert.deepEqual(Array.from(topMask([1, 5, 5, 2], 50)), [0, 1, 1, 0]);
  assert.deepEqual(Array.from(topMask([3, 3, 3, 3], 25)), [1, 0, 0, 0]);
  assert.deepEqual(Array.from(topMask([3, 1, 2, 0], 1)), [1, 0, 0, 0]);
  assert.deepEqual(colormap(0, "blues"), [247, 251, 255]);
  assert.deepEqual(colormap(1, "blues"), [8, 48, 107]);
  // rendering checks its inputs
  const one = (map: number[]) => [{ name: "run", maps: [map] }];
  assert.throws(
    () =>
      renderSaliencyFigure(
        [{ image: new Float32Array(3), channels: 1, label: "x" }],
        one([1, 2, 3, 4]),
        2,
        2,
      ),
    /image "x": 3 values/,
  );
  assert.throws(
    () =>
      renderSaliencyFigure(
        [{ image: new Float32Array(4), channels: 1, label: "x" }],
        one([1, 2]),
        2,
        2,
      ),
    /run, image 0: map of 2 values/,
  );
  const { image, layout } = renderSaliencyFigure(
    [{ image: new Float32Array(4).fill(1), channels: 1, boxes: [[0, 0, 1, 1]], label: "x" }],
    one([0, 0, 0, 9]),
    2,
    2,
    { scale: 3, percent: 25, titles: false },
  );
  assert.deepEqual(
    { width: image.width, height: image.height },
    saliencyFigureSize(1, 1, 2, 2, { scale: 3, titles: false }),
  );
  assert.equal(layout.cells[0].length, 4);
  // the heat map's most salient pixel (bottom right) is the darkest blue
  const { x, y } = layout.cells[0][1]!;
  const o = ((y + 4) * image.width + x + 4) * 3;
  assert.deepEqual(Array.from(image.data.subarray(o, o + 3)), [8, 48, 107]);
  // blended: half the heat colour, half the grey image (white here)
  const b = layout.cells[0][2]!;
  const ob = ((b.y + 4) * image.width + b.x + 4) * 3;
  assert.deepEqual(Array.from(image.data.subarray(ob, ob + 3)), [132, 152, 181]);
  // top 25% of 4 pixels: the bottom-right one, half yellow; the rest dimmed to a quarter
  const m = layout.cells[0][3]!;
  const om = ((m.y + 4) * image.width + m.x + 4) * 3;
  assert.deepEqual(Array.from(image.data.subarray(om, om + 3)), [255, 238, 128]);
  const od = ((m.y + 1) * image.width + m.x + 4) * 3;
  assert.deepEqual(Array.from(image.data.subarray(od, od + 3)), [64, 64, 64]);
});
