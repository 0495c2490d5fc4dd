// Ctrl-C and SIGTERM as a user sends them: real signals to a real `hlgm train` child process.
import assert from "node:assert/strict";
import { device, spawnCli, writeFakeFashionMnist } from "./helpers.ts";
import { defaultConfig } from "../src/train/config.ts";
import { train } from "../src/train/trainer.ts";

const metricsOf = (run: string) =>
  Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").filter((l) => l)
    .map((l) => JSON.parse(l));

/** Baseline on `subset` synthetic images in batches of 32, on one thread. */
const slow = (subset: number) => [
  "--device",
  "cpu",
  "--dataset",
  "synthetic",
  "--subset",
  String(subset),
  "--batch-size",
  "32",
  "--method",
  "baseline",
];

Deno.test("train: Ctrl-C stops after the batch, keeps the epoch's checkpoint, exits 130; --resume goes on", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-interrupt-" });
  try {
    const run = `${root}/run`;
    const child = spawnCli(["train", ...slow(4000), "--epochs", "3", "--out", run]);
    await child.waitFor(/^epoch 1\/3 /);
    child.process.kill("SIGINT");
    const r = await child.finish();
    assert.equal(r.code, 130, r.stderr);
    assert.match(
      r.stderr,
      /^Ctrl-C: stopping once the current batch, and any checkpoint due, is done/,
    );
    assert.match(
      r.stderr,
      new RegExp(
        `interrupted in epoch 2, batch \\d+; the checkpoint of epoch 1 is kept in ${run}; continue with .*--resume ${run}`,
      ),
    );
    assert.equal(r.stderr.trim().split("\n").length, 2, r.stderr);
    assert.equal(metricsOf(run).length, 1);
    assert.equal(JSON.parse(Deno.readTextFileSync(`${run}/checkpoints/last.json`)).epoch, 1);
    // resuming runs epochs 2 and 3 only
    const again = spawnCli(["train", "--resume", run]);
    const done = await again.finish();
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^epoch 2\/3 /m);
    assert.ok(!/^epoch 1\/3 /m.test(done.stdout), done.stdout);
    assert.deepEqual(metricsOf(run).map((m) => m.epoch), [1, 2, 3]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("train: SIGTERM before the first checkpoint exits 143 and says there is nothing to resume", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-interrupt-" });
  try {
    const run = `${root}/run`;
    const child = spawnCli(["train", ...slow(32000), "--epochs", "2", "--out", run]);
    await child.waitFor(/^training /);
    await new Promise((r) => setTimeout(r, 1500));
    child.process.kill("SIGTERM");
    const r = await child.finish();
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /^SIGTERM: stopping once the current batch/);
    assert.match(
      r.stderr,
      /interrupted in epoch 1, batch \d+, before the first checkpoint; nothing to resume/,
    );
    assert.equal(metricsOf(run).length, 0);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("train: a second Ctrl-C quits at once, leaving every written file whole", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-interrupt-" });
  try {
    // epochs of one training batch and a long evaluation on 30,000 test images: the first
    // Ctrl-C lands in epoch 2's evaluation, after which the run would write its checkpoint
    const data = `${root}/data`;
    writeFakeFashionMnist(data, 300, 30000);
    const run = `${root}/run`;
    const child = spawnCli([
      "train",
      "--device",
      "cpu",
      "--dataset",
      "fashion-mnist",
      "--data-dir",
      data,
      "--batch-size",
      "300",
      "--epochs",
      "3",
      "--method",
      "baseline",
      "--out",
      run,
    ]);
    await child.waitFor(/^training /);
    const t0 = performance.now();
    await child.waitFor(/^epoch 1\/3 /);
    // an epoch is one training batch (about 3% of its time) and the evaluation: a third of
    // epoch 1's time into epoch 2 is in its evaluation, however loaded the machine is
    await new Promise((r) => setTimeout(r, (performance.now() - t0) / 3));
    child.process.kill("SIGINT");
    await child.waitFor(/^Ctrl-C: stopping/);
    child.process.kill("SIGINT");
    const r = await child.finish();
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /^stopped at once$/m);
    // config and metrics parse; a checkpoint pointer, if written, names a whole checkpoint
    JSON.parse(Deno.readTextFileSync(`${run}/config.json`));
    assert.deepEqual(metricsOf(run).map((m) => m.epoch), [1]);
    assert.equal(JSON.parse(Deno.readTextFileSync(`${run}/checkpoints/last.json`)).epoch, 1);
    assert.ok(!r.stderr.includes("interrupted"), "it did not wait for the epoch to end");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("sib: Ctrl-C between batches keeps the runs already scored and exits 130", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-interrupt-" });
  try {
    const data = `${root}/data`;
    writeFakeFashionMnist(data, 300, 100);
    const runs = [`${root}/a`, `${root}/b`];
    for (const [i, run] of runs.entries()) {
      const config = defaultConfig({
        method: "baseline",
        dataset: "cluttered-fmnist",
        dataDir: data,
        subset: 128,
        epochs: 1,
        batchSize: 64,
        device,
        seed: i,
      });
      assert.equal((await train(config, run)).status, "completed");
    }
    // integrated gradients (50 steps) on 100 images in batches of 10: seconds per run
    const child = spawnCli([
      "sib",
      ...runs,
      "--data-dir",
      data,
      "--method",
      "integrated_gradients",
      "--n",
      "100",
      "--batch-size",
      "10",
      "--device",
      "cpu",
      "--out",
      `${root}/sib`,
    ]);
    // sib's default rule: these baselines never masked, so their best checkpoint, said so
    await child.waitFor(
      /^a: best-after-switch checkpoint \(epoch 1; no masked epoch: its best checkpoint\), 100 images in /,
    );
    child.process.kill("SIGINT");
    const r = await child.finish();
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /^Ctrl-C: stopping/m);
    assert.match(
      r.stderr,
      /^SIB of .*\/b interrupted after \d+ of 100 images; sib\.json written in the 1 run folder\(s\) scored before it$/m,
    );
    assert.equal(JSON.parse(Deno.readTextFileSync(`${runs[0]}/sib.json`)).n, 100);
    assert.throws(() => Deno.statSync(`${runs[1]}/sib.json`), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(`${root}/sib/sib.json`), Deno.errors.NotFound);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("sweep: Ctrl-C reaches the parallel runs, each keeps its checkpoint; the same command goes on", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-interrupt-" });
  try {
    const out = `${root}/sw`;
    const args = [
      "sweep",
      ...slow(2000),
      "--epochs",
      "3",
      "--grid",
      "lr=0.05,0.1",
      "--seeds",
      "0",
      "--parallel",
      "2",
      "--out",
      out,
    ];
    const runs = [`${out}/lr=0.05/seed0`, `${out}/lr=0.1/seed0`];
    const child = spawnCli(args);
    // both runs are training and one has finished its first epoch
    const epochs = (run: string) => {
      try {
        return metricsOf(run).length;
      } catch {
        return 0;
      }
    };
    while (!runs.some((r) => epochs(r) >= 1)) await new Promise((r) => setTimeout(r, 200));
    child.process.kill("SIGINT"); // to the sweep only: it passes the stop on to its runs
    const r = await child.finish();
    assert.equal(r.code, 130, r.stderr);
    assert.match(
      r.stderr,
      /sweep stopped: \d of 2 runs done; stopped runs keep their last checkpoint/,
    );
    for (const run of runs) assert.ok(epochs(run) < 3, `${run} stopped early`);
    // the same command resumes the stopped runs and finishes them
    const again = spawnCli(args);
    const done = await again.finish();
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /resuming .*lr=0\.(05|1)\/seed0/);
    for (const run of runs) assert.deepEqual(metricsOf(run).map((m) => m.epoch), [1, 2, 3]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
