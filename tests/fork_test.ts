import assert from "node:assert/strict";
import {
  defaultConfig,
  type EpochMetrics,
  fork,
  lockRunFolder,
  openRunDir,
  RunPlanError,
  SettingError,
  train,
  type TrainConfig,
} from "../mod.ts";
import { loadSafetensors } from "../src/checkpoint/safetensors.ts";
import { device, runCli } from "./helpers.ts";

/** A tiny run: the shallow CNN (Adadelta, as Table I) on 384 synthetic images. */
const tiny = (over: Partial<TrainConfig> = {}) =>
  defaultConfig({
    dataset: "synthetic",
    subset: 384,
    epochs: 4,
    batchSize: 64,
    episodeSize: 2,
    device,
    ...over,
  });

/** The metrics without the timings, which no two runs share. */
const strip = (ms: readonly EpochMetrics[]) =>
  ms.map(({ seconds: _s, images_per_s: _i, ...m }) => m);

/** Every tensor of the last checkpoint's weights, as numbers. */
function lastWeights(dir: string): Map<string, number[]> {
  const run = openRunDir(dir);
  const file = `${run.checkpoints.folder}/${run.checkpoints.readLast()!.weights}`;
  const { tensors } = loadSafetensors(file, { device: "cpu" });
  const out = new Map<string, number[]>();
  for (const [k, t] of tensors) {
    out.set(k, [...t.toArray() as Iterable<number>]);
    t.dispose();
  }
  return out;
}

async function withDirs(n: number, f: (...dirs: string[]) => Promise<void>): Promise<void> {
  const dirs = await Promise.all(Array.from({ length: n }, () => Deno.makeTempDir()));
  try {
    await f(...dirs);
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
}

Deno.test("fork: a baseline forked from an HLGM run at its switch is the baseline trained from scratch, epoch for epoch and weight for weight", async () => {
  await withDirs(3, async (hlgmDir, baseDir, forkDir) => {
    await train(tiny({ method: "hlgm", switchEpoch: 2 }), hlgmDir);
    const scratch = await train(tiny({ method: "baseline", switchEpoch: 2 }), baseDir);
    const forked = await fork(hlgmDir, forkDir, {
      at: "switch",
      settings: { method: "baseline" },
    });
    assert.equal(forked.status, "completed");
    const hlgmModes = openRunDir(hlgmDir).readMetrics().map((m) => m.mode);
    assert.deepEqual(hlgmModes, ["plain", "plain", "regularize", "denoise"]);
    assert.deepEqual(strip(forked.metrics), strip(scratch.metrics));
    assert.deepEqual(strip(openRunDir(forkDir).readMetrics()), strip(scratch.metrics));
    assert.deepEqual(lastWeights(forkDir), lastWeights(baseDir));
    const info = openRunDir(forkDir).readInfo();
    assert.equal(info.config.method, "baseline");
    assert.deepEqual(info.forkedFrom, {
      run: hlgmDir,
      epoch: 2,
      at: "switch",
      changed: ['method "hlgm" -> "baseline"'],
      differs: null,
    });
  });
});

Deno.test("fork: the copied checkpoint keeps the fork's record (its schedule), so a lost last.json is rebuilt as the fork's", async () => {
  await withDirs(2, async (hlgmDir, forkDir) => {
    await train(tiny({ method: "hlgm", switchEpoch: 2, epochs: 3 }), hlgmDir);
    // epochs 2: the switch's checkpoint is copied and nothing trains
    const copy = await fork(hlgmDir, forkDir, {
      at: "switch",
      settings: { method: "baseline", epochs: 2 },
    });
    assert.equal(copy.metrics.length, 2);
    const lastFile = `${forkDir}/checkpoints/last.json`;
    const record = JSON.parse(Deno.readTextFileSync(lastFile));
    assert.equal(
      record.schedule.phase,
      "train",
      "the baseline's schedule, not HLGM's switched one",
    );
    const source = JSON.parse(
      Deno.readTextFileSync(`${hlgmDir}/checkpoints/kept/epoch-0002/last.json`),
    );
    assert.equal(source.schedule.phase, "sgt");
    assert.deepEqual({ ...record, schedule: source.schedule }, source);
    Deno.writeTextFileSync(lastFile, "{");
    const rebuilt = openRunDir(forkDir).checkpoints.lastCheckpoint()!;
    assert.match(rebuilt.note!, /newest checkpoint that loads/);
    assert.deepEqual(rebuilt.state, record);
  });
});

Deno.test("fork: HLGM forked from a baseline's kept epoch E with switchEpoch E is the HLGM run from scratch (Adadelta state, RNG of the random fills)", async () => {
  await withDirs(3, async (baseDir, hlgmDir, forkDir) => {
    const base = await train(tiny({ method: "baseline", keepEvery: 2 }), baseDir);
    assert.deepEqual(
      [...Deno.readDirSync(`${baseDir}/checkpoints/kept`)].map((e) => e.name).sort(),
      ["epoch-0002", "epoch-0004"],
    );
    assert.equal(base.metrics.length, 4);
    const scratch = await train(tiny({ method: "hlgm", switchEpoch: 2 }), hlgmDir);
    const forked = await fork(baseDir, forkDir, {
      at: 2,
      settings: { method: "hlgm", switchEpoch: 2 },
    });
    assert.deepEqual(
      forked.metrics.map((m) => m.mode),
      ["plain", "plain", "regularize", "denoise"],
    );
    assert.deepEqual(strip(forked.metrics), strip(scratch.metrics));
    assert.deepEqual(lastWeights(forkDir), lastWeights(hlgmDir));
    // the masked epochs drew random fills: the same numbers, from the restored generator
    assert.ok(forked.metrics[3].train_kl > 0);
    const info = openRunDir(forkDir).readInfo();
    assert.deepEqual(info.forkedFrom?.changed, [
      'method "baseline" -> "hlgm"',
      "switchEpoch null -> 2",
    ]);
    assert.equal(info.forkedFrom?.at, "epoch");
    assert.equal(info.forkedFrom?.differs, null);
  });
});

Deno.test("fork: SGT from an HLGM run's switch masks from the plateau on, keeps the plain records and says its schedule differs before the fork", async () => {
  await withDirs(2, async (hlgmDir, forkDir) => {
    const source = await train(tiny({ method: "hlgm", switchEpoch: 2 }), hlgmDir);
    const forked = await fork(hlgmDir, forkDir, { at: "switch", settings: { method: "sgt" } });
    assert.deepEqual(forked.metrics.map((m) => m.mode), ["plain", "plain", "sgt", "sgt"]);
    assert.deepEqual(strip(forked.metrics.slice(0, 2)), strip(source.metrics.slice(0, 2)));
    const info = openRunDir(forkDir).readInfo();
    assert.match(info.forkedFrom!.differs!, /2 epochs from 1 to 2.*epoch 1: sgt k=0\.5.*ran plain/);
    // best-after-switch is chosen among the fork's masked epochs only
    const after = openRunDir(forkDir).checkpoints.resolveCheckpoint("best-after-switch");
    assert.ok(after.epoch >= 3, `best-after-switch epoch ${after.epoch}`);
  });
});

Deno.test("fork: refusals name what to do: another setting, an epoch not kept, no switch, the source itself, too few epochs, a busy source", async () => {
  await withDirs(3, async (hlgmDir, baseDir, forkDir) => {
    await train(tiny({ method: "hlgm", switchEpoch: 2 }), hlgmDir);
    await train(tiny({ method: "baseline", epochs: 2 }), baseDir);
    await assert.rejects(
      () => fork(hlgmDir, forkDir, { at: "switch", settings: { lr: 1, method: "baseline" } }),
      (e) =>
        e instanceof SettingError && e.settings.includes("lr") &&
        /keeps its lr \(0\.1/.test(e.message),
    );
    await assert.rejects(
      () => fork(hlgmDir, forkDir, { at: 3 }),
      (e) =>
        e instanceof RunPlanError &&
        /state of epoch 3 was not kept.*epochs 2, 4 \(a run keeps more with keepEvery\)/.test(
          e.message,
        ),
    );
    await assert.rejects(
      () => fork(baseDir, forkDir, { at: "switch" }),
      /is a baseline run: only hlgm switches/,
    );
    await assert.rejects(() => fork(hlgmDir, hlgmDir, {}), /is the run forked from/);
    await assert.rejects(
      () => fork(hlgmDir, forkDir, { at: "last", settings: { epochs: 3 } }),
      (e) => e instanceof SettingError && /at least that epoch.*epochs is 3/.test(e.message),
    );
    const lock = lockRunFolder(baseDir, "train");
    try {
      await assert.rejects(
        () => fork(baseDir, forkDir, { settings: { epochs: 3 } }),
        (e) => e instanceof RunPlanError && e.refusal === "source-busy",
      );
    } finally {
      lock.release();
    }
    // nothing was written by the refusals
    assert.deepEqual([...Deno.readDirSync(forkDir)].filter((e) => e.name !== ".hlgm-lock"), []);
    // a fork of the last epoch with no more epochs copies the run and trains nothing
    const copy = await fork(baseDir, forkDir, {});
    assert.equal(copy.metrics.length, 2);
    await assert.rejects(() => fork(baseDir, forkDir, {}), /already holds a run/);
  });
});

Deno.test("fork CLI: --fork RUN@switch trains the fork; an epoch not kept or a setting a fork cannot change exits 2 naming it", async () => {
  await withDirs(2, async (hlgmDir, root) => {
    await train(tiny({ method: "hlgm", switchEpoch: 2, epochs: 3 }), hlgmDir);
    const out = `${root}/baseline`;
    const ok = await runCli([
      "train",
      "--fork",
      `${hlgmDir}@switch`,
      "--method",
      "baseline",
      "--out",
      out,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`forking ${hlgmDir} after its epoch 2 \\(its switch\\)`));
    assert.match(ok.stdout, /changed: method "hlgm" -> "baseline"/);
    // its start line: training (not resuming) the fork's own epochs
    assert.match(ok.stdout, /^training baseline on .*; epoch 3 of 3 on /m);
    assert.deepEqual(openRunDir(out).readMetrics().map((m) => m.mode), ["plain", "plain", "plain"]);
    // `hlgm runs` says where a fork came from
    const list = await runCli(["runs", root]);
    assert.match(list.stdout, new RegExp(`^baseline .*complete, forked from ${hlgmDir}@2$`, "m"));
    const json = JSON.parse((await runCli(["runs", root, "--json"])).stdout);
    assert.deepEqual(json[0].forkedFrom, { run: hlgmDir, epoch: 2 });
    const notKept = await runCli(["train", "--fork", `${hlgmDir}@1`, "--out", `${root}/x`]);
    assert.equal(notKept.code, 2);
    assert.match(notKept.stderr, /state of epoch 1 was not kept.*epochs 2, 3.*--keep-every/);
    const lr = await runCli(["train", "--fork", hlgmDir, "--lr", "1", "--out", `${root}/y`]);
    assert.equal(lr.code, 2);
    assert.match(lr.stderr, /keeps its --lr \(0\.1, given 1\)/);
    const both = await runCli(["train", "--fork", hlgmDir, "--resume", hlgmDir]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give one/);
  });
});
