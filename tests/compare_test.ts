/**
 * `hlgm compare` and `hlgm report` from the command line, and the comparison engine:
 * Table II against the runs' own metrics.jsonl, reuse of finished runs, resume of stopped ones,
 * refusal of a folder trained with other settings, Table III on a tiny cluttered Fashion-MNIST
 * (idx files written here) against the runs' sib.json, and usage errors (exit 2).
 */

import assert from "node:assert/strict";
import { compareMethods } from "../src/runs/compare.ts";
import { summarize } from "../src/metrics/sib.ts";
import { loadTestSplit } from "../src/train/setup.ts";
import { pairedTTest } from "../src/util/stats.ts";
import { FAITH_METRICS } from "../src/runs/faith_defaults.ts";
import type { EpochMetrics } from "../src/run_folder/mod.ts";
import { device, NO_DATA, runCli, writeFakeFashionMnist } from "./helpers.ts";

const cli = (args: string[]) => runCli(args, NO_DATA);

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

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

Deno.test("compare: trains methods x seeds, Table II matches the runs' metrics, reuses runs", async () => {
  const out = `${tempDir("hlgm-compare-")}/cmp`;
  const args = [
    "compare",
    "--dataset",
    "synthetic",
    "--subset",
    "128",
    "--batch-size",
    "64",
    "--epochs",
    "2",
    "--seeds",
    "0,1",
    "--switch-epoch",
    "1",
    "--episode-size",
    "2",
    "--device",
    device,
    "--out",
    out,
    "--faith-n",
    "8",
  ];
  const r = await cli(args);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  const head = lines.findIndex((l) => l.startsWith("Table II"));
  assert.ok(head >= 0, r.stdout);
  assert.match(
    lines[head + 1],
    /^method\s+max test acc \(%\)\s+final test acc \(%\)\s+best-after-switch ckpt test acc \(%\)$/,
  );
  const rows = lines.slice(head + 2, head + 5);
  assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]), ["baseline", "sgt", "hlgm"]);
  for (const row of rows) assert.match(row, /(\d+\.\d\d ± \d+\.\d\d\s+){2}\d+\.\d\d ± \d+\.\d\d$/);

  const json = JSON.parse(Deno.readTextFileSync(`${out}/compare.json`));
  assert.deepEqual(json.methods, ["baseline", "sgt", "hlgm"]);
  assert.deepEqual(json.seeds, [0, 1]);
  assert.equal(json.table3, null);
  assert.equal(json.runs.length, 6);
  for (const method of ["baseline", "sgt", "hlgm"]) {
    const max: number[] = [];
    const final: number[] = [];
    const atBest: number[] = [];
    for (const seed of [0, 1]) {
      const m = readMetrics(`${out}/${method}-seed${seed}`);
      assert.equal(m.length, 2);
      max.push(Math.max(...m.map((x) => x.test_acc)));
      final.push(m[1].test_acc);
      // the default rule, best-after-switch: the first epoch with the highest validation
      // accuracy among the masked ones (all of sgt's, hlgm's after its switch), or among all
      // epochs when none masked (the baseline)
      const masked = m.filter((x) => x.phase === "sgt");
      atBest.push(
        (masked.length ? masked : m).reduce((a, x) => (x.val_acc! > a.val_acc! ? x : a)).test_acc,
      );
      const cfg = JSON.parse(Deno.readTextFileSync(`${out}/${method}-seed${seed}/config.json`));
      assert.equal(cfg.config.method, method);
      assert.equal(cfg.config.seed, seed);
    }
    const t = json.table2[method];
    assert.deepEqual(t.max_test_acc.values, max);
    assert.deepEqual(t.final_test_acc.values, final);
    assert.deepEqual(t.checkpoint_test_acc.values, atBest);
    assert.ok(close(t.max_test_acc.mean, meanSd(max).mean));
    assert.ok(close(t.max_test_acc.sd, meanSd(max).sd));
    assert.ok(close(t.final_test_acc.mean, meanSd(final).mean));
    assert.ok(close(t.final_test_acc.sd, meanSd(final).sd));
    const row = rows.find((l) => l.startsWith(method))!;
    const fmt = (s: { mean: number; sd: number }) =>
      `${(100 * s.mean).toFixed(2)} ± ${(100 * s.sd).toFixed(2)}`;
    assert.ok(row.includes(fmt(meanSd(max))) && row.includes(fmt(meanSd(final))), row);
    assert.ok(Deno.statSync(`${out}/${method}-accuracy.png`).size > 1000);
    assert.ok(Deno.statSync(`${out}/${method}-accuracy.svg`).isFile);
  }
  // paired differences against the baseline: per seed, from the runs' own numbers
  const acc = (method: string, seed: number, which: "max" | "final") => {
    const m = readMetrics(`${out}/${method}-seed${seed}`);
    return which === "max" ? Math.max(...m.map((x) => x.test_acc)) : m[1].test_acc;
  };
  for (const method of ["sgt", "hlgm"]) {
    for (const [metric, which] of [["max_test_acc", "max"], ["final_test_acc", "final"]] as const) {
      const c = json.paired.find((p: { method: string; metric: string }) =>
        p.method === method && p.metric === metric
      );
      assert.equal(c.against, "baseline");
      assert.deepEqual(c.seeds, [0, 1]);
      const d = [0, 1].map((s) => acc(method, s, which) - acc("baseline", s, which));
      const want = pairedTTest(
        [0, 1].map((s) => acc(method, s, which)),
        [0, 1].map((s) => acc("baseline", s, which)),
      );
      assert.ok(close(c.test.mean, (d[0] + d[1]) / 2), `${method} ${metric}`);
      assert.deepEqual(c.test, JSON.parse(JSON.stringify(want)));
    }
  }
  assert.equal(
    json.paired.length,
    2 * (4 + FAITH_METRICS.length),
    "sgt and hlgm x max, final, checkpoint accuracy, mean after hlgm's switch, faithfulness",
  );
  // the faithfulness table: each run's mean over its 8 images (faith.json), then over seeds;
  // paired against the baseline seed by seed
  assert.equal(json.faith.n, 8);
  assert.deepEqual(json.faith.metrics, [...FAITH_METRICS]);
  const faithMean = (method: string, seed: number, metric: string) => {
    const f = JSON.parse(Deno.readTextFileSync(`${out}/${method}-seed${seed}/faith.json`));
    assert.equal(f.n, 8);
    assert.equal(f.checkpoint, "best-after-switch");
    return f.summary[metric].mean as number;
  };
  for (const metric of FAITH_METRICS) {
    for (const method of ["baseline", "sgt", "hlgm"]) {
      const v = [0, 1].map((s) => faithMean(method, s, metric));
      assert.deepEqual(json.faith.mean[method][metric].values, v, `${method} ${metric}`);
    }
    const c = json.paired.find((p: { method: string; metric: string }) =>
      p.method === "hlgm" && p.metric === `faith@${metric}`
    );
    const want = pairedTTest(
      [0, 1].map((s) => faithMean("hlgm", s, metric)),
      [0, 1].map((s) => faithMean("baseline", s, metric)),
    );
    assert.deepEqual(c.test, JSON.parse(JSON.stringify(want)), metric);
  }
  assert.match(
    r.stdout,
    /^Faithfulness of the saliency maps \(saliency of the true label, 8 synthetic/m,
  );
  assert.match(r.stdout, /^deletion AUC\s+lower\s+\S+ ± \S+\s+\S+ ± \S+\s+\S+ ± \S+$/m);
  assert.match(r.stdout, /^hlgm - baseline\s+insertion AUC \(higher is better\)\s+-?\d/m);
  // after hlgm's switch (after epoch 1): each run's epoch-2 test accuracy; hlgm's plain epoch
  // is the baseline's (same seed, same initialisation and order)
  for (const seed of [0, 1]) {
    const run = (m: string) =>
      json.runs.find((r: { method: string; seed: number }) => r.method === m && r.seed === seed);
    assert.equal(run("hlgm").plain_matches_baseline, true, `seed ${seed}`);
    assert.equal(
      readMetrics(`${out}/hlgm-seed${seed}`)[0].test_acc,
      readMetrics(`${out}/baseline-seed${seed}`)[0].test_acc,
    );
    for (const m of ["baseline", "sgt", "hlgm"]) {
      assert.equal(
        run(m).after_switch_test_acc,
        readMetrics(`${out}/${m}-seed${seed}`)[1].test_acc,
      );
    }
  }
  const after = json.paired.find((p: { method: string; metric: string }) =>
    p.method === "hlgm" && p.metric === "after_switch_test_acc"
  );
  assert.ok(close(
    after.test.mean,
    (acc("hlgm", 0, "final") - acc("baseline", 0, "final") +
      acc("hlgm", 1, "final") - acc("baseline", 1, "final")) / 2,
  ));
  assert.match(r.stdout, /^Paired differences against the baseline, seed by seed/m);
  assert.match(r.stdout, /^hlgm - baseline\s+max test acc \(pp\)\s+-?\d+\.\d\d\s+/m);

  // hlgm's schedule: plain, then regularize
  assert.deepEqual(readMetrics(`${out}/hlgm-seed0`).map((m) => m.mode), ["plain", "regularize"]);
  assert.deepEqual(readMetrics(`${out}/sgt-seed0`).map((m) => m.mode), ["sgt", "sgt"]);
  const md = Deno.readTextFileSync(`${out}/compare.md`);
  assert.match(
    md,
    /\| method \| max test acc \(%\) \| final test acc \(%\) \| best-after-switch ckpt test acc \(%\) \|/,
  );
  assert.match(md, /\| hlgm-seed0 \| trained \| 2 \| 1 \|.* \| \d+\.\d\d \| yes \|$/m); // switched after 1
  assert.match(md, /\| baseline-seed0 \| trained \| 2 \| - \|/);
  assert.match(md, /\| hlgm \| \d+\.\d\d ± \d+\.\d\d \| \d+\.\d\d ± \d+\.\d\d \|/);

  // again: every run is reused, the tables are the same
  const again = await cli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.match(/reusing the finished run/g)?.length, 6);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${out}/compare.json`)).table2, json.table2);

  // the report of two of the runs
  const rep = await cli([
    "report",
    `${out}/baseline-seed0`,
    `${out}/hlgm-seed0`,
    "--out",
    `${out}/report`,
    "--n",
    "3",
    "--device",
    device,
  ]);
  assert.equal(rep.code, 0, rep.stderr);
  assert.match(rep.stdout, new RegExp(`report: ${out}/report/index.html`));
  const html = Deno.readTextFileSync(`${out}/report/index.html`);
  for (
    const f of ["compare-test-accuracy.png", "hlgm-seed0-accuracy.png", "hlgm-seed0-saliency.png"]
  ) {
    assert.ok(html.includes(f), f);
    assert.ok(Deno.statSync(`${out}/report/${f}`).size > 1000);
  }
});

Deno.test("compare: a stopped run is resumed; a folder with other settings is refused", async () => {
  const out = tempDir("hlgm-compare-resume-");
  const base = { dataset: "synthetic", subset: 64, epochs: 2, batchSize: 64, device };
  let epochs = 0;
  await assert.rejects(
    () =>
      compareMethods({
        base,
        methods: ["baseline"],
        seeds: [3],
        out,
        hooks: () => ({ onEpoch: () => epochs++, shouldStop: () => epochs >= 1 }),
      }),
    /interrupted/,
  );
  assert.equal(readMetrics(`${out}/baseline-seed3`).length, 1);
  const messages: string[] = [];
  const r = await compareMethods({
    faith: false,
    base,
    methods: ["baseline"],
    seeds: [3],
    out,
    onMessage: (m) => messages.push(m),
  });
  assert.ok(
    messages.some((m) => m.includes("resuming") && m.includes("after epoch 1")),
    messages.join("\n"),
  );
  assert.equal(r.runs[0].status, "resumed");
  assert.equal(r.runs[0].epochs, 2);
  assert.deepEqual(readMetrics(`${out}/baseline-seed3`).map((m) => m.epoch), [1, 2]);
  await assert.rejects(
    () =>
      compareMethods({
        base: { ...base, epochs: 3 },
        methods: ["baseline"],
        seeds: [3],
        out,
        faith: false,
      }),
    /other settings \(epochs 2 vs 3\)/,
  );
});

Deno.test("compare: Table III on a dataset with boxes matches the runs' sib.json", async () => {
  const root = tempDir("hlgm-compare-sib-");
  writeFakeFashionMnist(`${root}/data`);
  const options = {
    base: {
      dataset: "cluttered-fmnist",
      dataDir: `${root}/data`,
      subset: 64,
      epochs: 2,
      batchSize: 32,
      switchEpoch: 1,
      episodeSize: 2,
      device,
    },
    methods: ["baseline", "hlgm"] as const,
    seeds: [0],
    out: `${root}/cmp`,
    sibN: 25,
    checkpoint: "best" as const,
    faith: false,
  };
  const r = await compareMethods(options);
  assert.ok(r.table3);
  assert.equal(r.table3.n, 25);
  assert.deepEqual(r.table3.percents, [0.5, 1, 2, 5, 10]);
  for (const m of ["baseline", "hlgm"]) {
    const sib = JSON.parse(Deno.readTextFileSync(`${root}/cmp/${m}-seed0/sib.json`));
    assert.equal(sib.n, 25);
    assert.equal(sib.method, "saliency");
    assert.equal(sib.checkpoint, "best");
    for (const p of ["0.5", "1", "2", "5", "10"]) {
      assert.equal(sib.per_image[p].length, 25);
      assert.equal(r.table3.median[m][p], summarize(sib.per_image[p]).median);
    }
  }
  assert.match(r.text, /Table III: median SIB\(x\) over 25 cluttered-fmnist test images/);
  // chance: the scored images' mean box area fraction, counted here from their boxes
  const sib0 = JSON.parse(Deno.readTextFileSync(`${root}/cmp/baseline-seed0/sib.json`));
  const config = JSON.parse(Deno.readTextFileSync(`${root}/cmp/baseline-seed0/config.json`));
  const test = await loadTestSplit(config.config);
  const inBox = (i: number) => {
    const [x0, y0, x1, y1] = test.boxes!.subarray(4 * i, 4 * i + 4);
    let n = 0;
    for (let y = 0; y < test.height; y++) {
      for (let x = 0; x < test.width; x++) {
        if (x + 0.5 >= x0 && x + 0.5 < x1 && y + 0.5 >= y0 && y + 0.5 < y1) n++;
      }
    }
    return n / (test.height * test.width);
  };
  const chance = sib0.indices.reduce((a: number, i: number) => a + inBox(i), 0) / 25;
  assert.ok(Math.abs(sib0.chance - chance) < 1e-12, `${sib0.chance} vs ${chance}`);
  assert.ok(Math.abs(r.table3.chance! - chance) < 1e-12);
  assert.match(r.text, /\nchance\s+(\d\.\d{3})\s+\1$/m);
  assert.match(r.text, /\nx \(%\)\s+baseline\s+hlgm\n0\.5\s+\d\.\d{3}\s+\d\.\d{3}\n/);
  for (const f of ["sib-1-box.png", "sib-5-box.svg", "sib-5-scatter.png", "compare.md"]) {
    assert.ok(Deno.statSync(`${root}/cmp/${f}`).isFile, f);
  }
  const json = JSON.parse(Deno.readTextFileSync(`${root}/cmp/compare.json`));
  assert.deepEqual(json.table3.median, r.table3.median);
  // a second call reuses the runs and their sib.json
  const messages: string[] = [];
  const again = await compareMethods({ ...options, onMessage: (m) => messages.push(m) });
  assert.equal(messages.filter((m) => m.includes("SIB from")).length, 2);
  assert.deepEqual(again.table3, r.table3);

  // the defaults, another rule and every test image: scored again, each run on the epoch its
  // rule picks
  const testImages = 100; // writeFakeFashionMnist's test split, every image with a box
  const { sibN: _n, checkpoint: _c, ...defaults } = options;
  const all = await compareMethods(defaults);
  assert.equal(all.checkpoint, "best-after-switch");
  assert.equal(all.table3!.n, testImages);
  assert.equal(all.table3!.checkpoint, "best-after-switch");
  const byMethod = Object.fromEntries(all.runs.map((x) => [x.method, x]));
  assert.equal(byMethod.hlgm.checkpoint_epoch, 2, "hlgm's only masked epoch");
  assert.equal(byMethod.hlgm.switch_epoch, 1);
  const baselineMetrics = readMetrics(`${root}/cmp/baseline-seed0`);
  assert.equal(
    byMethod.baseline.checkpoint_epoch,
    baselineMetrics.reduce((a, x) => (x.val_acc! > a.val_acc! ? x : a)).epoch,
  );
  assert.match(byMethod.baseline.checkpoint_note!, /no masked epoch/);
  for (const m of ["baseline", "hlgm"]) {
    const sib = JSON.parse(Deno.readTextFileSync(`${root}/cmp/${m}-seed0/sib.json`));
    assert.equal(sib.checkpoint, "best-after-switch");
    assert.equal(sib.epoch, byMethod[m].checkpoint_epoch);
    assert.equal(sib.n, testImages);
  }
  assert.match(
    all.text,
    /images per run \(saliency of the true label, best-after-switch checkpoints\)/,
  );
  // the same rule and images asked for explicitly: the sib.json files of the defaults
  const cachedAll: string[] = [];
  await compareMethods({
    ...options,
    faith: false,
    sibN: "all",
    checkpoint: "best-after-switch",
    onMessage: (m) => cachedAll.push(m),
  });
  assert.equal(cachedAll.filter((m) => m.includes("SIB from")).length, 2);
});

Deno.test("compare/report: bad flags exit 2 with one line", async () => {
  const cases: [string[], RegExp][] = [
    [["compare", "--seeds", "0,x"], /--seeds must be comma-separated/],
    [["compare", "--seeds", "1,1"], /repeats/],
    [["compare", "--methods", "baseline,magic"], /unknown method "magic"/],
    [["compare", "--epochs", "0"], /epochs must be a positive integer/],
    [["compare", "--lr", "-1"], /lr must be a positive number/],
    [["compare", "--method", "hlgm"], /unknown option .--method. \(Did you mean --methods\?\)/],
    [["compare", "--seed", "1"], /unknown option .--seed. \(Did you mean --seeds\?\)/],
    [["compare", "--bogus"], /unknown option/],
    [["compare", "--sib-n", "0"], /--sib-n/],
    [["report"], /missing required argument/],
    [["report", "/nonexistent/run"], /not a run folder/],
    [["report", ".", "--n", "0"], /--n must be a positive integer/],
  ];
  for (const [args, pattern] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    const err = r.stderr.trim().split("\n");
    assert.equal(err.length, 1, `${args.join(" ")}: one line, got\n${r.stderr}`);
    assert.match(err[0], pattern, args.join(" "));
  }
});

Deno.test("compare: the baselines fork from the HLGM runs at their switch (the plain phase trained once) and every table equals --no-share's; --sgt-from switch forks SGT there", async () => {
  const root = tempDir("hlgm-compare-share-");
  // the settings every run shares
  const settings = [
    "--dataset",
    "synthetic",
    "--subset",
    "256",
    "--batch-size",
    "64",
    "--epochs",
    "4",
    "--switch-epoch",
    "2",
    "--episode-size",
    "2",
    "--device",
    device,
  ];
  const args = (out: string, methods: string, ...more: string[]) => [
    "compare",
    ...settings,
    "--seeds",
    "0,1",
    "--methods",
    methods,
    "--out",
    out,
    "--no-faith",
    ...more,
  ];
  const shared = await cli(args(`${root}/shared`, "baseline,hlgm"));
  assert.equal(shared.code, 0, shared.stderr);
  // HLGM first, then each baseline forked after its epoch 2
  const order = shared.stdout.split("\n").filter((l) => /: (training|forking)/.test(l))
    .map((l) => l.split(":")[0]);
  assert.deepEqual(order, ["hlgm seed 0", "hlgm seed 1", "baseline seed 0", "baseline seed 1"]);
  assert.match(shared.stdout, /baseline seed 0: forking \S+hlgm-seed0 after its epoch 2 into/);
  const alone = await cli(args(`${root}/alone`, "baseline,hlgm", "--no-share"));
  assert.equal(alone.code, 0, alone.stderr);
  assert.doesNotMatch(alone.stdout, /forking/);
  const a = JSON.parse(Deno.readTextFileSync(`${root}/shared/compare.json`));
  const b = JSON.parse(Deno.readTextFileSync(`${root}/alone/compare.json`));
  assert.equal(a.shared, true);
  assert.equal(b.shared, false);
  assert.deepEqual(a.table2, b.table2);
  assert.deepEqual(a.paired, b.paired);
  const runFields = (runs: Record<string, unknown>[]) =>
    runs.map(({ dir: _d, forked_from: _f, status: _s, ...r }) => r);
  assert.deepEqual(runFields(a.runs), runFields(b.runs));
  assert.deepEqual(
    a.runs.map((r: { forked_from?: { epoch: number } }) => r.forked_from?.epoch ?? null),
    [2, 2, null, null],
  );
  const strip = (ms: EpochMetrics[]) => ms.map(({ seconds: _s, images_per_s: _i, ...m }) => m);
  for (const seed of [0, 1]) {
    assert.deepEqual(
      strip(readMetrics(`${root}/shared/baseline-seed${seed}`)),
      strip(readMetrics(`${root}/alone/baseline-seed${seed}`)),
    );
  }
  assert.match(Deno.readTextFileSync(`${root}/shared/compare.md`), /plain phase was trained once/);
  // the same command again reuses every run, forks included
  const again = await cli(args(`${root}/shared`, "baseline,hlgm"));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.match(/reusing the finished run/g)?.length, 4);

  // SGT from the plateau: forked from each HLGM run at its switch, into sgt-switch-seedS
  const sgt = await cli(args(`${root}/shared`, "baseline,sgt,hlgm", "--sgt-from", "switch"));
  assert.equal(sgt.code, 0, sgt.stderr);
  const c = JSON.parse(Deno.readTextFileSync(`${root}/shared/compare.json`));
  assert.equal(c.sgt_from, "switch");
  const sgtRuns = c.runs.filter((r: { method: string }) => r.method === "sgt");
  assert.deepEqual(sgtRuns.map((r: { dir: string }) => r.dir.split("/").pop()), [
    "sgt-switch-seed0",
    "sgt-switch-seed1",
  ]);
  for (const seed of [0, 1]) {
    const m = readMetrics(`${root}/shared/sgt-switch-seed${seed}`);
    assert.deepEqual(m.map((x) => x.mode), ["plain", "plain", "sgt", "sgt"]);
    const h = readMetrics(`${root}/shared/hlgm-seed${seed}`);
    assert.deepEqual(strip(m.slice(0, 2)), strip(h.slice(0, 2)));
  }
  assert.match(
    Deno.readTextFileSync(`${root}/shared/compare.md`),
    /SGT started at the HLGM run's switch/,
  );
  // an SGT run from scratch in that folder is refused, not taken for one from the switch
  const y = `${root}/y`;
  const scratch = await cli([
    "train",
    "--method",
    "sgt",
    ...settings,
    "--out",
    `${y}/sgt-switch-seed0`,
  ]);
  assert.equal(scratch.code, 0, scratch.stderr);
  const refused = await cli(args(y, "sgt,hlgm", "--sgt-from", "switch", "--seeds", "0"));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /sgt-switch-seed0 holds a run that was not forked from/);
});
