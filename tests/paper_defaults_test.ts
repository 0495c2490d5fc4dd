/**
 * Defaults that judge the model the paper judges, and help that quotes the paper:
 * `sib`/`compare`/`sweep` score every test image with a box on the best-after-switch checkpoint
 * unless told otherwise (src/runs/sib_defaults.ts, the one source the flags read); the help of
 * the plateau and k-top settings quotes the lines of the paper each reading follows; presets the
 * paper ran from ImageNet weights say so and `train --preset` without `--pretrained` warns in
 * one line; runs from ImageNet weights are normalised with ImageNet's statistics, recorded in
 * config.json, kept on resume, and used by eval and SIB.
 */

import { helpIn } from "../src/train/setting_rows.ts";
import { SETTINGS } from "../src/train/config_fields.ts";
import { FLAG_VOCABULARY } from "../cli/flag_vocabulary.ts";
import assert from "node:assert/strict";
import { program } from "../cli/main.ts";
import { presetHelp, presetTableMarkdown } from "../cli/flags/settings.ts";
import { resolveConfig } from "../cli/train_config.ts";
import { startLines } from "../cli/training.ts";
import { encodeCifar } from "../src/data/cifar.ts";
import type { ImageDataset } from "../src/data/dataset.ts";
import { DataLoader } from "../src/data/loader.ts";
import { sib } from "../src/metrics/sib.ts";
import { type SibColumn, sibMedianRows } from "../src/report/tables.ts";
import { configDifferences } from "../src/train/config_diff.ts";
import { evaluateRun } from "../src/runs/eval.ts";
import { evaluateSib, loadTestSplit } from "../src/runs/sib.ts";
import { DEFAULT_SIB_CHECKPOINT, DEFAULT_SIB_N } from "../src/runs/sib_defaults.ts";
import { pixelSaliency } from "../src/saliency/pixel_map.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { tidy } from "../src/tensor/engine.ts";
import {
  CONFIG_FIELDS,
  configProblems,
  defaultConfig,
  findPreset,
  PRESETS,
  presetWeightsWarning,
  type TrainConfig,
} from "../src/train/config.ts";
import { loadRun } from "../src/train/load_run.ts";
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  runNormalization,
  withRunNormalization,
} from "../src/train/normalization.ts";
import { loadSplits } from "../src/train/setup.ts";
import { evaluate } from "../src/train/steps.ts";
import { type RunStart, train } from "../src/train/trainer.ts";
import { assertClose, device, NO_DATA, runCli } from "./helpers.ts";
import { openRunDir } from "../src/train/run_records.ts";

const cli = (args: string[]) => runCli(args, { ...NO_DATA, HLGM_NUM_THREADS: "2" });

/** Help text with its line wrapping undone. */
const flat = (text: string) => text.replace(/\s+/g, " ");

function tempDir(prefix: string): string {
  const dir = Deno.makeTempDirSync({ prefix });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

// ---- SIB's defaults

Deno.test("sib defaults: all test images with a box and best-after-switch, in one place the flags read", async () => {
  assert.equal(DEFAULT_SIB_N, "all");
  assert.equal(DEFAULT_SIB_CHECKPOINT, "best-after-switch");
  const commands = program().commands;
  const option = (command: string, flag: string) =>
    commands.find((c) => c.name() === command)!.options.find((o) => o.long === flag)!;
  assert.equal(option("sib", "--n").defaultValue, "all");
  assert.equal(option("compare", "--sib-n").defaultValue, "all");
  assert.equal(option("sweep", "--sib-n").defaultValue, "all");
  for (const command of ["sib", "compare", "sweep"]) {
    assert.equal(option(command, "--checkpoint").defaultValue, "best-after-switch", command);
  }
  // the commands that judge accuracy or draw figures keep the best checkpoint
  for (const command of ["eval", "saliency", "report"]) {
    assert.equal(option(command, "--checkpoint").defaultValue, "best", command);
  }
  assert.equal(option("sib", "--saliency-sign").defaultValue, "run");

  // the help says which and why, once per flag
  const sibHelp = flat((await cli(["sib", "--help"])).stdout);
  assert.match(
    sibHelp,
    /--n <n> test images \(drawn among those with a box\), or all: every test image with a box \(the paper scores "all images in the test set"\) \(default all\)/,
  );
  assert.match(
    sibHelp,
    /\(default best-after-switch: best-after-switch never scores HLGM on a model from before its switch \(its best can be one: a baseline model\) and picks every method by validation accuracy; last is the paper's literal "post-training"\)/,
  );
  for (const command of ["compare", "sweep"]) {
    const help = flat((await cli([command, "--help"])).stdout);
    assert.match(help, /--sib-n <n> test images .*"all images in the test set"\) \(default all\)/);
    assert.match(
      help,
      /--checkpoint <rule> .*\(default best-after-switch: best-after-switch never/,
    );
    // SIB's old default of 1,000 images is gone (compare's faithfulness table draws 1,000)
    assert.doesNotMatch(help, /--sib-n <n>(?:(?!--faith-n).)*\(default 1000\)/, command);
  }
  const evalHelp = flat((await cli(["eval", "--help"])).stdout);
  assert.match(
    evalHelp,
    /--checkpoint <rule> .*its best\): best, last, best-after-switch \(default best\)/,
  );
});

Deno.test("sib table: a saliency row names signed runs and runs not scored as trained", () => {
  const col = (name: string, extra: Partial<SibColumn> = {}): SibColumn => ({
    name,
    per_image: { "5": [0.25, 0.5, 0.75] },
    checkpoint: "best-after-switch",
    epoch: 3,
    ...extra,
  });
  // files written before the sign was recorded, and abs runs: no row
  assert.deepEqual(sibMedianRows([5], [col("a"), col("b", { saliency_sign: "abs" })]), [
    ["5", "0.500", "0.500"],
    ["checkpoint", "best-after-switch, epoch 3", "best-after-switch, epoch 3"],
  ]);
  const rows = sibMedianRows([5], [
    col("abs"),
    col("signed", { saliency_sign: "signed", trained_saliency_sign: "signed" }),
    col("other", { saliency_sign: "abs", trained_saliency_sign: "signed" }),
  ]);
  assert.deepEqual(rows.at(-1), ["saliency", "abs", "signed", "abs (trained signed)"]);
});

// ---- the paper's lines in the help of its open choices

Deno.test("settings help: the k-top decay, the plateau rule and min-delta quote the paper's lines", async () => {
  // a row's help as the CLI says it (`{monitor}` is --monitor)
  const help = (key: string) =>
    helpIn(CONFIG_FIELDS.find((f) => f.key === key)!.help, FLAG_VOCABULARY, SETTINGS);
  // k-top decay: section IV-C's 20% then 2% less, or Algorithm 2's decrement before the mask
  assert.ok(
    help("kTopDecay").includes(
      "'For the number of masked top features, we use 20% of the input features'",
    ),
  );
  assert.ok(help("kTopDecay").includes("'apply a reduction of 2%'"));
  assert.ok(
    help("kTopDecay").includes(
      "'Regularization: Masking top k features. $k_t = k_t - \\alpha$ $X = M_{K_{t}U}(I, X)$'",
    ),
  );
  // the plateau rule: Algorithm 2 watches the loss, section IV-C the test accuracy
  const algorithm2 = "if (loss does not improve in last 20 epochs)";
  const sectionIVC =
    "The training stops when the test accuracy does not improve for the past 20 epochs.";
  for (const key of ["monitor", "patience"]) {
    assert.ok(help(key).includes(algorithm2), key);
    assert.ok(help(key).includes(sectionIVC), key);
  }
  // min-delta: in the monitored value's unit
  assert.ok(help("minDelta").includes("in the --monitor value's own unit"));
  assert.ok(help("minDelta").includes("accuracy as a fraction for val_acc (0.001 = 0.1"));
  assert.ok(help("minDelta").includes("'checked by monitoring the rate of change in loss'"));
  // train --help shows them as written
  const trainHelp = flat((await cli(["train", "--help"])).stdout);
  for (const key of ["kTopDecay", "monitor", "patience", "minDelta"]) {
    assert.ok(trainHelp.includes(flat(help(key))), key);
  }
});

// ---- presets from ImageNet weights

Deno.test("presets: those the paper ran from ImageNet weights say so, with the paper's words", () => {
  const fromImageNet = PRESETS.filter((p) => p.imagenet).map((p) => p.name);
  assert.deepEqual(fromImageNet, [
    "resnet18-cifar100",
    "resnet18-oxford-pet",
    "deit-tiny-cifar10",
    "deit-tiny-cifar100",
  ]);
  assert.equal(
    findPreset("resnet18-oxford-pet")!.imagenet!.quote,
    "In this work, we used a pre-trained ResNet18 on the ImageNet dataset",
  );
  assert.equal(
    findPreset("deit-tiny-cifar10")!.imagenet!.quote,
    "We adopted this 'tiny' configuration from the pre-trained 'deit' model",
  );
  const help = presetHelp();
  assert.equal(
    help.match(/the paper started it from ImageNet weights: --pretrained FILE/g)?.length,
    4,
  );
  const rows = presetTableMarkdown().split("\n").slice(2);
  assert.match(rows[0], /^\| `shallow-cnn-cifar10` .*\| random +\|/);
  assert.match(
    rows[2],
    /^\| `resnet18-cifar100` .*\| ImageNet \(`--pretrained FILE`: torchvision's resnet18-f37072fd\.pth\) \|/,
  );

  // the library's warning: only for such a preset, its model, and no --pretrained
  const warn = (settings: Partial<TrainConfig>) => presetWeightsWarning(defaultConfig(settings));
  assert.equal(
    warn({ preset: "resnet18-cifar100" }),
    `preset resnet18-cifar100: the paper started resnet18 from ImageNet weights ("In this ` +
      `work, we used a pre-trained ResNet18 on the ImageNet dataset"); this run starts from ` +
      `random weights: add pretrained: "FILE" (torchvision's resnet18-f37072fd.pth)`,
  );
  assert.equal(warn({ preset: "resnet18-cifar100", pretrained: "w.pth" }), null);
  assert.equal(warn({ preset: "shallow-cnn-cifar10" }), null);
  assert.equal(warn({ preset: "deit-tiny-cifar10", model: "shallow-cnn" }), null);
  assert.equal(warn({ model: "resnet18" }), null);
});

Deno.test("train --preset: without --pretrained one warning line on stderr; with it, none", async () => {
  const root = tempDir("hlgm-preset-");
  const empty = `${root}/no-data`;
  Deno.mkdirSync(empty);
  const weights = `${root}/w.pth`;
  Deno.writeTextFileSync(weights, ""); // never read: the data is missing first
  const run = (extra: string[]) =>
    cli(["train", "--data-dir", empty, "--device", "cpu", "--out", `${root}/run`, ...extra]);
  const warned = await run(["--preset", "resnet18-cifar100"]);
  assert.equal(warned.code, 1, warned.stderr); // the CIFAR-100 files are not there
  const lines = warned.stderr.trim().split("\n");
  assert.equal(
    lines.find((l) => l.startsWith("warning:")),
    "warning: preset resnet18-cifar100: the paper started resnet18 from ImageNet weights " +
      `("In this work, we used a pre-trained ResNet18 on the ImageNet dataset"); this run ` +
      "starts from random weights: add --pretrained FILE (torchvision's resnet18-f37072fd.pth)",
  );
  assert.equal(lines.filter((l) => l.startsWith("warning:")).length, 1);
  assert.match(lines.at(-1)!, /^error: .*cifar100/);
  for (
    const quiet of [["--preset", "resnet18-cifar100", "--pretrained", weights], [
      "--preset",
      "shallow-cnn-cifar10",
    ]]
  ) {
    const r = await run(quiet);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!r.stderr.includes("warning:"), r.stderr);
    assert.match(r.stderr, /^error: .*cifar/m);
  }
});

// ---- ImageNet normalisation

Deno.test("normalization: ImageNet's for runs from resnet18/deit-tiny weights, the dataset's otherwise; recorded; old runs read as dataset", () => {
  assert.deepEqual(IMAGENET_MEAN, [0.485, 0.456, 0.406]);
  assert.deepEqual(IMAGENET_STD, [0.229, 0.224, 0.225]);
  const n = (settings: Partial<TrainConfig>) => defaultConfig(settings).normalization;
  assert.equal(n({}), "dataset");
  assert.equal(n({ model: "resnet18" }), "dataset");
  assert.equal(n({ model: "resnet18", pretrained: "w.pth" }), "imagenet");
  assert.equal(n({ preset: "deit-tiny-cifar100", pretrained: "w.pth" }), "imagenet");
  assert.equal(n({ model: "shallow-cnn", pretrained: "w.safetensors" }), "dataset");
  assert.equal(n({ model: "resnet18", pretrained: "w.pth", normalization: "dataset" }), "dataset");
  assert.equal(n({ model: "resnet18", normalization: "imagenet" }), "imagenet");
  assert.deepEqual(configProblems({ ...defaultConfig(), normalization: "cifar" } as never), [
    `normalization must be one of dataset, imagenet, got "cifar"`,
  ]);
  // a run saved before the setting was normalised with the dataset's statistics, whatever its
  // weights: that is what it reads as, and what compare and sweep compare
  const wanted = defaultConfig({ model: "resnet18", pretrained: "w.pth" });
  const saved: TrainConfig = { ...wanted };
  delete saved.normalization;
  assert.equal(runNormalization(saved), "dataset");
  assert.equal(runNormalization(wanted), "imagenet");
  assert.deepEqual(configDifferences(saved, wanted), [
    `normalization "dataset" vs "imagenet"`,
  ]);
  assert.deepEqual(configDifferences(wanted, wanted), []);

  // the loaders' view: the same images with ImageNet's statistics (RGB only)
  const rgb: ImageDataset = {
    name: "rgb",
    split: "test",
    n: 1,
    channels: 3,
    height: 1,
    width: 1,
    images: new Uint8Array([1, 2, 3]),
    labels: new Int32Array([0]),
    classes: ["a"],
    mean: [0.5, 0.5, 0.5],
    std: [0.25, 0.25, 0.25],
    source: "here",
  };
  const seen = withRunNormalization({ normalization: "imagenet" }, rgb);
  assert.deepEqual([seen.mean, seen.std], [IMAGENET_MEAN, IMAGENET_STD]);
  assert.equal(seen.images, rgb.images);
  assert.deepEqual(rgb.mean, [0.5, 0.5, 0.5]); // not changed in place
  assert.equal(withRunNormalization({ normalization: "dataset" }, rgb), rgb);
  assert.equal(withRunNormalization({}, rgb), rgb);
  assert.throws(
    () =>
      withRunNormalization({ normalization: "imagenet" }, { ...rgb, name: "grey", channels: 1 }),
    /normalization imagenet: ImageNet's mean and std are for RGB images, but grey images have 1 channel; use normalization: "dataset"/,
  );
  // the flag reaches the config
  assert.equal(resolveConfig({ normalization: "imagenet" }).normalization, "imagenet");
  // and train's lines before the run say so
  const start = {
    shape: [3, 32, 32],
    firstEpoch: 1,
    epochs: 1,
    images: { train: 9, val: 1, test: 4 },
    batches: 1,
    device: "cpu",
    ranks: 1,
    threads: 2,
    schedule: "baseline",
    pretrained: null,
  } as unknown as RunStart;
  assert.equal(
    startLines(wanted, "out", start).at(-1),
    "inputs normalised with ImageNet's mean and std (--normalization imagenet)",
  );
  assert.equal(startLines(saved, "out", start).length, 2);
});

/** A tiny CIFAR-10 (binary version) under root/cifar10/cifar-10-batches-bin. */
function writeCifar10(root: string, perBatch: number, testN: number): void {
  const dir = `${root}/cifar10/cifar-10-batches-bin`;
  Deno.mkdirSync(dir, { recursive: true });
  let seed = 7;
  const bytes = (n: number) =>
    Uint8Array.from({ length: n * 3072 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  const labels = (n: number, first: number) =>
    Array.from({ length: n }, (_, i) => (first + i) % 10);
  for (let b = 0; b < 5; b++) {
    Deno.writeFileSync(
      `${dir}/data_batch_${b + 1}.bin`,
      encodeCifar(bytes(perBatch), labels(perBatch, b)),
    );
  }
  Deno.writeFileSync(`${dir}/test_batch.bin`, encodeCifar(bytes(testN), labels(testN, 3)));
}

Deno.test("normalization: a resnet18 run from ImageNet weights trains, evaluates and is scored on ImageNet-normalised inputs; a resumed run keeps what config.json records", async () => {
  const root = tempDir("hlgm-imagenet-norm-");
  writeCifar10(`${root}/data`, 8, 12);
  const weights = new URL("./fixtures/pretrained/resnet18_torchvision.pth", import.meta.url)
    .pathname; // torchvision's resnet18 layout, 10 classes
  const config = defaultConfig({
    method: "baseline",
    model: "resnet18",
    stem: "imagenet",
    dataset: "cifar10",
    dataDir: `${root}/data`,
    pretrained: weights,
    epochs: 1,
    batchSize: 16,
    optimizer: "sgd",
    lr: 0.001,
    augment: false,
    device,
  });
  assert.equal(config.normalization, "imagenet");
  const out = `${root}/run`;
  assert.equal((await train(config, out)).status, "completed");
  assert.equal(openRunDir(out).readInfo().config.normalization, "imagenet");
  // the trainer's splits: ImageNet's statistics, not CIFAR-10's own
  const splits = await loadSplits(config);
  assert.deepEqual(splits.train.mean, IMAGENET_MEAN);
  assert.deepEqual(splits.test.std, IMAGENET_STD);
  const own = await loadTestSplit(config); // shared by runs: the dataset's own statistics
  assert.deepEqual(own.mean, [0.4914, 0.4822, 0.4465]);

  /** Test loss of the run's last checkpoint with inputs normalised by `stats`. */
  const lossWith = (stats: { mean: readonly number[]; std: readonly number[] }) => {
    const run = loadRun(out, { which: "last", device });
    try {
      using loader = new DataLoader({ ...own, ...stats }, { shuffle: false, device });
      return evaluate(run.model, loader.epoch(0, false)).loss;
    } finally {
      run.model.dispose();
    }
  };
  const imagenet = { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  const dataset = { mean: own.mean, std: own.std };
  const testLoss = (epoch: number) =>
    openRunDir(out).readMetrics().find((m) => m.epoch === epoch)!.test_loss;
  assertClose(testLoss(1), lossWith(imagenet), { rtol: 1e-5 });
  assert.ok(Math.abs(lossWith(dataset) - testLoss(1)) > 1e-3, "the statistics matter here");
  // eval normalises as the run did
  assertClose((await evaluateRun(out, { checkpoint: "last", device })).loss, testLoss(1), {
    rtol: 1e-5,
  });

  // SIB too: boxes on the test images, the saliency of ImageNet-normalised inputs
  const boxed = { ...own, boxes: new Float32Array(own.n * 4).map((_, i) => [0, 0, 16, 32][i % 4]) };
  const loaded = loadRun(out, { which: "last", device });
  try {
    const ev = await evaluateSib(loaded, boxed, { percents: [5], batchSize: 12 });
    assert.equal(ev.n, own.n);
    using loader = new DataLoader({ ...boxed, ...imagenet }, { shuffle: false, device });
    const direct = tidy(() => {
      const b = loader.batchOf(ev.indices);
      return sib(
        pixelSaliency(new Saliency(loaded.model).attribute(b.x, { target: b.y })),
        b.boxes!,
        [5],
      )[0];
    });
    assert.deepEqual(ev.per_image["5"], Array.from(direct));
  } finally {
    loaded.model.dispose();
  }

  // resumed: it keeps ImageNet's statistics
  assert.equal((await train(config, out, { resume: true, epochs: 2 })).status, "completed");
  assert.equal(openRunDir(out).readInfo().config.normalization, "imagenet");
  assertClose(testLoss(2), lossWith(imagenet), { rtol: 1e-5 });

  // a run saved before the setting (no "normalization" in config.json) was normalised with
  // the dataset's statistics: resumed, it goes on with them, whatever its --pretrained
  const file = `${out}/config.json`;
  const info = JSON.parse(Deno.readTextFileSync(file));
  delete info.config.normalization;
  Deno.writeTextFileSync(file, JSON.stringify(info));
  assert.equal((await train(config, out, { resume: true, epochs: 3 })).status, "completed");
  assert.equal(openRunDir(out).readInfo().config.normalization, undefined);
  assertClose(testLoss(3), lossWith(dataset), { rtol: 1e-5 });
  assertClose((await evaluateRun(out, { checkpoint: "last", device })).loss, testLoss(3), {
    rtol: 1e-5,
  });
});
