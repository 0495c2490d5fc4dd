import assert from "node:assert/strict";
import {
  advance,
  defaultConfig,
  describeSchedule,
  type EpochPlan,
  initialState,
  openRunDir,
  planEpoch,
  previewSchedule,
  type ScheduleConfig,
  train,
} from "../mod.ts";
import { device, hlgmSchedule } from "./helpers.ts";
import { Flatten, Linear } from "../src/nn/layers.ts";
import { Sequential } from "../src/nn/module.ts";
import { SGD } from "../src/optim/sgd.ts";
import { maskBySaliency } from "../src/masking/mask.ts";
import { pixelSaliency } from "../src/saliency/pixel_map.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { manualSeed, randn, tensor } from "../src/tensor/create.ts";
import { crossEntropy } from "../src/tensor/functional.ts";
import { noGrad } from "../src/tensor/autograd.ts";
import { maskedInputs, trainStep } from "../src/train/steps.ts";
import { attributionFn } from "../src/saliency/registry.ts";
import { tidy } from "../src/tensor/engine.ts";

const hlgm = hlgmSchedule;

Deno.test("schedule: HLGM's exact (phase, mode, k) sequence for S=3, de=1, alpha=.02, switch at 2", () => {
  const got = previewSchedule(hlgm({ switchEpoch: 2 }), 12).map((p) => `${p.mode}:${p.k}`);
  assert.deepEqual(got, [
    "plain:null",
    "plain:null",
    "regularize:0.2", // episode 0: de = 1 -> 2 regularize, 1 denoise
    "regularize:0.18",
    "denoise:0.5",
    "regularize:0.16", // episode 1: de = 2
    "denoise:0.5",
    "denoise:0.5",
    "denoise:0.5", // episode 2: de = 3 = S: only denoising from here on
    "denoise:0.5",
    "denoise:0.5",
    "denoise:0.5",
  ]);
  const phases = previewSchedule(hlgm({ switchEpoch: 2 }), 4).map((p) => p.phase);
  assert.deepEqual(phases, ["train", "train", "sgt", "sgt"]);
});

Deno.test("schedule: --switch-by switches at the plateau or by its epoch, whichever is first", () => {
  const phases = (over: Partial<ScheduleConfig>, accs: number[]) => {
    const c = hlgm(over);
    let state = initialState(c);
    return accs.map((valAcc, i) => {
      const plan = planEpoch(c, state);
      state = advance(c, state, plan, { epoch: i + 1, valAcc, valLoss: 1, trainLoss: 1 });
      return plan.phase === "train" ? "P" : "M";
    }).join("");
  };
  const rising = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
  // no plateau: the plateau rule alone never switches, switch-by 4 switches after epoch 4
  assert.equal(phases({ patience: 2 }, rising), "PPPPPPP");
  assert.equal(phases({ patience: 2, switchBy: 4 }, rising), "PPPPMMM");
  // a plateau after epoch 3 (epochs 3 and 4 do not improve on 0.2) comes before switch-by 6
  const flat = [0.1, 0.2, 0.2, 0.15, 0.5, 0.6, 0.7];
  assert.equal(phases({ patience: 2, switchBy: 6 }, flat), "PPPPMMM");
  assert.equal(phases({ patience: 2 }, flat), "PPPPMMM");
  assert.match(
    describeSchedule(hlgm({ patience: 2, switchBy: 8 }), 14),
    /stops improving for 2 epochs \(at most until epoch 8\)/,
  );
});

Deno.test("schedule: --k-top-decay before drops k_t by alpha before each regularize epoch masks (Algorithm 2)", () => {
  const got = previewSchedule(hlgm({ switchEpoch: 2, kTopDecay: "before" }), 8)
    .map((p) => `${p.mode}:${p.k}`);
  assert.deepEqual(got, [
    "plain:null",
    "plain:null",
    "regularize:0.18", // k_t = 0.2 - 0.02, then mask
    "regularize:0.16",
    "denoise:0.5",
    "regularize:0.14",
    "denoise:0.5",
    "denoise:0.5",
  ]);
  // the default reads the prose: mask with k_t, then drop it
  assert.deepEqual(
    previewSchedule(hlgm({ switchEpoch: 2, kTopDecay: "after" }), 8).map((p) => p.k),
    previewSchedule(hlgm({ switchEpoch: 2 }), 8).map((p) => p.k),
  );
});

Deno.test("schedule: --min-delta counts only improvements larger than it toward the plateau", () => {
  const run = (minDelta: number, values: number[]) => {
    const c = hlgm({ patience: 2, minDelta });
    let s = initialState(c);
    const plateaus: number[] = [];
    values.forEach((v, i) => {
      s = advance(c, s, planEpoch(c, s), { epoch: i + 1, valAcc: v, valLoss: 1, trainLoss: 1 });
      plateaus.push(s.plateau);
    });
    return { plateaus, phase: s.phase, best: s.best };
  };
  // small steps: all improvements with min-delta 0; with 0.01 only the jump past 0.81 counts
  const rising = [0.8, 0.805, 0.812, 0.817];
  assert.deepEqual(run(0, rising), { plateaus: [0, 0, 0, 0], phase: "train", best: 0.817 });
  assert.deepEqual(run(0.01, rising), { plateaus: [0, 1, 0, 1], phase: "train", best: 0.812 });
  assert.equal(
    run(0.01, [0.8, 0.805, 0.809, 0.8095]).phase,
    "sgt",
    "two epochs under 0.01: switch",
  );
});

Deno.test("schedule: --episode-order pseudocode regularizes S - de - 1 epochs per episode (Algorithm 2's episode++ before the test)", () => {
  const modes = (episodeOrder?: "prose" | "pseudocode", over: Partial<ScheduleConfig> = {}) =>
    previewSchedule(hlgm({ switchEpoch: 2, episodeSize: 4, episodeOrder, ...over }), 16)
      .map((p) => `${p.mode}:${p.k}`);
  const plain = ["plain:null", "plain:null"];
  const den = "denoise:0.5";
  // the prose (default): S - de regularize epochs, then de denoise epochs; de = 1, 2, 3, 4
  assert.deepEqual(modes("prose"), [
    ...plain,
    ...["regularize:0.2", "regularize:0.18", "regularize:0.16", den], // episode 0, de 1
    ...["regularize:0.14", "regularize:0.12", den, den], // episode 1, de 2
    ...["regularize:0.1", den, den, den], // episode 2, de 3
    ...[den, den], // episode 3, de 4: all denoise
  ]);
  assert.deepEqual(modes(undefined), modes("prose"));
  // Algorithm 2: the 1-based counter regularizes while episode < S - de: one fewer each episode,
  // and all-denoise episodes come one earlier (de = S - 1)
  assert.deepEqual(modes("pseudocode"), [
    ...plain,
    ...["regularize:0.2", "regularize:0.18", den, den], // episode 0, de 1
    ...["regularize:0.16", den, den, den], // episode 1, de 2
    ...[den, den, den, den], // episode 2, de 3
    ...[den, den], // episode 3, de 4
  ]);
  // episodes keep S epochs and the same de in both readings
  const where = (episodeOrder: "prose" | "pseudocode") =>
    previewSchedule(hlgm({ switchEpoch: 2, episodeSize: 4, episodeOrder }), 16)
      .map((p) => `${p.episode}/${p.de}`);
  assert.deepEqual(where("pseudocode"), where("prose"));
  // all of Algorithm 2 (k_t drops before masking too), and de0 = 0: S - 1 regularize epochs
  assert.deepEqual(modes("pseudocode", { kTopDecay: "before" }).slice(2, 7), [
    "regularize:0.18",
    "regularize:0.16",
    den,
    den,
    "regularize:0.14",
  ]);
  assert.deepEqual(modes("pseudocode", { de: 0 }).slice(2, 7), [
    "regularize:0.2",
    "regularize:0.18",
    "regularize:0.16",
    den,
    "regularize:0.14",
  ]);
  assert.match(
    describeSchedule(hlgm({ episodeOrder: "pseudocode" }), 10),
    /then 2\+ denoise epochs/,
  );
  assert.match(describeSchedule(hlgm(), 10), /then 1\+ denoise epochs/);
});

Deno.test("schedule: k_top never goes below 0; S=5, de=0 starts with 5 regularize epochs", () => {
  const plans = previewSchedule(hlgm({ switchEpoch: 1, episodeSize: 5, de: 0, alpha: 0.08 }), 6);
  assert.deepEqual(plans.map((p) => p.k), [null, 0.2, 0.12, 0.04, 0, 0]);
  assert.deepEqual(plans.map((p) => p.mode), [
    "plain",
    "regularize",
    "regularize",
    "regularize",
    "regularize",
    "regularize",
  ]);
});

Deno.test("schedule: baseline is always plain, sgt always masks the bottom k", () => {
  assert.ok(
    previewSchedule(hlgm({ method: "baseline" }), 5).every((p) =>
      p.mode === "plain" && p.k === null
    ),
  );
  assert.ok(
    previewSchedule(hlgm({ method: "sgt" }), 5).every((p) =>
      p.mode === "sgt" && p.k === 0.5 && p.phase === "sgt"
    ),
  );
});

Deno.test("schedule: plateau detection switches after `patience` epochs without improvement", () => {
  const cfg = hlgm({ patience: 2 });
  let s = initialState(cfg);
  const valAccs = [0.5, 0.6, 0.6, 0.59, 0.7];
  const phases: string[] = [];
  valAccs.forEach((v, i) => {
    const plan = planEpoch(cfg, s);
    phases.push(plan.phase);
    s = advance(cfg, s, plan, { epoch: i + 1, valAcc: v, valLoss: null, trainLoss: 1 });
  });
  // epoch 3 (0.6, not better) and 4 (0.59) make 2 epochs without improvement: epoch 5 is sgt
  assert.deepEqual(phases, ["train", "train", "train", "train", "sgt"]);
  // a loss monitor improves downwards
  const lossCfg = hlgm({ patience: 1, monitor: "train_loss" });
  let t = initialState(lossCfg);
  for (const [i, l] of [1.0, 0.9, 0.95].entries()) {
    t = advance(lossCfg, t, planEpoch(lossCfg, t), {
      epoch: i + 1,
      valAcc: null,
      valLoss: null,
      trainLoss: l,
    });
  }
  assert.equal(t.phase, "sgt");
  assert.equal(t.best, 0.9);
});

const tiny = (method: "baseline" | "sgt" | "hlgm") =>
  defaultConfig({
    method,
    dataset: "synthetic",
    subset: 384,
    epochs: 3,
    batchSize: 64,
    switchEpoch: 1,
    episodeSize: 2,
    device,
  });

for (const method of ["baseline", "sgt", "hlgm"] as const) {
  Deno.test(`train: a 3-epoch ${method} run writes config, metrics and checkpoints`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const r = await train(tiny(method), dir);
      assert.equal(r.status, "completed");
      const run = openRunDir(dir);
      const lines = run.readMetrics();
      assert.equal(lines.length, 3);
      const modes = lines.map((l) => l.mode);
      assert.deepEqual(
        modes,
        {
          baseline: ["plain", "plain", "plain"],
          sgt: ["sgt", "sgt", "sgt"],
          hlgm: ["plain", "regularize", "denoise"],
        }[method],
      );
      for (const l of lines) {
        for (
          const key of [
            "train_loss",
            "train_acc",
            "val_loss",
            "val_acc",
            "test_loss",
            "test_acc",
            "seconds",
            "images_per_s",
            "lr",
          ] as const
        ) {
          assert.ok(Number.isFinite(l[key]), `${key} = ${l[key]}`);
        }
        assert.ok(l.test_acc >= 0 && l.test_acc <= 1);
      }
      if (method !== "baseline") {
        assert.ok(lines.at(-1)!.train_kl > 0, "masked epochs add a KL term");
      }
      // accuracy and loss on the masked inputs: numbers in masked epochs, null in plain ones
      for (const l of lines) {
        if (l.mode === "plain") {
          assert.equal(l.train_masked_acc, null);
          assert.equal(l.train_masked_loss, null);
        } else {
          assert.ok(l.train_masked_acc! >= 0 && l.train_masked_acc! <= 1, `${l.train_masked_acc}`);
          assert.ok(
            l.train_masked_loss! > 0 && Number.isFinite(l.train_masked_loss),
            `${l.train_masked_loss}`,
          );
        }
      }
      assert.ok(lines.at(-1)!.test_acc > 0.2, `learns above chance: ${lines.at(-1)!.test_acc}`);
      const info = run.readInfo();
      assert.equal(info.config.method, method);
      assert.deepEqual(info.data.shape, [1, 28, 28]);
      assert.equal(run.checkpoints.readLast()!.epoch, 3);
      const files = [...Deno.readDirSync(run.checkpoints.folder)].map((e) => e.name).sort();
      assert.ok(files.includes("last.json") && files.includes("best.json"), files.join());
      assert.ok(
        files.filter((f) => f.endsWith(".state.safetensors")).length === 1,
        "old checkpoints are pruned",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("train: a run stopped after epoch 2 and resumed ends with the same metrics", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    const config = tiny("hlgm");
    const whole = await train(config, a);
    let epochs = 0;
    const stopped = await train(config, b, {
      onEpoch: () => epochs++,
      shouldStop: () => epochs >= 2,
    });
    assert.equal(stopped.status, "interrupted");
    assert.equal(openRunDir(b).checkpoints.readLast()!.epoch, 2);
    const resumed = await train(config, b, { resume: true });
    const strip = (ms: typeof whole.metrics) =>
      ms.map(({ seconds: _s, images_per_s: _i, ...m }) => m);
    assert.deepEqual(strip(resumed.metrics), strip(whole.metrics));
    assert.deepEqual(strip(openRunDir(b).readMetrics()), strip(whole.metrics));
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("train CLI: bad values, unknown names and missing paths exit 2 with one line", async () => {
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  for (
    const [args, pattern] of [
      [["--val-fraction", "1.5"], /val-fraction must be in \[0, 1\)/],
      [["--epochs", "-3"], /epochs must be a positive integer/],
      [["--method", "magic"], /method must be one of baseline, sgt, hlgm/],
      [["--model", "vgg"], /model must be one of/],
      [["--k-bottom", "2"], /k-bottom must be in \[0, 1\]/],
      [["--data-dir", "/nonexistent/data"], /data-dir \/nonexistent\/data does not exist/],
      [["--config", "/nonexistent.json"], /--config \/nonexistent\.json: cannot read/],
      [["--resume", "/nonexistent-run"], /not a run folder/],
      [["--bogus"], /unknown option '--bogus'/],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "train", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 2, `${args.join(" ")}: ${err}`);
    assert.equal(err.split("\n").length, 1, err);
    assert.match(err, pattern);
  }
});

Deno.test("train: a NaN/Inf loss stops the run with a clear message and keeps the last good checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = defaultConfig({
      method: "baseline",
      dataset: "synthetic",
      subset: 384,
      epochs: 4,
      batchSize: 64,
      device,
      optimizer: "sgd",
      momentum: 0,
      lr: 1e4, // the weights blow up within a few steps
    });
    const r = await train(config, dir);
    assert.equal(r.status, "diverged");
    const m = r.message!.match(
      /^loss became (NaN|Infinity|-Infinity) at epoch (\d+), batch \d+; stopped\./,
    );
    assert.ok(m, r.message ?? "no message");
    const epoch = Number(m[2]);
    const last = openRunDir(dir).checkpoints.readLast();
    if (epoch === 1) {
      assert.equal(last, null);
      assert.match(r.message!, /no checkpoint was written yet/);
    } else {
      assert.equal(last!.epoch, epoch - 1);
      assert.match(r.message!, new RegExp(`last good checkpoint \\(epoch ${epoch - 1}\\) is kept`));
    }
    assert.equal(openRunDir(dir).readMetrics().length, epoch - 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train step: the masked inputs' cross-entropy and hits are those of the masked batch the step trains on", () => {
  manualSeed(5);
  // no dropout or batch norm: the train-mode forward is deterministic
  const model = new Sequential(new Flatten(), new Linear(16, 3));
  const x = randn([6, 1, 4, 4]);
  const y = tensor([0, 1, 2, 0, 1, 2], { dtype: "int64" });
  const saliency = new Saliency(model);
  // what the step will see, computed before it changes the weights
  const map = pixelSaliency(saliency.attribute(x, { target: y }), { reduction: "mean" });
  const masked = maskBySaliency(x, map, "bottom", { fraction: 0.5, fill: "zero" }).masked;
  model.train();
  const [ce, hits] = noGrad(() => {
    const logits = model.forward(masked);
    return [crossEntropy(logits, y).item(), logits.argmax(1).eq(y).sum().item()];
  });
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  const r = trainStep(
    { model, optimizer, lambda: 1, saliency, reduction: "mean", fill: "zero" },
    x,
    y,
    { phase: "sgt", mode: "sgt", k: 0.5, de: null, episode: null },
  );
  assert.ok(Math.abs(r.maskedCe - ce) < 1e-6, `${r.maskedCe} vs ${ce}`);
  assert.equal(r.maskedCorrect, hits);
  const plain = trainStep(
    { model, optimizer, lambda: 1, saliency, reduction: "mean", fill: "zero" },
    x,
    y,
    { phase: "train", mode: "plain", k: null, de: null, episode: null },
  );
  assert.ok(Number.isNaN(plain.maskedCe));
  assert.equal(plain.maskedCorrect, 0);
  optimizer.dispose();
  model.dispose();
});

const regularize = (k: number): EpochPlan => ({
  phase: "sgt",
  mode: "regularize",
  k,
  de: 1,
  episode: 0,
});
const denoise = (k: number): EpochPlan => ({ phase: "sgt", mode: "denoise", k, de: 1, episode: 0 });

Deno.test("masking: --saliency-sign abs ranks |attribution|, signed the signed channel mean", () => {
  tidy(() => {
    // one sample, 2 channels, 2x3 pixels
    const attr = tensor([[
      [[3, -4, 1], [-1, 0.5, 2]],
      [[1, -2, 1], [-5, 0.5, 0.4]],
    ]], { device });
    // channel mean of |a|: [[2, 3, 1], [3, 0.5, 1.2]]; of a: [[2, -3, 1], [-3, 0.5, 1.2]]
    const x = tensor([[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]], { device });
    const masked = (saliencySign: "abs" | "signed" | undefined, plan: EpochPlan) =>
      maskedInputs(x, attr, plan, { reduction: "mean", saliencySign, fill: "zero" });
    const pixels = (saliencySign: "abs" | "signed" | undefined, plan: EpochPlan) => {
      const m = masked(saliencySign, plan).mask;
      // whole pixels: both channels alike
      assert.deepEqual(m.select(1, 1).toArray(), m.select(1, 0).toArray());
      return m.select(0, 0).select(0, 0).toArray();
    };
    const [T, F] = [true, false];
    const k = 1 / 3; // 2 of 6 pixels
    assert.deepEqual(pixels("abs", regularize(k)), [[F, T, F], [T, F, F]]); // the two 3s
    assert.deepEqual(pixels("signed", regularize(k)), [[T, F, F], [F, F, T]]); // 2 and 1.2
    assert.deepEqual(pixels("abs", denoise(k)), [[F, F, T], [F, T, F]]); // 1 and 0.5
    assert.deepEqual(pixels("signed", denoise(k)), [[F, T, F], [T, F, F]]); // the two -3s
    assert.deepEqual(pixels(undefined, regularize(k)), pixels("abs", regularize(k)));
    assert.deepEqual(masked("signed", regularize(k)).masked.toArray(), [[
      [[0, 2, 3], [4, 5, 0]],
      [[0, 8, 9], [10, 11, 0]],
    ]]);
  });
  // and the trainer's attributions keep the sign: Saliency and SmoothGrad with abs false
  manualSeed(2);
  const model = new Sequential(new Flatten(), new Linear(4, 2));
  const x = randn([1, 1, 2, 2]);
  const w = model.parameters()[0].select(0, 1).toArray() as number[]; // d logit_1 / d x
  for (const method of ["saliency", "smoothgrad"] as const) {
    const signed = attributionFn(model, "shallow-cnn", { method, abs: false, nSamples: 2 })(x, [1]);
    const abs = attributionFn(model, "shallow-cnn", { method, nSamples: 2 })(x, [1]);
    const got = signed.reshape(4).toArray() as number[];
    got.forEach((g, i) => assert.ok(Math.abs(g - w[i]) < 1e-6, `${method}: ${g} vs ${w[i]}`));
    assert.ok(got.some((g) => g < 0), "the weights have a negative entry");
    assert.deepEqual(abs.toArray(), signed.abs().toArray());
  }
  model.dispose();
});

Deno.test("masking: --mask-dilate grows only the regularize (top-k) mask; 0 is today's", () => {
  tidy(() => {
    // 1 sample, 1 channel, 8x8: attributions 10 + r*8 + c/100, peak 100 at (3, 3), least 0 at (6, 6)
    const plane = Array.from(
      { length: 8 },
      (_, r) =>
        Array.from(
          { length: 8 },
          (_, c) => (r === 3 && c === 3 ? 100 : r === 6 && c === 6 ? 0 : 10 + r + c / 100),
        ),
    );
    const attr = tensor([[plane]], { device });
    const x = tensor([[plane.map((row) => row.map(() => 1))]], { device });
    const cells = (maskDilate: number | undefined, plan: EpochPlan) => {
      const { masked, mask } = maskedInputs(x, attr, plan, {
        reduction: "mean",
        fill: -1,
        maskDilate,
      });
      const m = mask.select(0, 0).select(0, 0).toArray() as boolean[][];
      // filled exactly where masked
      assert.deepEqual(
        masked.select(0, 0).select(0, 0).toArray(),
        m.map((row) => row.map((on) => (on ? -1 : 1))),
      );
      return m.flatMap((row, r) => row.flatMap((on, c) => (on ? [`${r},${c}`] : [])));
    };
    const k = 1 / 64; // one pixel
    assert.deepEqual(cells(undefined, regularize(k)), ["3,3"]);
    assert.deepEqual(cells(0, regularize(k)), ["3,3"]);
    assert.deepEqual(cells(1, regularize(k)), [
      "2,2",
      "2,3",
      "2,4",
      "3,2",
      "3,3",
      "3,4",
      "4,2",
      "4,3",
      "4,4",
    ]);
    assert.equal(cells(2, regularize(k)).length, 25);
    // denoise and SGT epochs mask the bottom k: never grown
    assert.deepEqual(cells(1, denoise(k)), ["6,6"]);
    assert.deepEqual(
      cells(2, { phase: "sgt", mode: "sgt", k, de: null, episode: null }),
      ["6,6"],
    );
  });
});

Deno.test("masking: --fill random-channel draws each channel's masked pixels in that channel's own [min, max]", () => {
  tidy(() => {
    // 2 samples, 3 channels with disjoint ranges, 4x4; attributions rank pixel i as i
    const ranges = [[[0, 1], [10, 12], [-5, -4]], [[2, 3], [20, 21], [-9, -7]]];
    const x = tensor(
      ranges.map((sample) =>
        sample.map(([lo, hi]) =>
          Array.from(
            { length: 4 },
            (_, r) => Array.from({ length: 4 }, (_, c) => lo + (hi - lo) * (r * 4 + c) / 15),
          )
        )
      ),
      { device },
    );
    const attr = tensor(
      ranges.map((sample) =>
        sample.map(() => Array.from({ length: 4 }, (_, r) => [0, 1, 2, 3].map((c) => r * 4 + c)))
      ),
      { device },
    );
    const run = (fill: "random" | "random-channel") => {
      manualSeed(7);
      return maskedInputs(x, attr, denoise(0.5), { reduction: "mean", fill }).masked
        .toArray() as number[][][][];
    };
    const v = run("random-channel");
    assert.deepEqual(run("random-channel"), v, "the seed fixes the fill");
    const x0 = x.toArray() as number[][][][];
    const single = run("random");
    let outside = 0;
    ranges.forEach((sample, b) =>
      sample.forEach(([lo, hi], c) => {
        for (let i = 0; i < 16; i++) {
          const [r, col] = [Math.floor(i / 4), i % 4];
          const got = v[b][c][r][col];
          if (i < 8) {
            // masked (the bottom half): inside this channel's range, so unlike any other channel's
            assert.ok(got >= lo && got <= hi, `sample ${b} channel ${c} pixel ${i}: ${got}`);
            for (const [c2, [lo2, hi2]] of sample.entries()) {
              if (c2 !== c) assert.ok(got < lo2 || got > hi2, `channel ${c} in ${c2}'s range`);
            }
            const s = single[b][c][r][col];
            if (s < lo || s > hi) outside++;
          } else {
            assert.equal(got, x0[b][c][r][col], "unmasked pixels keep their values");
          }
        }
      })
    );
    // "random" (the default) draws from the whole sample's range: mostly outside a channel's
    assert.ok(outside > 24, `${outside} of 48 single-range fills outside their channel's range`);
  });
});

Deno.test("train step: a model so confident that its softmax underflows to 0 gets finite KL gradients (KL from log-probabilities)", () => {
  manualSeed(3);
  // logits ~ +-300: softmax gives exact zeros in float32 (exp(-600) underflows), so d(p log p)/dp
  // = log p + 1 is -inf there; through the log-probabilities it stays finite
  const model = new Sequential(new Flatten(), new Linear(16, 3));
  noGrad(() => {
    for (const p of model.parameters()) p.copy_(randn(p.shape).mul(40));
  });
  const x = randn([6, 1, 4, 4]);
  const y = tensor([0, 1, 2, 0, 1, 2], { dtype: "int64" });
  const probs = noGrad(() => model.forward(x).softmax(1).data() as Float32Array);
  assert.ok(probs.some((v) => v === 0), "some probability underflows to exactly 0");
  const saliency = new Saliency(model);
  const optimizer = new SGD(model.parameters(), { lr: 1e-6 });
  const r = trainStep(
    { model, optimizer, lambda: 1, saliency, reduction: "mean", fill: "zero" },
    x,
    y,
    { phase: "sgt", mode: "regularize", k: 0.5, de: 1, episode: 0 },
  );
  assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
  for (const p of model.parameters()) {
    const w = p.data() as Float32Array;
    assert.ok(w.every(Number.isFinite), "the step left every weight finite");
  }
  optimizer.dispose();
  model.dispose();
});
