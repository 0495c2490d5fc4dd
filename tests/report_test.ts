/**
 * Plots and reports: the SVG charts (valid XML, the expected elements, phase bands at the right
 * epochs), SVG to PNG (size and pixel colours, text drawn), image grids, evaluateSib against
 * SIB computed directly, and the HTML report of a tiny HLGM run trained here (every file it
 * references exists and decodes).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
// @ts-types="npm:@types/pngjs@6.0.5"
import { PNG } from "pngjs";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { ImageDataset } from "../src/data/dataset.ts";
import { DataLoader } from "../src/data/loader.ts";
import { evaluateSib, loadTestSplit } from "../src/runs/sib.ts";
import { sib } from "../src/metrics/sib.ts";
import {
  accuracyCurveSvg,
  boxPlotSvg,
  type CurveMetrics,
  lossCurveSvg,
  pairedScatterSvg,
  phaseBands,
  testAccuracyComparisonSvg,
} from "../src/report/charts.ts";
import { colormap } from "../src/report/colormap.ts";
import { renderPanelGrid } from "../src/report/panel_grid.ts";
import { encodePng, type RgbImage } from "../src/report/png.ts";
import { TEXT_COLOR } from "../src/report/raster.ts";
import { saliencyFigureSize } from "../src/report/saliency_figure.ts";
import { drawSaliencyFigure, saliencyOfRun } from "../src/runs/saliency.ts";
import { svgToPng } from "../src/report/render.ts";
import { writeReport } from "../src/runs/report.ts";
import { niceTicks } from "../src/report/svg.ts";
import { pixelSaliency } from "../src/saliency/pixel_map.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { tidy } from "../src/tensor/engine.ts";
import { defaultConfig } from "../src/train/config.ts";
import { loadRun } from "../src/train/load_run.ts";
import { train } from "../src/train/trainer.ts";
import { device } from "./helpers.ts";

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  preserveOrder: true,
});

/** Parses an SVG (asserting it is well-formed XML) and returns every element in document order. */
function elements(svg: string): { tag: string; attrs: Record<string, string> }[] {
  const valid = XMLValidator.validate(svg);
  assert.equal(valid, true, `invalid XML: ${JSON.stringify(valid)}`);
  const out: { tag: string; attrs: Record<string, string> }[] = [];
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      const tag = Object.keys(node).find((k) => k !== ":@");
      if (!tag || tag === "#text") continue;
      out.push({ tag, attrs: (node[":@"] ?? {}) as Record<string, string> });
      walk(node[tag] as Node[]);
    }
  };
  walk(parser.parse(svg) as Node[]);
  return out;
}

const byClass = (els: ReturnType<typeof elements>, cls: string) =>
  els.filter((e) => (e.attrs.class ?? "").split(" ").includes(cls));

function metric(epoch: number, mode: CurveMetrics["mode"], acc: number): CurveMetrics {
  return {
    epoch,
    mode,
    train_acc: acc + 0.05,
    test_acc: acc,
    val_acc: null,
    train_loss: 2 - acc,
    train_ce: 1.9 - acc,
    train_kl: mode === "plain" ? 0 : 0.1,
    val_loss: null,
    test_loss: 2.1 - acc,
  };
}

const HLGM_MODES: CurveMetrics["mode"][] = [
  "plain",
  "plain",
  "regularize",
  "regularize",
  "denoise",
  "regularize",
  "denoise",
  "denoise",
];
const hlgmMetrics = HLGM_MODES.map((m, i) => metric(i + 1, m, 0.5 + 0.04 * i));

function decodePng(bytes: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(bytes));
}

function pixel(png: PNG, x: number, y: number): number[] {
  const i = (y * png.width + x) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2], png.data[i + 3]];
}

Deno.test("charts: nice ticks cover the range on round steps", () => {
  assert.deepEqual(niceTicks(0.12, 0.87, 5).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(1, 8, 10, { integer: true }).ticks, [1, 2, 3, 4, 5, 6, 7, 8]);
  const t = niceTicks(3, 3);
  assert.ok(t.lo < 3 && t.hi > 3);
});

Deno.test("charts: accuracy curve has a band per phase stretch, at the right epochs", () => {
  assert.deepEqual(phaseBands(hlgmMetrics), [
    { mode: "plain", from: 1, to: 2 },
    { mode: "regularize", from: 3, to: 4 },
    { mode: "denoise", from: 5, to: 5 },
    { mode: "regularize", from: 6, to: 6 },
    { mode: "denoise", from: 7, to: 8 },
  ]);
  const svg = accuracyCurveSvg(hlgmMetrics, { title: "hlgm <test> & co" });
  const els = elements(svg);
  const bands = byClass(els, "phase");
  assert.deepEqual(
    bands.map((
      b,
    ) => [b.attrs["data-mode"], Number(b.attrs["data-from"]), Number(b.attrs["data-to"])]),
    [["plain", 1, 2], ["regularize", 3, 4], ["denoise", 5, 5], ["regularize", 6, 6], [
      "denoise",
      7,
      8,
    ]],
  );
  // bands tile the plot: each starts where the previous ended, widths proportional to epochs
  const xs = bands.map((b) => [Number(b.attrs.x), Number(b.attrs.width)]);
  const perEpoch = xs[0][1] / 2;
  for (let i = 1; i < xs.length; i++) {
    assert.ok(Math.abs(xs[i][0] - (xs[i - 1][0] + xs[i - 1][1])) < 0.02);
  }
  assert.ok(Math.abs(xs[1][1] - 2 * perEpoch) < 0.02 && Math.abs(xs[2][1] - perEpoch) < 0.02);
  // colours: plain grey, regularize purple, denoise yellow
  assert.equal(bands[0].attrs.fill, "#e3e3e3");
  assert.equal(bands[1].attrs.fill, "#dccbf2");
  assert.equal(bands[2].attrs.fill, "#fff1a6");
  const series = byClass(els, "series").map((e) => e.attrs["data-series"]);
  assert.deepEqual(series, ["train_acc", "test_acc"]);
  // one point per epoch on each line
  const test = byClass(els, "series").find((e) => e.attrs["data-series"] === "test_acc")!;
  assert.equal(test.attrs.d.split(/[ML]/).filter((s) => s.trim()).length, 8);
  // legend: 2 lines + 3 modes; axis titles; the escaped title survives
  assert.equal(byClass(els, "legend-item").length, 5);
  assert.ok(svg.includes(">accuracy (%)<") && svg.includes(">epoch<"));
  assert.ok(svg.includes("hlgm &lt;test&gt; &amp; co"));
  // the maximum is annotated
  assert.ok(svg.includes("max 78.00% (epoch 8)"));
  // deterministic
  assert.equal(accuracyCurveSvg(hlgmMetrics, { title: "hlgm <test> & co" }), svg);
  // with accuracy on the masked inputs logged, a dashed line with a gap over the plain epochs
  const withMasked = hlgmMetrics.map((m) => ({
    ...m,
    train_masked_acc: m.mode === "plain" ? null : m.train_acc - 0.2,
  }));
  const els2 = elements(accuracyCurveSvg(withMasked));
  const masked = byClass(els2, "series").find((e) => e.attrs["data-series"] === "train_masked_acc");
  assert.ok(masked, "a masked-accuracy line");
  assert.ok(masked.attrs["stroke-dasharray"], "dashed");
  const pts = masked.attrs.d.split(/[ML]/).filter((p) => p.trim()).length;
  assert.equal(pts, HLGM_MODES.filter((m) => m !== "plain").length, "one point per masked epoch");
});

Deno.test("charts: baseline curves are not shaded; overlays add dashed test lines", () => {
  const base = hlgmMetrics.map((m) => ({ ...m, mode: "plain" as const }));
  const els = elements(accuracyCurveSvg(base));
  assert.equal(byClass(els, "phase").length, 0);
  const sgt = hlgmMetrics.map((m) => ({ ...m, mode: "sgt" as const }));
  const withOther = elements(
    accuracyCurveSvg(sgt, { others: [{ label: "baseline test accuracy", metrics: base }] }),
  );
  const bands = byClass(withOther, "phase");
  assert.equal(bands.length, 1);
  assert.equal(bands[0].attrs["data-mode"], "sgt");
  const lines = byClass(withOther, "series");
  assert.equal(lines.length, 3);
  assert.equal(lines[2].attrs["stroke-dasharray"], "6 3");
  assert.equal(lines[2].attrs.stroke, "#222222"); // baseline black, as in Fig. 2
  const cmp = elements(
    testAccuracyComparisonSvg([{ label: "baseline", metrics: base }, {
      label: "hlgm",
      metrics: sgt,
    }]),
  );
  assert.equal(byClass(cmp, "series").length, 2);
  assert.equal(byClass(cmp, "phase").length, 0);
});

Deno.test("charts: loss curve shows train loss, its CE part with masking, and test loss", () => {
  const els = elements(lossCurveSvg(hlgmMetrics, { title: "loss" }));
  assert.deepEqual(byClass(els, "series").map((e) => e.attrs["data-series"]), [
    "train_loss",
    "train_ce",
    "test_loss",
  ]);
  assert.equal(byClass(els, "phase").length, 5);
  const plain = hlgmMetrics.map((m) => ({ ...m, mode: "plain" as const, train_kl: 0 }));
  assert.equal(byClass(elements(lossCurveSvg(plain)), "series").length, 2);
});

Deno.test("charts: box plot draws one box per group at its quartiles", () => {
  const a = Array.from({ length: 101 }, (_, i) => i / 100); // quartiles 0.25, 0.5, 0.75
  const b = [0.4, 0.5, 0.5, 0.5, 0.6, 1.0]; // 1.0 is an outlier
  const svg = boxPlotSvg([{ label: "baseline", values: a }, { label: "hlgm", values: b }, {
    label: "empty",
    values: [],
  }], { title: "SIB(5)", yLabel: "SIB(5)", height: 420 });
  const els = elements(svg);
  assert.equal(byClass(els, "box").length, 2);
  assert.equal(byClass(els, "median").length, 2);
  assert.equal(byClass(els, "mean").length, 2);
  assert.equal(byClass(els, "whisker").length, 4);
  assert.equal(byClass(els, "outlier").length, 1);
  assert.equal(byClass(els, "box-label").length, 3);
  // y axis 0..1 from top 40 to bottom 420 - 80: q3 = 0.75 -> 115, q1 = 0.25 -> 265, median 190
  const box = byClass(els, "box")[0];
  assert.ok(Math.abs(Number(box.attrs.y) - 115) < 0.02, box.attrs.y);
  assert.ok(Math.abs(Number(box.attrs.height) - 150) < 0.02, box.attrs.height);
  assert.ok(Math.abs(Number(byClass(els, "median")[0].attrs.y1) - 190) < 0.02);
  assert.ok(svg.includes("n = 101") && svg.includes("n = 0"));
});

Deno.test("charts: paired scatter sorts images by the first series", () => {
  const first = [0.9, 0.1, 0.5, 0.3];
  const second = [0.2, 0.8, 0.4, 0.6];
  const els = elements(
    pairedScatterSvg([{ label: "baseline", values: first }, { label: "hlgm", values: second }], {
      title: "SIB(1)",
      yLabel: "SIB(1)",
    }),
  );
  const groups = byClass(els, "scatter-series");
  assert.equal(groups.length, 2);
  const points = byClass(els, "point");
  assert.equal(points.length, 8);
  const s0 = points.slice(0, 4).map((p) => [Number(p.attrs.cx), Number(p.attrs.cy)]);
  const s1 = points.slice(4).map((p) => [Number(p.attrs.cx), Number(p.attrs.cy)]);
  // x increases; the first series' values increase (y decreases on screen)
  for (let i = 1; i < 4; i++) {
    assert.ok(s0[i][0] > s0[i - 1][0] && s0[i][1] < s0[i - 1][1]);
  }
  // the second series follows the same image order: images 1, 3, 2, 0 -> 0.8, 0.6, 0.4, 0.2
  for (let i = 1; i < 4; i++) assert.ok(s1[i][1] > s1[i - 1][1]);
  assert.equal(s1[0][0], s0[0][0]);
  assert.throws(
    () => pairedScatterSvg([{ label: "a", values: [1] }, { label: "b", values: [1, 2] }]),
    /same images/,
  );
  const many = Array.from({ length: 300 }, (_, i) => (i * 37 % 100) / 100);
  assert.equal(
    byClass(elements(pairedScatterSvg([{ label: "a", values: many }])), "point").length,
    120,
  );
});

Deno.test("images: colour maps and the panel grid", () => {
  assert.deepEqual(colormap(0, "hot"), [0, 0, 0]);
  assert.deepEqual(colormap(1, "hot"), [255, 255, 255]);
  assert.deepEqual(colormap(0.5, "hot"), [255, 85, 0]);
  assert.deepEqual(colormap(0, "viridis"), [68, 1, 84]);
  assert.deepEqual(colormap(1, "viridis"), [253, 231, 37]);
  assert.deepEqual(colormap(NaN, "blues"), [247, 251, 255]);
  const solid = (w: number, h: number, rgb: number[]): RgbImage => ({
    width: w,
    height: h,
    data: Uint8Array.from({ length: w * h * 3 }, (_, i) => rgb[i % 3]),
  });
  const { image, layout } = renderPanelGrid(
    [
      [{ image: solid(20, 10, [255, 0, 0]), caption: "a long caption over two panels" }, {
        image: solid(20, 10, [0, 0, 255]),
      }],
      [{ image: solid(20, 10, [0, 255, 0]), caption: "b" }, {
        image: solid(20, 10, [0, 255, 0]),
        caption: "c",
      }],
    ],
    20,
    10,
    { scale: 2, titles: ["#0", ["two", "lines"]] },
  );
  // two title lines of 9 px and 2 px below them; 40 x 20 tiles, 11 px caption bands, 4 px gaps
  assert.equal(layout.header, 20);
  assert.deepEqual(layout.cells[1][1], { x: 4 + 44, y: 4 + 20 + 20 + 11 + 4 });
  assert.equal(image.width, 4 + 2 * 44);
  assert.equal(image.height, 4 + 20 + 2 * (20 + 11 + 4));
  const png = decodePng(encodePng(image));
  const at = (x: number, y: number) => pixel(png, x, y).slice(0, 3);
  assert.deepEqual(at(layout.cells[0][1]!.x + 10, layout.cells[0][1]!.y + 5), [0, 0, 255]);
  assert.deepEqual(at(layout.cells[1][0]!.x + 39, layout.cells[1][0]!.y + 19), [0, 255, 0]);
  // the first caption runs on under the caption-less second panel; "b" stays in its own
  const captionRow = (y: number, x0: number, x1: number) =>
    Array.from({ length: x1 - x0 }, (_, k) => at(x0 + k, y)).some((c) =>
      c.every((v, i) => v === TEXT_COLOR[i])
    );
  const textY = (r: number) => layout.cells[r][0]!.y + 20 + 2;
  const inkIn = (r: number, x0: number, x1: number) =>
    Array.from({ length: 7 }, (_, dy) => captionRow(textY(r) + dy, x0, x1)).some((v) => v);
  assert.ok(inkIn(0, 48, 88), "the long caption continues under panel 2");
  assert.ok(!inkIn(1, 4 + 8, 44), "a one-letter caption stays short");
});

Deno.test("svgToPng: size, colours and text", async () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">` +
    `<rect width="120" height="40" fill="#ffffff"/><rect x="0" y="0" width="20" height="20" fill="#ff0000"/>` +
    `<text x="30" y="28" font-size="20" font-family="DejaVu Sans" fill="#000000">Ag</text></svg>`;
  const png = decodePng(await svgToPng(svg));
  assert.equal(png.width, 120);
  assert.equal(png.height, 40);
  assert.deepEqual(pixel(png, 5, 5), [255, 0, 0, 255]);
  assert.deepEqual(pixel(png, 100, 35), [255, 255, 255, 255]);
  let dark = 0;
  for (let y = 5; y < 35; y++) for (let x = 28; x < 60; x++) if (pixel(png, x, y)[0] < 100) dark++;
  assert.ok(dark > 20, `the text was not drawn (${dark} dark pixels)`);
  const big = decodePng(await svgToPng(svg, { width: 240 }));
  assert.equal(big.width, 240);
  assert.equal(big.height, 80);
  // a chart renders at its declared size
  const chart = decodePng(
    await svgToPng(accuracyCurveSvg(hlgmMetrics, { width: 500, height: 300 })),
  );
  assert.equal(chart.width, 500);
  assert.equal(chart.height, 300);
});

// ---- a tiny HLGM run, its SIB and its report

let fixture: Promise<{ root: string; run: string }> | undefined;

/** One hlgm run on synthetic data (2 epochs: plain, then regularize), made once. */
function tinyRun(): Promise<{ root: string; run: string }> {
  fixture ??= (async () => {
    const root = Deno.makeTempDirSync({ prefix: "hlgm-report-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    const run = `${root}/hlgm-run`;
    const r = await train(
      defaultConfig({
        method: "hlgm",
        dataset: "synthetic",
        subset: 256,
        epochs: 2,
        batchSize: 64,
        switchEpoch: 1,
        episodeSize: 2,
        device,
      }),
      run,
    );
    assert.equal(r.status, "completed");
    return { root, run };
  })();
  return fixture;
}

/** The synthetic test split with a box on its left half (boxes are what SIB needs). */
async function withBoxes(run: string): Promise<ImageDataset> {
  const ds = await loadTestSplit(loadRunInfo(run));
  const boxes = new Float32Array(ds.n * 4);
  for (let i = 0; i < ds.n; i++) boxes.set([0, 0, 14, 28], i * 4);
  boxes.set([NaN, NaN, NaN, NaN], 4); // image 1 has no box
  return { ...ds, boxes };
}

function loadRunInfo(run: string) {
  return JSON.parse(Deno.readTextFileSync(`${run}/config.json`)).config;
}

Deno.test("evaluateSib: values of SIB on the saliency of the true label", async () => {
  const { run } = await tinyRun();
  const ds = await withBoxes(run);
  const ev = await evaluateSib(run, ds, { n: 40, percents: [1, 5], batchSize: 20, device });
  assert.equal(ev.n, 40);
  assert.equal(ev.method, "saliency");
  // by default the best masked epoch: this run's only one, after its switch at epoch 1
  assert.equal(ev.checkpoint, "best-after-switch");
  assert.equal(ev.epoch, 2);
  assert.equal(ev.saliency_sign, "abs");
  assert.deepEqual(Object.keys(ev.per_image), ["1", "5"]);
  assert.ok(!ev.indices.includes(1), "image 1 has no box");
  assert.deepEqual(ev.indices, [...ev.indices].sort((a, b) => a - b));
  for (const v of [...ev.per_image["1"], ...ev.per_image["5"]]) assert.ok(v >= 0 && v <= 1);
  // the same numbers computed directly
  const loaded = loadRun(run, { which: "best-after-switch", device });
  try {
    using loader = new DataLoader(ds, { batchSize: 20, shuffle: false, device });
    const direct = [0, 20].map((start) =>
      tidy(() => {
        const b = loader.batchOf(ev.indices.slice(start, start + 20));
        const maps = pixelSaliency(new Saliency(loaded.model).attribute(b.x, { target: b.y }));
        return sib(maps, b.boxes!, [1, 5]);
      })
    );
    assert.deepEqual(ev.per_image["1"], direct.flatMap((d) => Array.from(d[0])));
    assert.deepEqual(ev.per_image["5"], direct.flatMap((d) => Array.from(d[1])));
    // a loaded run is used as is, and its rule and epoch are recorded
    const again = await evaluateSib(loaded, ds, { n: 40, percents: [1, 5], batchSize: 20 });
    assert.deepEqual(again.per_image, ev.per_image);
    assert.equal(again.checkpoint, "best-after-switch");
    assert.equal(again.epoch, loaded.epoch);
  } finally {
    loaded.model.dispose();
  }
  await assert.rejects(() => evaluateSib(run, undefined, { n: 5, device }), /no object boxes/);
});

/** Every href/src of a page, and that each names a file in `dir`. */
function references(html: string, dir: string): string[] {
  const refs = [...html.matchAll(/(?:href|src)="([^"#]+)"/g)].map((m) => m[1]);
  for (const r of refs) assert.ok(Deno.statSync(`${dir}/${r}`).isFile, `${r} is referenced`);
  return refs;
}

Deno.test("report: one run: index.html, curves, loss, saliency grid and SIB plots", async () => {
  const { root, run } = await tinyRun();
  const ds = await withBoxes(run);
  const ev = await evaluateSib(run, ds, { n: 30, batchSize: 30, device });
  Deno.writeTextFileSync(`${run}/sib.json`, JSON.stringify(ev));
  try {
    const res = await writeReport([run], { n: 4, device });
    assert.equal(res.out, `${run}/report`);
    const html = Deno.readTextFileSync(res.index);
    const refs = references(html, res.out);
    for (const base of ["hlgm-run-accuracy", "hlgm-run-loss", "hlgm-run-sib-box"]) {
      assert.ok(refs.includes(`${base}.png`), `${base}.png referenced`);
      assert.ok(refs.includes(`${base}.svg`), `${base}.svg referenced`);
      const png = decodePng(Deno.readFileSync(`${res.out}/${base}.png`));
      assert.ok(png.width > 100 && png.height > 100);
      elements(Deno.readTextFileSync(`${res.out}/${base}.svg`));
    }
    // the summary: method, model, dataset, epochs, max and final test accuracy, best epoch
    const m = JSON.parse(
      `[${Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").join(",")}]`,
    );
    const max = Math.max(...m.map((x: { test_acc: number }) => x.test_acc));
    assert.ok(html.includes(`<td>${(100 * max).toFixed(2)}</td>`));
    assert.ok(html.includes(`<td>${(100 * m[1].test_acc).toFixed(2)}</td>`));
    assert.ok(html.includes("<td>hlgm</td>") && html.includes("<td>shallow-cnn</td>"));
    assert.ok(html.includes("<td>synthetic</td>"));
    // the inline accuracy chart has the two phases of the run
    const acc = elements(Deno.readTextFileSync(`${res.out}/hlgm-run-accuracy.svg`));
    assert.deepEqual(byClass(acc, "phase").map((b) => b.attrs["data-mode"]), [
      "plain",
      "regularize",
    ]);
    assert.ok(html.includes('data-mode="regularize"'), "charts are inline");
    // the saliency figure: the first 4 test images, a row each of image, heat map, blended,
    // top 10%; the same pixels as drawn in-process from the same maps
    assert.ok(refs.includes("hlgm-run-saliency.png"));
    const fig = decodePng(Deno.readFileSync(`${res.out}/hlgm-run-saliency.png`));
    const split = await loadTestSplit(loadRunInfo(run));
    assert.deepEqual(
      { width: fig.width, height: fig.height },
      saliencyFigureSize(4, 1, split.width, split.height),
    );
    const loaded = loadRun(run, { which: "best", device });
    let expected;
    try {
      const maps = saliencyOfRun(loaded, split, [0, 1, 2, 3]);
      expected = drawSaliencyFigure([maps], ["hlgm-run"], split.classes);
      // the shown image is the stored one (normalisation undone)
      for (const [i, img] of maps.shown.images.entries()) {
        const bytes = split.images.subarray(i * img.length, (i + 1) * img.length);
        img.forEach((v, k) => assert.ok(Math.abs(255 * v - bytes[k]) < 0.01, `image ${i}`));
      }
    } finally {
      loaded.model.dispose();
    }
    assert.deepEqual(
      Array.from(decodePng(expected.png).data),
      Array.from(fig.data),
      "report figure = in-process figure",
    );
    assert.deepEqual(res.notes, []);

    // two runs (the same folder copied): comparison figures, SIB box plots and scatter
    const copy = `${root}/copy/hlgm-run`;
    Deno.mkdirSync(`${root}/copy`, { recursive: true });
    await new Deno.Command("cp", { args: ["-r", run, copy] }).output();
    Deno.removeSync(`${copy}/report`, { recursive: true });
    const out = `${root}/both`;
    const two = await writeReport([run, copy], { out, n: 2, device });
    const page = Deno.readTextFileSync(two.index);
    const refs2 = references(page, out);
    for (
      const f of [
        "compare-test-accuracy.png",
        "compare-saliency.png",
        "copy_hlgm-run-saliency.png",
        "compare-sib-1-box.png",
        "compare-sib-5-scatter.png",
        "copy_hlgm-run-accuracy.png",
      ]
    ) {
      assert.ok(refs2.includes(f), `${f} referenced: ${refs2}`);
    }
    const side = decodePng(Deno.readFileSync(`${out}/compare-saliency.png`));
    const split2 = await loadTestSplit(loadRunInfo(run));
    assert.deepEqual(
      { width: side.width, height: side.height },
      saliencyFigureSize(2, 2, split2.width, split2.height, {
        panels: ["heat_map", "blended_heat_map"],
      }),
    );
    assert.equal(two.runs.length, 2);
    assert.equal(two.runs[1].name, "copy/hlgm-run");
  } finally {
    Deno.removeSync(`${run}/sib.json`);
  }
});

Deno.test("report: a run without sib.json and without data still gets a report", async () => {
  const { root, run } = await tinyRun();
  const out = `${root}/nosal`;
  const res = await writeReport([run], { out, noSaliency: true });
  const html = Deno.readTextFileSync(res.index);
  references(html, out);
  assert.ok(!html.includes("saliency.png"));
  assert.ok(
    res.notes.some((n) => /no SIB plots: synthetic has no object boxes/.test(n)),
    `${res.notes}`,
  );
  await assert.rejects(() => writeReport([`${root}/nothing`], { out }), /not a run folder/);
});

// The HTML report as a browser shows it: headless Chromium at 700 px wide. Scripts/test.sh
// installs chromium on the host; inside the Debian 13 root (HLGM_IN_ROOT) it is not installed.
Deno.test({
  name: "report: readable from 700 px wide (no sideways overflow; Chromium screenshot)",
  ignore: Deno.env.get("HLGM_IN_ROOT") === "1",
  fn: async () => {
    const { root, run } = await tinyRun();
    const out = `${root}/narrow`;
    const res = await writeReport([run], { out, n: 2, device });
    // a copy of the page that records its widths once laid out
    const probe = `${out}/probe.html`;
    Deno.writeTextFileSync(
      probe,
      Deno.readTextFileSync(res.index).replace(
        "</body>",
        `<script>addEventListener("load", () => { const d = document.documentElement; ` +
          `document.body.dataset.widths = d.scrollWidth + "/" + d.clientWidth; });</script></body>`,
      ),
    );
    const chromium = (...args: string[]) =>
      new Deno.Command("chromium", {
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=700,1200", ...args],
        stdout: "piped",
        stderr: "null",
      }).output();
    const dom = await chromium("--virtual-time-budget=3000", "--dump-dom", `file://${probe}`);
    assert.ok(dom.success, "chromium runs (scripts/test.sh installs it)");
    const widths = new TextDecoder().decode(dom.stdout).match(/data-widths="(\d+)\/(\d+)"/);
    assert.ok(widths, "the probe ran");
    const [scroll, client] = [Number(widths[1]), Number(widths[2])];
    assert.ok(client > 600 && client <= 700, `viewport ${client}`);
    assert.ok(scroll <= client, `the page is ${scroll} px wide in a ${client} px window`);
    const shot = `${out}/shot.png`;
    assert.ok((await chromium(`--screenshot=${shot}`, `file://${res.index}`)).success);
    const png = decodePng(Deno.readFileSync(shot));
    assert.equal(png.width, 700);
    // the summary table is drawn (dark text on the page's white), not an empty page
    let dark = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i] < 80) dark++;
    assert.ok(dark > 1000, `${dark} dark pixels`);
  },
});
