/**
 * `hlgm sweep`: the grid parser against the settings table, a real sweep on the synthetic
 * dataset (runs in parallel worker processes) whose table and heat maps are checked against
 * the runs' own metrics, reuse of finished runs, refusal of changed settings, the report's
 * sweep section, SIB columns on a tiny cluttered Fashion-MNIST, and usage errors (exit 2).
 */

import assert from "node:assert/strict";
import { sweep, type SweepAxis, sweepCells } from "../src/runs/sweep.ts";
import { parseGridArg } from "../cli/flags/grid.ts";
import { summarize } from "../src/metrics/sib.ts";
import type { EpochMetrics } from "../src/run_folder/mod.ts";
import { device, NO_DATA, runCli, writeFakeFashionMnist } from "./helpers.ts";

const cli = (args: string[]) => runCli(args, { ...NO_DATA, HLGM_NUM_THREADS: "2" });

function tempDir(prefix: string): string {
  const dir = Deno.makeTempDirSync({ prefix });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

function readMetrics(dir: string): EpochMetrics[] {
  return Deno.readTextFileSync(`${dir}/metrics.jsonl`).trim().split("\n").map((l) => JSON.parse(l));
}

function meanSd(v: number[]): { mean: number; sd: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, sd: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) };
}

Deno.test("sweep: --grid values are parsed as their flags parse them; the library refuses the same axes", async () => {
  assert.deepEqual(parseGridArg("k-top=0.1,0.2,0.3"), { key: "kTop", values: [0.1, 0.2, 0.3] });
  assert.deepEqual(parseGridArg("kTop=0.1"), { key: "kTop", values: [0.1] });
  assert.deepEqual(parseGridArg("episode-size=3,5"), { key: "episodeSize", values: [3, 5] });
  assert.deepEqual(parseGridArg("fill=random,zero"), { key: "fill", values: ["random", "zero"] });
  assert.deepEqual(parseGridArg("augment=true,false"), { key: "augment", values: [true, false] });
  const bad: [string, RegExp][] = [
    ["lambda=x", /--lambda: expected a number, got "x"/],
    ["episode-size=2.5", /--episode-size: expected an integer, got "2.5"/],
    ["fill=foo", /--fill: expected one of random, zero, mean, random-channel, got "foo"/],
    ["seed=1,2", /seed cannot be swept \(use --seeds\)/],
    ["nope=1", /unknown setting "nope"/],
    ["k-top", /expected SETTING=V1,V2/],
    ["k-top=0.1,0.1", /a value is repeated/],
  ];
  for (const [text, pattern] of bad) assert.throws(() => parseGridArg(text), pattern, text);
  // the library's sweep refuses the same axes itself, naming the setting as a library user
  // writes it, before it takes a lock or writes anything
  const out = tempDir("hlgm-sweep-bad-axis-");
  for (
    const [grid, pattern] of [
      [
        [{ key: "seed", values: [0, 1] }],
        /^grid: seed cannot be swept \(give the seeds instead\)$/,
      ],
      [[{ key: "kTop", values: [0.1, 0.1] }], /^grid: kTop: a value is repeated$/],
      [[{ key: "k-top", values: [0.1] }], /^grid: unknown setting "k-top"$/],
    ] as const
  ) {
    await assert.rejects(
      () => sweep({ base: {}, grid: grid as unknown as SweepAxis[], seeds: [0], out: `${out}/sw` }),
      (e: Error) => e.name === "SettingError" && pattern.test(e.message),
    );
  }
  assert.deepEqual([...Deno.readDirSync(out)], []);
  // cells: every combination, the first setting varying slowest
  const cells = sweepCells([parseGridArg("k-top=0.1,0.3"), parseGridArg("lambda=0.5,1,2")]);
  assert.deepEqual(cells.map((c) => c.name), [
    "k-top=0.1_lambda=0.5",
    "k-top=0.1_lambda=1",
    "k-top=0.1_lambda=2",
    "k-top=0.3_lambda=0.5",
    "k-top=0.3_lambda=1",
    "k-top=0.3_lambda=2",
  ]);
  assert.deepEqual(cells[4].values, { kTop: 0.3, lambda: 1 });
});

Deno.test("sweep: parallel runs, the table and heat map match the runs' metrics; reuse; report", async () => {
  const out = `${tempDir("hlgm-sweep-")}/sw`;
  const args = [
    "sweep",
    "--method",
    "hlgm",
    "--dataset",
    "synthetic",
    "--subset",
    "128",
    "--batch-size",
    "64",
    "--epochs",
    "2",
    "--switch-epoch",
    "1",
    "--episode-size",
    "2",
    "--grid",
    "k-top=0.1,0.3",
    "--seeds",
    "0,1",
    "--parallel",
    "2",
    "--device",
    device,
    "--out",
    out,
  ];
  const r = await cli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/training into .* \(1 thread\)/g)?.length, 4, r.stdout);
  const json = JSON.parse(Deno.readTextFileSync(`${out}/sweep.json`));
  assert.deepEqual(json.axes, [{ key: "kTop", values: [0.1, 0.3] }]);
  assert.equal(json.cells.length, 2);
  const lines = r.stdout.split("\n");
  const head = lines.findIndex((l) => /^k-top\s+runs/.test(l));
  assert.match(lines[head], /^k-top\s+runs\s+max test acc \(%\)\s+final test acc \(%\)/);
  for (const [i, kTop] of [0.1, 0.3].entries()) {
    const max: number[] = [];
    const final: number[] = [];
    for (const seed of [0, 1]) {
      const dir = `${out}/k-top=${kTop}/seed${seed}`;
      const cfg = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`)).config;
      assert.equal(cfg.kTop, kTop);
      assert.equal(cfg.seed, seed);
      assert.equal(cfg.method, "hlgm");
      const m = readMetrics(dir);
      assert.deepEqual(m.map((x) => x.mode), ["plain", "regularize"]);
      assert.equal(m[1].k, kTop); // the grid value reached the masking
      max.push(Math.max(...m.map((x) => x.test_acc)));
      final.push(m[1].test_acc);
    }
    const cell = json.cells[i];
    assert.deepEqual(cell.values, { kTop });
    assert.deepEqual(cell.max_test_acc.values, max);
    assert.deepEqual(cell.final_test_acc.values, final);
    const fmt = (s: { mean: number; sd: number }) =>
      `${(100 * s.mean).toFixed(2)} ± ${(100 * s.sd).toFixed(2)}`;
    assert.ok(lines[head + 1 + i].includes(fmt(meanSd(max))), lines[head + 1 + i]);
    assert.ok(lines[head + 1 + i].includes(fmt(meanSd(final))), lines[head + 1 + i]);
    // the heat map writes each cell's mean max accuracy
    const svg = Deno.readTextFileSync(`${out}/heatmap-max-test-acc.svg`);
    assert.ok(svg.includes(`>${(100 * meanSd(max).mean).toFixed(2)}<`), "heat map cell");
  }
  assert.ok(Deno.statSync(`${out}/heatmap-max-test-acc.png`).size > 1000);
  assert.match(Deno.readTextFileSync(`${out}/sweep.md`), /^# Sweep: k-top ∈ \{0\.1, 0\.3\}/);

  // again: every run is reused, same table
  const again = await cli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.match(/reusing the finished run/g)?.length, 4);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${out}/sweep.json`)).cells, json.cells);

  // other settings in the same folder are refused, naming the difference
  const changed = await cli(args.map((a, i) => (args[i - 1] === "--epochs" ? "3" : a)));
  assert.equal(changed.code, 1);
  assert.match(changed.stderr, /holds a run with other settings \(epochs 2 vs 3\)/);

  // the report of the sweep folder has its section
  const rep = await cli(["report", out, "--out", `${out}/report`]);
  assert.equal(rep.code, 0, rep.stderr);
  const html = Deno.readTextFileSync(`${out}/report/index.html`);
  assert.match(html, /<h2>Sweep: <code>[^<]*\/sw<\/code><\/h2>/);
  assert.ok(html.includes("<th>k-top</th>"));
  assert.ok(Deno.statSync(`${out}/report/sweep-heatmap-1.png`).size > 1000);
});

Deno.test("sweep: SIB per cell on a dataset with boxes is the median of the seeds' pooled images", async () => {
  const root = tempDir("hlgm-sweep-sib-");
  writeFakeFashionMnist(`${root}/data`);
  const r = await sweep({
    base: {
      method: "hlgm",
      dataset: "cluttered-fmnist",
      dataDir: `${root}/data`,
      subset: 64,
      epochs: 2,
      switchEpoch: 1,
      batchSize: 32,
      device,
    },
    grid: [parseGridArg("lambda=0.5,2")],
    seeds: [0, 1],
    out: `${root}/sw`,
    parallel: 2,
    threads: 2,
    sibN: 30,
    percents: [1, 5],
    checkpoint: "best-after-switch",
  });
  assert.ok(r.sib);
  assert.equal(r.checkpoint, "best-after-switch");
  for (const cell of r.cells) {
    const sibs = [0, 1].map((s) =>
      JSON.parse(Deno.readTextFileSync(`${root}/sw/${cell.name}/seed${s}/sib.json`))
    );
    for (const s of sibs) {
      assert.equal(s.checkpoint, "best-after-switch");
      assert.equal(s.epoch, 2); // the only masked epoch
      assert.equal(s.n, 30);
    }
    for (const p of ["1", "5"]) {
      const pooled = sibs.flatMap((s) => s.per_image[p]);
      assert.equal(pooled.length, 60);
      assert.equal(cell.sib_median![p], summarize(pooled).median);
    }
  }
  assert.deepEqual(r.table.head.slice(-2), ["SIB(1)", "SIB(5)"]);
  for (const f of ["heatmap-sib-1.png", "heatmap-sib-5.svg", "heatmap-max-test-acc.png"]) {
    assert.ok(Deno.statSync(`${root}/sw/${f}`).isFile, f);
  }
});

Deno.test("sweep: usage errors exit 2 with one line before anything trains", async () => {
  const root = tempDir("hlgm-sweep-usage-");
  const base = ["sweep", "--dataset", "synthetic", "--out", `${root}/sw`];
  const cases: [string[], RegExp][] = [
    [[], /give at least one --grid/],
    [["--grid", "seed=1,2"], /seed cannot be swept \(use --seeds\)/],
    [["--grid", "k-top=0.1", "--k-top", "0.2"], /--grid sweeps k-top: do not also give --k-top\n$/],
    [["--grid", "k-top=0.1", "--grid", "kTop=0.2"], /--grid: k-top is given twice\n$/],
    [["--grid", "k-top=0.1,1.5"], /k-top/],
    [["--grid", "lr=0.1", "--parallel", "0"], /--parallel must be a positive integer/],
  ];
  for (const [extra, pattern] of cases) {
    const r = await cli([...base, ...extra]);
    assert.equal(r.code, 2, `${extra.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.throws(() => Deno.statSync(`${root}/sw`), Deno.errors.NotFound);
});

Deno.test("sweep: a run's messages name flags under the CLI (its worker is the CLI's hidden sweep-worker) and config keys under the library", async () => {
  const root = tempDir("hlgm-sweep-words-");
  // lr 1e30: the loss is NaN within the first epoch, and the run says what to lower
  const base = { dataset: "synthetic", subset: 64, epochs: 1, batchSize: 32, method: "baseline" };
  const r = await cli([
    "sweep",
    ...Object.entries(base).flatMap((
      [k, v],
    ) => [`--${k.replace(/[A-Z]/g, "-$&").toLowerCase()}`, `${v}`]),
    "--lr",
    "1e30",
    "--grid",
    "weight-decay=0",
    "--seeds",
    "0",
    "--device",
    device,
    "--out",
    `${root}/cli`,
  ]);
  assert.equal(r.code, 1, r.stderr); // a diverged run
  const cliLog = Deno.readTextFileSync(`${root}/cli/weight-decay=0/seed0/sweep.log`);
  assert.match(cliLog, /loss became NaN at epoch 1.*; stopped\. .*try a lower --lr\n/);

  const lib = await sweep({
    base: { ...base, lr: 1e30, device } as Parameters<typeof sweep>[0]["base"],
    grid: [{ key: "weightDecay", values: [0] }],
    seeds: [0],
    out: `${root}/lib`,
  });
  assert.equal(lib.runs[0].status, "diverged");
  const libLog = Deno.readTextFileSync(`${root}/lib/weight-decay=0/seed0/sweep.log`);
  assert.match(libLog, /loss became NaN at epoch 1.*; stopped\. .*try a lower lr\n/);
});
