/**
 * `hlgm faith`: two one-epoch runs on a tiny Fashion-MNIST (written here in the real idx format,
 * no boxes); the CLI's tables, faith.json per run and combined, the plots, agreement with the
 * library's metrics computed directly on the same images, the paired differences, repeatability
 * (the randomisation check leaves the weights as they were), and the argument errors.
 */

import assert from "node:assert/strict";
import { loadDataset } from "../src/data/registry.ts";
import { DataLoader } from "../src/data/loader.ts";
import { perturbationCurve } from "../src/metrics/deletion.ts";
import { pixelSaliency } from "../src/saliency/pixel_map.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { tidy } from "../src/tensor/engine.ts";
import type { Tensor } from "../src/tensor/tensor.ts";
import { loadRun } from "../src/train/load_run.ts";
import { evalTransforms } from "../src/train/setup.ts";
import { withRunNormalization } from "../src/train/normalization.ts";
import { pairedTTest } from "../src/util/stats.ts";
import { FAITH_METRICS, type FaithMetric } from "../src/runs/faith_defaults.ts";
import { faithOfRunCached } from "../src/runs/run_jobs.ts";
import { assertClose, device, NO_DATA, runCli, writeFakeFashionMnist } from "./helpers.ts";
import { tinyClutteredRun } from "./tiny_runs.ts";

const cli = (args: string[]) => runCli(args, { ...NO_DATA, HLGM_NUM_THREADS: "2" });

let fixture: Promise<{ root: string; data: string; runs: string[] }> | undefined;

/** One data folder and two runs, made once for every test of this file. */
function setup(): Promise<{ root: string; data: string; runs: string[] }> {
  fixture ??= (async () => {
    const root = Deno.makeTempDirSync({ prefix: "hlgm-faith-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    const data = `${root}/data`;
    writeFakeFashionMnist(data);
    const runs = [
      await tinyClutteredRun(root, data, "first", 0, "fashion-mnist"),
      await tinyClutteredRun(root, data, "second", 1, "fashion-mnist"),
    ];
    return { root, data, runs };
  })();
  return fixture;
}

interface FaithJson {
  metrics: string[];
  better: Record<string, string>;
  n: number;
  indices: number[];
  settings: { aopc?: { patch: number }; randomisation?: { layers: string[] } };
  runs: {
    name: string;
    epoch: number;
    summary: Record<string, { mean: number; ci95: [number, number] }>;
    per_image: Record<string, number[]>;
    curves: Record<string, { x: (number | string)[]; mean: number[] }>;
  }[];
  paired: { run: string; against: string; metric: string; test: { mean: number; p: number } }[];
}

Deno.test("faith: the tables, faith.json per run and combined, the plots; values equal the library's on the same images", async () => {
  const { root, data, runs } = await setup();
  const out = `${root}/faith-out`;
  const args = ["faith", ...runs, "--data-dir", data, "--n", "40", "--batch-size", "16"];
  const r = await cli([...args, "--out", out, "--device", device]);
  assert.equal(r.code, 0, r.stderr);
  for (const label of ["deletion AUC", "insertion AUC", "AOPC MoRF", "AOPC LeRF", "infidelity"]) {
    assert.match(r.stdout, new RegExp(`^${label} +(lower|higher) +\\S`, "m"), r.stdout);
  }
  assert.match(
    r.stdout,
    /Faithfulness \(saliency, 40 fashion-mnist test images, best-after-switch/,
  );
  assert.match(r.stdout, /Paired differences from first on the same images/);
  assert.match(r.stdout, /second - first/);

  const j: FaithJson = JSON.parse(Deno.readTextFileSync(`${out}/faith.json`));
  assert.deepEqual(j.metrics, [...FAITH_METRICS]);
  assert.equal(j.better.deletion, "lower");
  assert.equal(j.n, 40);
  assert.equal(j.indices.length, 40);
  assert.deepEqual(j.indices, [...j.indices].sort((a, b) => a - b));
  assert.equal(j.settings.aopc?.patch, 4, "28 x 28 images: 7 x 7 regions of 4 pixels");
  assert.deepEqual(j.settings.randomisation?.layers, ["fc2", "fc1", "conv2", "conv1"]);
  for (const run of j.runs) {
    for (const m of FAITH_METRICS) {
      assert.equal(run.per_image[m].length, 40, `${run.name} ${m}`);
      assert.ok(run.per_image[m].every(Number.isFinite), `${run.name} ${m}`);
      const mean = run.per_image[m].reduce((a, v) => a + v, 0) / 40;
      assertClose([run.summary[m].mean], [mean], { rtol: 1e-9 });
      assert.ok(run.summary[m].ci95[0] <= mean && mean <= run.summary[m].ci95[1]);
    }
    assert.equal(run.curves.deletion.x.length, 21);
    assert.deepEqual(run.curves.randomisation.x, ["fc2", "fc1", "conv2", "conv1"]);
    // the run folder's own faith.json holds the same values
    const own = JSON.parse(Deno.readTextFileSync(`${root}/${run.name}/faith.json`));
    assert.deepEqual(own.per_image, run.per_image);
  }
  // paired: second - first, image by image
  const del = j.paired.find((p) => p.metric === "deletion")!;
  assert.equal(del.run, "second");
  assert.equal(del.against, "first");
  const t = pairedTTest(j.runs[1].per_image.deletion, j.runs[0].per_image.deletion);
  assertClose([del.test.mean, del.test.p], [t.mean, t.p!], { rtol: 1e-9 });

  // the deletion AUC, computed here with the library on the same images and checkpoint
  const loaded = loadRun(runs[0], { which: "best-after-switch", device });
  try {
    const ds = withRunNormalization(
      loaded.info.config,
      await loadDataset("fashion-mnist", { split: "test", dataDir: data, seed: 0 }),
    );
    using loader = new DataLoader(ds, {
      batchSize: 40,
      shuffle: false,
      device,
      transforms: evalTransforms(loaded.info.config, ds),
    });
    const [del, ins] = tidy(() => {
      const b = loader.batchOf(j.indices);
      const map = pixelSaliency(new Saliency(loaded.model).attribute(b.x, { target: b.y }));
      const forward = (x: Tensor) => loaded.model.forward(x);
      return [
        perturbationCurve(forward, b.x, map, b.y).auc,
        perturbationCurve(forward, b.x, map, b.y, { mode: "insertion" }).auc,
      ];
    });
    assertClose(del, j.runs[0].per_image.deletion, { rtol: 1e-4, atol: 1e-6 });
    assertClose(ins, j.runs[0].per_image.insertion, { rtol: 1e-4, atol: 1e-6 });
    // insertion ends on the image itself, where deletion starts
    const curves = j.runs[0].curves;
    assertClose([curves.insertion.mean.at(-1)!], [curves.deletion.mean[0]], { rtol: 1e-5 });
  } finally {
    loaded.model.dispose();
  }

  for (const stem of ["faith_deletion", "faith_insertion", "faith_randomisation"]) {
    const svg = Deno.readTextFileSync(`${out}/${stem}.svg`);
    assert.equal(svg.match(/class="series"/g)?.length, 2, stem);
    assert.equal(svg.match(/class="band"/g)?.length, 2, stem);
    assert.ok(Deno.statSync(`${out}/${stem}.png`).size > 1000, stem);
  }

  // the report of the two runs shows the table and the curves from their faith.json
  const rep = await cli(["report", ...runs, "--out", `${root}/report`, "--no-saliency"]);
  assert.equal(rep.code, 0, rep.stderr);
  const html = Deno.readTextFileSync(`${root}/report/index.html`);
  assert.match(html, /<h3>Faithfulness of the saliency maps<\/h3>/);
  assert.match(html, /<td>deletion AUC<\/td><td>lower<\/td><td>[\d.]+ \[/);
  for (const stem of ["deletion", "insertion", "randomisation"]) {
    assert.ok(Deno.statSync(`${root}/report/compare-faith_${stem}.png`).size > 1000, stem);
  }

  // the same command again gives the same numbers (the check restored every weight)
  const again = await cli([...args, "--out", `${root}/faith-again`, "--device", device]);
  assert.equal(again.code, 0, again.stderr);
  const j2: FaithJson = JSON.parse(Deno.readTextFileSync(`${root}/faith-again/faith.json`));
  assert.deepEqual(j2.runs.map((x) => x.per_image), j.runs.map((x) => x.per_image));
});

Deno.test("faith: --metrics picks scores; bad arguments exit 2 naming the problem", async () => {
  const { root, data, runs } = await setup();
  const out = `${root}/faith-some`;
  const r = await cli([
    "faith",
    runs[0],
    "--data-dir",
    data,
    "--n",
    "8",
    "--metrics",
    "insertion,deletion",
    "--out",
    out,
    "--device",
    device,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j: FaithJson = JSON.parse(Deno.readTextFileSync(`${out}/faith.json`));
  assert.deepEqual(j.metrics, ["deletion", "insertion"], "in the table's order");
  assert.deepEqual(j.paired, []);
  assert.doesNotMatch(r.stdout, /Paired differences/);
  assert.deepEqual(Object.keys(j.runs[0].per_image).sort(), ["deletion", "insertion"]);

  const bad = await cli(["faith", runs[0], "--data-dir", data, "--metrics", "deletion,pointing"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--metrics: unknown faithfulness score "pointing"; expected deletion/);
  const zero = await cli(["faith", runs[0], "--n", "0"]);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--n must be a positive integer, got "0"/);
  const notRun = await cli(["faith", root]);
  assert.equal(notRun.code, 2);
  assert.match(notRun.stderr, /not a run folder \(no config\.json\)/);
});

Deno.test("faith cache: a run's faith.json is reused for the same choice, and scored again when it was made with other settings", async () => {
  const { runs } = await setup();
  const dir = runs[0];
  const choice = {
    n: 8,
    metrics: ["deletion", "insertion"] as FaithMetric[],
    method: "saliency" as const,
    checkpoint: "last" as const,
    device,
  };
  const first = await faithOfRunCached(dir, choice);
  assert.equal(first.cached, false);
  assert.equal((await faithOfRunCached(dir, choice)).cached, true);
  // a faith.json from a version with other deletion steps is stale: scored again, rewritten
  const file = `${dir}/faith.json`;
  const old = JSON.parse(Deno.readTextFileSync(file));
  old.settings.deletion = { ...old.settings.deletion, steps: 10 };
  Deno.writeTextFileSync(file, JSON.stringify(old));
  const again = await faithOfRunCached(dir, choice);
  assert.equal(again.cached, false);
  assert.equal(JSON.parse(Deno.readTextFileSync(file)).settings.deletion.steps, 20);
  assert.deepEqual(again.faith.per_image, first.faith.per_image);
});
