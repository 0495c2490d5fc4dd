/**
 * `hlgm sib`: a tiny cluttered Fashion-MNIST (written here in the real idx format) and two
 * one-epoch runs trained on it; the CLI's table, sib.json files, plots, and agreement with
 * SIB computed directly; the argument errors.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
// @ts-types="npm:@types/pngjs@6.0.5"
import { PNG } from "npm:pngjs@7.0.0";
import { loadDataset } from "../src/data/registry.ts";
import { DataLoader } from "../src/data/loader.ts";
import { pointingGame, relevanceMassAccuracy, sib, summarize } from "../src/metrics/sib.ts";
import { imagesWithBoxes } from "../src/runs/sib.ts";
import { sibOfRunCached } from "../src/runs/run_jobs.ts";
import { pixelSaliency } from "../src/saliency/pixel_map.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { tidy } from "../src/tensor/engine.ts";
import { defaultConfig } from "../src/train/config.ts";
import { loadRun } from "../src/train/load_run.ts";
import { train } from "../src/train/trainer.ts";
import { device, NO_DATA, runCli, writeFakeFashionMnist } from "./helpers.ts";
import { tinyClutteredRun } from "./tiny_runs.ts";

const cli = (args: string[]) => runCli(args, { ...NO_DATA, HLGM_NUM_THREADS: "2" });

let fixture: Promise<{ root: string; data: string; runs: string[] }> | undefined;

/** One data folder and two runs, made once for every test of this file. */
function setup(): Promise<{ root: string; data: string; runs: string[] }> {
  fixture ??= (async () => {
    const root = Deno.makeTempDirSync({ prefix: "hlgm-sib-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    const data = `${root}/data`;
    writeFakeFashionMnist(data);
    const runs = [
      await tinyClutteredRun(root, data, "baseline", 0),
      await tinyClutteredRun(root, data, "other", 1),
    ];
    return { root, data, runs };
  })();
  return fixture;
}

const PERCENTS = ["0.5", "1", "2", "5", "10"];

Deno.test("sib: Table III, sib.json per run and combined, plots", async () => {
  const { root, data, runs } = await setup();
  const out = `${root}/sib-out`;
  const r = await cli([
    "sib",
    ...runs,
    "--dataset",
    "cluttered-fmnist",
    "--data-dir",
    data,
    "--n",
    "60",
    "--batch-size",
    "25",
    "--device",
    device,
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  // the table: a title, a header naming both runs, one row per x
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], /Median SIB \(saliency, 60 cluttered-fmnist test images/);
  assert.deepEqual(lines[1].trim().split(/\s+/), ["top", "x%", "baseline", "other"]);
  // then the localisation table: a blank line, a title, a header and two rows
  assert.equal(lines.length, 2 + 5 + 1 + 5);
  assert.match(lines[9], /^Localisation: mean \[95% interval over the images\]$/);
  assert.deepEqual(lines[10].trim().split(/\s+/), ["localisation", "baseline", "other"]);
  // the last row names the weights each column scored: by default the best masked epoch's,
  // which for runs that never masked (these baselines) is their best, said on stderr
  assert.match(
    lines[7],
    /^checkpoint\s+best-after-switch, epoch 1\s+best-after-switch, epoch 1$/,
  );
  assert.match(r.stderr, /^baseline: best-after-switch checkpoint \(epoch 1; no masked epoch: /m);
  const cells = lines.slice(2, 7).map((l) => l.trim().split(/\s+/));
  assert.deepEqual(cells.map((c) => c[0]), PERCENTS);

  const combined = JSON.parse(Deno.readTextFileSync(`${out}/sib.json`));
  assert.equal(combined.n, 60);
  assert.equal(combined.checkpoint, "best-after-switch");
  assert.equal(combined.method, "saliency");
  assert.deepEqual(combined.percents, [0.5, 1, 2, 5, 10]);
  assert.equal(combined.indices.length, 60);
  assert.deepEqual(combined.indices, [...combined.indices].sort((a: number, b: number) => a - b));
  assert.equal(new Set(combined.indices).size, 60);
  assert.deepEqual(combined.runs.map((x: { name: string }) => x.name), ["baseline", "other"]);
  combined.runs.forEach(
    (run: { per_image: Record<string, number[]>; summary: Record<string, unknown> }, j: number) => {
      PERCENTS.forEach((p, i) => {
        const v = run.per_image[p];
        assert.equal(v.length, 60);
        assert.ok(v.every((x) => x >= 0 && x <= 1), `SIB(${p}) outside [0, 1]`);
        assert.deepEqual(run.summary[p], summarize(v));
        // the printed median is the summary's, rounded
        assert.equal(cells[i][1 + j], summarize(v).median.toFixed(3));
        // SIB(x) takes multiples of 1 / count
        const count = Math.max(1, Math.round((Number(p) / 100) * 64 * 64));
        assert.ok(v.every((x) => Math.abs(x * count - Math.round(x * count)) < 1e-9));
      });
    },
  );
  // the per-run file the report reads
  for (const [j, dir] of runs.entries()) {
    const own = JSON.parse(Deno.readTextFileSync(`${dir}/sib.json`));
    assert.deepEqual(own.percents, [0.5, 1, 2, 5, 10]);
    assert.equal(own.method, "saliency");
    assert.equal(own.n, 60);
    assert.deepEqual(own.per_image, combined.runs[j].per_image);
    assert.deepEqual(own.summary, combined.runs[j].summary);
  }
  // plots: a box plot and a paired scatter per x, SVG and PNG
  const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  for (const p of PERCENTS) {
    for (const kind of ["sib_box", "sib_scatter"]) {
      const base = `${out}/${kind}_${p}`;
      const svg = Deno.readTextFileSync(`${base}.svg`);
      assert.match(svg, /^<svg[^>]* width="(\d+)" height="(\d+)"/);
      const [, w, h] = svg.match(/width="(\d+)" height="(\d+)"/)!;
      const png = PNG.sync.read(Buffer.from(Deno.readFileSync(`${base}.png`)));
      assert.equal(png.width, Number(w), `${base}.png width`);
      assert.equal(png.height, Number(h), `${base}.png height`);
      assert.ok(files.includes(`${kind}_${p}.svg`));
    }
  }
  // the scatter draws 60 images x 2 runs (the paper's 120 cap is above n)
  const scatter = Deno.readTextFileSync(`${out}/sib_scatter_5.svg`);
  assert.equal(scatter.match(/<circle class="point"/g)?.length, 120);
});

Deno.test("sib: the CLI's values agree with SIB of the saliency computed directly", async () => {
  const { root, data, runs } = await setup();
  const out = `${root}/sib-direct`;
  const r = await cli([
    "sib",
    runs[0],
    "--data-dir",
    data,
    "--n",
    "40",
    "--seed",
    "3",
    "--percents",
    "1,5",
    "--checkpoint",
    "last",
    "--device",
    device,
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(Deno.readTextFileSync(`${out}/sib.json`));
  assert.equal(j.dataset, "cluttered-fmnist"); // the run's own
  const run = loadRun(runs[0], { which: "last", device });
  const ds = await loadDataset("cluttered-fmnist", { split: "test", dataDir: data, seed: 0 });
  const loader = new DataLoader(ds, { shuffle: false, device });
  try {
    const [s1, s5, pointing, mass] = tidy(() => {
      const b = loader.batchOf(j.indices);
      const maps = pixelSaliency(new Saliency(run.model).attribute(b.x, { target: b.y }));
      return [
        ...sib(maps, b.boxes!, [1, 5]),
        pointingGame(maps, b.boxes!),
        relevanceMassAccuracy(maps, b.boxes!),
      ];
    });
    const close = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-9);
    assert.ok(close(j.runs[0].per_image["1"], s1));
    assert.ok(close(j.runs[0].per_image["5"], s5));
    // the localisation scores beside SIB, per image, and their means
    const loc = j.runs[0].localisation;
    assert.ok(close(loc.pointing_game, pointing));
    assert.ok(close(loc.relevance_mass, mass));
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, x) => a + x, 0) / v.length;
    assert.ok(Math.abs(loc.summary.pointing_game.mean - mean(pointing)) < 1e-12);
    assert.ok(Math.abs(loc.summary.relevance_mass.mean - mean(mass)) < 1e-12);
    assert.match(r.stdout, /^pointing game \(hit rate\)\s+[\d.]+ \[/m);
    assert.match(r.stdout, /^relevance mass accuracy\s+[\d.]+ \[/m);
  } finally {
    loader.dispose();
    run.model.dispose();
  }
});

Deno.test("sib: usage errors exit 2 with one line, runtime errors exit 1", async () => {
  const { root, data, runs } = await setup();
  const cases: [string[], number, RegExp][] = [
    [["--method", "lime"], 2, /--method/],
    [["--percents", "0,5"], 2, /percents.*\(0, 100\]/],
    [["--percents", "5,150"], 2, /percents/],
    [["--percents", "1,x"], 2, /percents/],
    [["--n", "0"], 2, /--n must be a positive integer/],
    [["--saliency-sign", "sign"], 2, /--saliency-sign.*run, abs, signed/],
    [["--dataset", "nope"], 2, /unknown dataset "nope"/],
    [["--dataset", "fashion-mnist"], 2, /no object boxes/],
    [["--dataset", "cluttered-fmnist", "--data-dir", `${root}/missing`], 2, /not a folder/],
  ];
  for (const [extra, code, pattern] of cases) {
    const r = await cli(["sib", runs[0], "--data-dir", data, "--out", `${root}/e`, ...extra]);
    assert.equal(r.code, code, `${extra.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  // a folder without config.json
  const notRun = await cli(["sib", root, "--data-dir", data]);
  assert.equal(notRun.code, 2);
  assert.match(notRun.stderr, /not a run folder \(no config.json\)/);
  // the dataset is missing where the run says it is (runtime failure)
  const empty = Deno.makeTempDirSync({ dir: root });
  const missing = await cli(["sib", runs[0], "--data-dir", empty, "--out", `${root}/e`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cluttered-fmnist not found/);
  assert.equal(missing.stderr.trim().split("\n").length, 1);
});

Deno.test("sib: a run whose input shape differs from the dataset's is refused", async () => {
  const { root, data } = await setup();
  const flat = await tinyClutteredRun(root, data, "fmnist28", 0, "fashion-mnist");
  const r = await cli(["sib", flat, "--dataset", "cluttered-fmnist", "--data-dir", data]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /takes 1x28x28 inputs, but cluttered-fmnist test images are 1x64x64/);
});

Deno.test("sib: --n all scores every test image with a box; --checkpoint picks the rule's epoch", async () => {
  const { root, data, runs } = await setup();
  // hlgm: one plain epoch, then three masked ones; best-after-switch is the best of epochs 2-4
  const hlgm = `${root}/hlgm`;
  const t = await train(
    defaultConfig({
      method: "hlgm",
      dataset: "cluttered-fmnist",
      dataDir: data,
      subset: 256,
      epochs: 4,
      switchEpoch: 1,
      batchSize: 64,
      device,
      seed: 0,
    }),
    hlgm,
  );
  assert.equal(t.status, "completed");
  const argmax = (ms: typeof t.metrics) =>
    ms.reduce((a, m) => (m.val_acc! > a.val_acc! ? m : a)).epoch;
  const expected = {
    best: argmax(t.metrics),
    last: 4,
    "best-after-switch": argmax(t.metrics.filter((m) => m.phase === "sgt")),
  };
  const test = await loadDataset("cluttered-fmnist", { split: "test", dataDir: data, seed: 0 });
  const withBox = imagesWithBoxes(test);
  assert.ok(withBox.length > 60);
  for (const [rule, epoch] of Object.entries(expected)) {
    const out = `${root}/sib-${rule}`;
    const r = await cli([
      "sib",
      hlgm,
      runs[0],
      "--data-dir",
      data,
      "--n",
      "all",
      "--percents",
      "5",
      "--checkpoint",
      rule,
      "--device",
      device,
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(Deno.readTextFileSync(`${out}/sib.json`));
    assert.equal(j.checkpoint, rule);
    assert.equal(j.n, withBox.length, "every test image with a box");
    assert.equal(j.n_requested, "all");
    assert.deepEqual(j.indices, [...withBox].sort((a, b) => a - b));
    assert.equal(j.runs[0].epoch, epoch, `${rule}: hlgm's epoch`);
    assert.equal(j.runs[1].epoch, 1);
    // the baseline never masked: its best-after-switch is its best, and says so
    if (rule === "best-after-switch") {
      assert.match(j.runs[1].checkpoint_note, /no masked epoch: its best checkpoint/);
      assert.match(r.stderr, /baseline: best-after-switch checkpoint \(epoch 1; no masked epoch/);
    }
    assert.match(r.stdout, new RegExp(`checkpoint\\s+${rule}, epoch ${epoch}\\s+${rule}, epoch 1`));
    assert.equal(JSON.parse(Deno.readTextFileSync(`${hlgm}/sib.json`)).epoch, epoch);
  }
});

Deno.test("sib: by default every test image with a box, best-after-switch, each run ranked as it was trained (--saliency-sign)", async () => {
  const { root, data, runs } = await setup();
  // hlgm trained with signed masking: one plain epoch, then one masked (the only candidate)
  const signed = `${root}/signed`;
  const t = await train(
    defaultConfig({
      method: "hlgm",
      dataset: "cluttered-fmnist",
      dataDir: data,
      subset: 256,
      epochs: 2,
      switchEpoch: 1,
      batchSize: 64,
      saliencySign: "signed",
      device,
      seed: 0,
    }),
    signed,
  );
  assert.equal(t.status, "completed");
  const test = await loadDataset("cluttered-fmnist", { split: "test", dataDir: data, seed: 0 });
  const withBox = imagesWithBoxes(test);

  // no --n, no --checkpoint, no --saliency-sign: the paper's whole test set, the best masked
  // epoch, each run's own ranking
  const out = `${root}/sib-defaults`;
  const r = await cli([
    "sib",
    signed,
    runs[0],
    "--data-dir",
    data,
    "--percents",
    "1,5",
    "--device",
    device,
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(Deno.readTextFileSync(`${out}/sib.json`));
  assert.equal(j.n_requested, "all");
  assert.equal(j.n, withBox.length);
  assert.deepEqual(j.indices, [...withBox].sort((a, b) => a - b));
  assert.equal(j.checkpoint, "best-after-switch");
  assert.equal(j.runs[0].epoch, 2);
  assert.equal(j.runs[0].checkpoint_note, undefined);
  assert.equal(j.runs[1].epoch, 1);
  assert.deepEqual(
    j.runs.map((x: { saliency_sign: string; trained_saliency_sign: string }) => [
      x.saliency_sign,
      x.trained_saliency_sign,
    ]),
    [["signed", "signed"], ["abs", "abs"]],
  );
  const own = JSON.parse(Deno.readTextFileSync(`${signed}/sib.json`));
  assert.equal(own.saliency_sign, "signed");
  assert.equal(own.n_requested, "all");
  // the table says what each column ranked; stderr says the signed run was scored as trained
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], new RegExp(`^Median SIB \\(saliency, ${withBox.length} cluttered`));
  assert.match(lines.at(-6)!, /^saliency\s+signed\s+abs$/);
  assert.match(lines.at(-1)!, /^relevance mass accuracy\s/);
  assert.match(
    r.stderr,
    new RegExp(
      `^signed: best-after-switch checkpoint \\(epoch 2\\), signed saliency, as trained, ` +
        `${withBox.length} images in `,
      "m",
    ),
  );
  assert.match(r.stderr, /^note: the runs rank different maps \(signed signed, baseline abs\)/m);

  // the values: SIB of the signed channel mean of the signed gradient, as the run's masking
  // ranked it; the |gradient|'s differ
  const run = loadRun(signed, { which: "best-after-switch", device });
  const loader = new DataLoader(test, { shuffle: false, device });
  try {
    const direct = (abs: boolean) =>
      tidy(() => {
        const b = loader.batchOf(j.indices);
        const a = new Saliency(run.model).attribute(b.x, { target: b.y, abs });
        return sib(pixelSaliency(a, { abs }), b.boxes!, [1, 5]);
      });
    const close = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-9);
    const [s1, s5] = direct(false);
    assert.ok(close(j.runs[0].per_image["1"], s1));
    assert.ok(close(j.runs[0].per_image["5"], s5));
    const [a1, a5] = direct(true);
    assert.ok(!close(a1, s1) || !close(a5, s5), "signed and |.| rankings differ");

    // --saliency-sign abs: every run by |gradient|; the signed run is named as not as trained
    const absOut = `${root}/sib-abs`;
    const ra = await cli([
      "sib",
      signed,
      "--data-dir",
      data,
      "--percents",
      "1,5",
      "--saliency-sign",
      "abs",
      "--device",
      device,
      "--out",
      absOut,
    ]);
    assert.equal(ra.code, 0, ra.stderr);
    const ja = JSON.parse(Deno.readTextFileSync(`${absOut}/sib.json`));
    assert.equal(ja.runs[0].saliency_sign, "abs");
    assert.equal(ja.runs[0].trained_saliency_sign, "signed");
    assert.ok(close(ja.runs[0].per_image["1"], a1));
    assert.ok(close(ja.runs[0].per_image["5"], a5));
    assert.match(ra.stdout.trim().split("\n").at(-6)!, /^saliency\s+abs \(trained signed\)$/);
    assert.match(
      ra.stderr,
      /^signed: best-after-switch checkpoint \(epoch 2\), not scored as trained: abs saliency, trained with --saliency-sign signed, /m,
    );
  } finally {
    loader.dispose();
    run.model.dispose();
  }

  // compare and sweep's cache: a sib.json that ranked otherwise is scored again
  const choice = {
    n: "all" as const,
    method: "saliency" as const,
    percents: [1, 5],
    checkpoint: "best-after-switch" as const,
    device,
  };
  const first = await sibOfRunCached(signed, choice); // the abs file above: scored again
  assert.equal(first.cached, false);
  assert.equal(first.sib.saliency_sign, "signed");
  assert.deepEqual(first.sib.per_image, own.per_image);
  assert.equal((await sibOfRunCached(signed, choice)).cached, true);
  const file = `${signed}/sib.json`;
  Deno.writeTextFileSync(
    file,
    JSON.stringify({ ...JSON.parse(Deno.readTextFileSync(file)), saliency_sign: "abs" }),
  );
  const again = await sibOfRunCached(signed, choice);
  assert.equal(again.cached, false);
  assert.equal(again.sib.saliency_sign, "signed");
});
