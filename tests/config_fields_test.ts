// The one settings table (src/train/config_fields.ts): every flag reaches the resolved config,
// --config files are checked against it, and the README's list is generated from it.
import assert from "node:assert/strict";
import { Command } from "commander";
import { addTrainFlags, flagsToConfig, presetHelp } from "../cli/flags/settings.ts";
import { resolveConfig } from "../cli/train_config.ts";
import {
  checkedConfig,
  CONFIG_FIELDS,
  configProblems,
  defaultConfig,
  describePreset,
  flagName,
  MODEL_DEFAULTS,
  PRESETS,
  settingProblems,
  type TrainConfig,
} from "../src/train/config.ts";
import { SettingError } from "../src/util/vocabulary.ts";
import { FLAG_VOCABULARY } from "../cli/flag_vocabulary.ts";
import { configDifferences } from "../src/runs/compare.ts";
import { integerOf } from "../src/train/config_fields.ts";
import { withFlagTable } from "../scripts/readme-flags.ts";

/** Parses train flags as the CLI does. */
function parseFlags(args: string[]): Record<string, unknown> {
  const c = addTrainFlags(new Command("train").exitOverride());
  c.parse(args, { from: "user" });
  return flagsToConfig(c.opts());
}

Deno.test("settings: every flag in the table reaches the resolved config", () => {
  const dataDir = Deno.makeTempDirSync();
  const weights = `${dataDir}/weights.safetensors`;
  Deno.writeTextFileSync(weights, ""); // only its existence is checked here
  try {
    // a non-default, valid value per setting; a new row without one here fails this test
    // (the preset's own values are all overridden by the other samples)
    const samples: Record<string, [string[], unknown]> = {
      preset: [["--preset", "deit-tiny-cifar10"], "deit-tiny-cifar10"],
      method: [["--method", "sgt"], "sgt"],
      model: [["--model", "resnet18"], "resnet18"],
      stem: [["--stem", "cifar"], "cifar"],
      pretrained: [["--pretrained", weights], weights],
      normalization: [["--normalization", "imagenet"], "imagenet"],
      dataset: [["--dataset", "cluttered-fmnist"], "cluttered-fmnist"],
      dataDir: [["--data-dir", dataDir], dataDir],
      epochs: [["--epochs", "7"], 7],
      batchSize: [["--batch-size", "64"], 64],
      optimizer: [["--optimizer", "adamw"], "adamw"],
      lr: [["--lr", "0.003"], 0.003],
      momentum: [["--momentum", "0.5"], 0.5],
      weightDecay: [["--weight-decay", "0.0001"], 0.0001],
      subset: [["--subset", "500"], 500],
      valFraction: [["--val-fraction", "0.2"], 0.2],
      device: [["--device", "cpu"], "cpu"],
      precision: [["--precision", "bf16-mixed"], "bf16-mixed"],
      channelsLast: [["--channels-last"], true],
      seed: [["--seed", "3"], 3],
      lambda: [["--lambda", "0.5"], 0.5],
      kBottom: [["--k-bottom", "0.4"], 0.4],
      kTop: [["--k-top", "0.1"], 0.1],
      alpha: [["--alpha", "0.01"], 0.01],
      episodeSize: [["--episode-size", "4"], 4],
      de: [["--de", "2"], 2],
      patience: [["--patience", "9"], 9],
      kTopDecay: [["--k-top-decay", "before"], "before"],
      minDelta: [["--min-delta", "0.001"], 0.001],
      episodeOrder: [["--episode-order", "pseudocode"], "pseudocode"],
      monitor: [["--monitor", "val_loss"], "val_loss"],
      switchEpoch: [["--switch-epoch", "5"], 5],
      switchBy: [["--switch-by", "8"], 8],
      saliency: [["--saliency", "smoothgrad"], "smoothgrad"],
      reduction: [["--reduction", "max"], "max"],
      saliencySign: [["--saliency-sign", "signed"], "signed"],
      fill: [["--fill", "random-channel"], "random-channel"],
      maskDilate: [["--mask-dilate", "2"], 2],
      imageSize: [["--image-size", "40"], 40],
      canvas: [["--canvas", "40"], 40],
      augment: [["--augment"], true],
      tensorboard: [["--tensorboard"], true],
      keepEvery: [["--keep-every", "10"], 10],
    };
    assert.deepEqual(Object.keys(samples).sort(), CONFIG_FIELDS.map((f) => f.key).sort());
    const defaults = defaultConfig() as unknown as Record<string, unknown>;
    for (const [key, [, value]] of Object.entries(samples)) {
      assert.notEqual(defaults[key], value, `${key}: the sample must differ from the default`);
    }
    // switch-by limits the plateau rule that switch-epoch replaces: they are refused together
    const alone = new Set(["switchBy"]);
    const together = Object.entries(samples).filter(([k]) => !alone.has(k));
    const config = resolveConfig(parseFlags(together.flatMap(([, [a]]) => a)));
    for (const [key, [args, value]] of Object.entries(samples)) {
      const got = alone.has(key) ? resolveConfig(parseFlags(args)) : config;
      assert.equal((got as unknown as Record<string, unknown>)[key], value, args.join(" "));
    }
    assert.equal(resolveConfig(parseFlags(["--no-augment"])).augment, false);
    // and the other way: every key of a resolved config is a setting with a flag
    const keys = new Set(CONFIG_FIELDS.map((f) => f.key));
    for (const k of Object.keys(config)) assert.ok(keys.has(k), `config key ${k} has no flag`);
  } finally {
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("presets: each resolves to its Table I set-up; flags and --config override it", () => {
  const tableI = new Set(
    Object.entries(MODEL_DEFAULTS).map(([m, d]) => `${m} ${d.optimizer} ${d.lr}`),
  );
  assert.deepEqual(PRESETS.map((p) => p.name), [
    "shallow-cnn-cifar10",
    "shallow-cnn-cifar100",
    "resnet18-cifar100",
    "resnet18-oxford-pet",
    "deit-tiny-cifar10",
    "deit-tiny-cifar100",
  ]);
  for (const p of PRESETS) {
    const c = resolveConfig(parseFlags(["--preset", p.name]));
    assert.equal(c.preset, p.name);
    for (const [k, v] of Object.entries(p.settings)) {
      assert.equal((c as unknown as Record<string, unknown>)[k], v, `${p.name}: ${k}`);
    }
    // Table I: the model's optimizer and lr, batch 256; the paper's 100 epochs
    assert.ok(tableI.has(`${c.model} ${c.optimizer} ${c.lr}`), `${p.name}: ${c.optimizer} ${c.lr}`);
    assert.equal(c.batchSize, 256);
    assert.equal(c.epochs, 100);
    assert.match(p.paper, /^Table I: /);
    // the rest is the defaults: a preset sets no method and no weights
    assert.equal(c.method, "hlgm");
    assert.equal(c.pretrained, undefined);
  }
  const r = resolveConfig(parseFlags(["--preset", "resnet18-cifar100"]));
  assert.deepEqual(
    [r.model, r.dataset, r.imageSize, r.stem, r.optimizer, r.lr, r.batchSize, r.epochs],
    ["resnet18", "cifar100", 32, "imagenet", "sgd", 0.01, 256, 100],
  );
  const d = resolveConfig(parseFlags(["--preset", "deit-tiny-cifar100"]));
  assert.deepEqual(
    [d.model, d.dataset, d.imageSize, d.stem, d.optimizer, d.lr],
    ["deit-tiny", "cifar100", 224, "imagenet", "adadelta", 0.001],
  );
  // explicit flags win, the rest of the preset stays
  const o = resolveConfig(
    parseFlags([
      "--preset",
      "resnet18-cifar100",
      "--lr",
      "0.1",
      "--image-size",
      "224",
      "--epochs",
      "3",
    ]),
  );
  assert.deepEqual(
    [o.model, o.dataset, o.imageSize, o.stem, o.optimizer, o.lr, o.epochs],
    ["resnet18", "cifar100", 224, "imagenet", "sgd", 0.1, 3],
  );
  // a --config file overrides the preset (named in the file or by the flag); flags override both
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/c.json`;
    Deno.writeTextFileSync(file, JSON.stringify({ preset: "shallow-cnn-cifar10", lr: 1 }));
    const f = resolveConfig({}, file);
    assert.deepEqual([f.model, f.dataset, f.lr, f.optimizer], [
      "shallow-cnn",
      "cifar10",
      1,
      "adadelta",
    ]);
    const g = resolveConfig(parseFlags(["--lr", "0.5"]), file);
    assert.equal(g.lr, 0.5);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  assert.throws(
    () => resolveConfig(parseFlags(["--preset", "resnet50-imagenet"])),
    /preset must be one of shallow-cnn-cifar10, .*, got "resnet50-imagenet"/,
  );
  // without a preset the model still brings its Table I optimizer
  assert.equal(resolveConfig(parseFlags(["--model", "resnet18"])).optimizer, "sgd");
});

Deno.test("settings: --stem needs resnet18 or deit-tiny; --pretrained needs an existing file", () => {
  assert.throws(
    () => resolveConfig(parseFlags(["--stem", "imagenet"])),
    /stem applies to resnet18 and deit-tiny, not shallow-cnn/,
  );
  assert.throws(
    () => resolveConfig(parseFlags(["--model", "resnet18", "--stem", "big"])),
    /stem must be one of imagenet, cifar, got "big"/,
  );
  assert.throws(
    () => resolveConfig(parseFlags(["--pretrained", "/nonexistent/resnet18.pth"])),
    /pretrained \/nonexistent\/resnet18\.pth does not exist/,
  );
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(() => resolveConfig(parseFlags(["--pretrained", dir])), /is not a file/);
  } finally {
    Deno.removeSync(dir);
  }
});

Deno.test("presets: `train --help` lists every preset with its settings and the paper's rows", () => {
  const help = presetHelp();
  for (const p of PRESETS) {
    assert.ok(help.includes(`${p.name}  `), p.name);
    assert.ok(help.includes(describePreset(p)), describePreset(p));
    assert.ok(help.includes(p.paper), p.paper);
  }
});

Deno.test("settings: the paper's open choices name their setting and values when wrong, as the caller spells it", () => {
  const over = (o: Record<string, unknown>) => ({ ...defaultConfig(), ...o } as TrainConfig);
  const problems = (o: Record<string, unknown>) => configProblems(over(o));
  // the library names its keys; the CLI the same problems by their flags
  const flags = (o: Record<string, unknown>) =>
    settingProblems(over(o)).map((p) => p.render(FLAG_VOCABULARY));
  assert.deepEqual(problems({ saliencySign: "sign" }), [
    `saliencySign must be one of abs, signed, got "sign"`,
  ]);
  assert.deepEqual(flags({ saliencySign: "sign" }), [
    `--saliency-sign must be one of abs, signed, got "sign"`,
  ]);
  assert.deepEqual(settingProblems(over({ saliencySign: "sign" })).map((p) => p.settings), [[
    "saliencySign",
  ]]);
  assert.deepEqual(problems({ episodeOrder: "code" }), [
    `episodeOrder must be one of prose, pseudocode, got "code"`,
  ]);
  assert.deepEqual(problems({ fill: "noise" }), [
    `fill must be one of random, zero, mean, random-channel, got "noise"`,
  ]);
  assert.deepEqual(problems({ switchBy: 0 }), ["switchBy must be a positive integer, got 0"]);
  assert.deepEqual(problems({ switchBy: 8, switchEpoch: 4 }), [
    "switchBy limits the plateau rule, which switchEpoch replaces: give one of them",
  ]);
  assert.deepEqual(flags({ switchBy: 8, switchEpoch: 4 }), [
    "--switch-by limits the plateau rule, which --switch-epoch replaces: give one of them",
  ]);
  for (const bad of [-1, 1.5, "2"]) {
    assert.deepEqual(problems({ maskDilate: bad }), [
      `maskDilate must be a non-negative integer, got ${JSON.stringify(bad)}`,
    ]);
  }
  assert.throws(
    () => resolveConfig(parseFlags(["--mask-dilate", "wide"])),
    /: --mask-dilate must be a non-negative integer, got "wide"$/,
  );
  // ranges: open and closed ends, a positive number, float32's cap on lambda
  assert.deepEqual(problems({ valFraction: 1, kTop: 1.5, lr: 0, lambda: 1e39 }), [
    "lr must be a positive number, got 0",
    "valFraction must be in [0, 1), got 1",
    "lambda must be at most 3.4028234663852886e+38 (float32's largest), got 1e+39",
    "kTop must be in [0, 1], got 1.5",
  ]);
  // a required setting that is missing says so
  const missing = defaultConfig() as unknown as Record<string, unknown>;
  delete missing.epochs;
  assert.deepEqual(configProblems(missing as unknown as TrainConfig), [
    "epochs must be a positive integer, got nothing",
  ]);
  // the library's error carries the keys and renders in either vocabulary
  try {
    checkedConfig(over({ batchSize: 0 }));
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof SettingError);
    assert.deepEqual(e.settings, ["batchSize"]);
    assert.equal(e.message, "invalid configuration: batchSize must be a positive integer, got 0");
    assert.equal(
      e.render(FLAG_VOCABULARY),
      "invalid configuration: --batch-size must be a positive integer, got 0",
    );
  }
});

Deno.test("settings: a run saved before a setting existed reads as its default (today's behaviour)", () => {
  const added = [
    "kTopDecay",
    "minDelta",
    "episodeOrder",
    "saliencySign",
    "maskDilate",
    "normalization",
  ];
  const old = defaultConfig() as unknown as Record<string, unknown>;
  for (const k of added) delete old[k];
  const saved = old as unknown as TrainConfig;
  assert.deepEqual(configProblems(saved), []);
  // compare and --resume fill the missing keys with their defaults
  assert.deepEqual(configDifferences(saved, defaultConfig()), []);
  assert.deepEqual(configDifferences(saved, defaultConfig({ maskDilate: 1 })), [
    "maskDilate 0 vs 1",
  ]);
  assert.deepEqual(configDifferences(saved, defaultConfig({ episodeOrder: "pseudocode" })), [
    `episodeOrder "prose" vs "pseudocode"`,
  ]);
});

Deno.test("settings: a value that is not a number is quoted in the error", () => {
  assert.throws(
    () => resolveConfig(parseFlags(["--epochs", "two", "--lr", "fast"])),
    /epochs must be a positive integer, got "two".*lr must be a positive number, got "fast"/,
  );
});

Deno.test("settings: integer flags take what JSON and Python's int(float(x)) take, nothing else", () => {
  const cases: [string, number | null][] = [
    ["12", 12],
    [" -3 ", -3],
    ["1e6", 1e6],
    ["4000.0", 4000],
    ["+7", 7],
    ["1.5", null],
    ["1e30", null], // beyond 2^53: not exact
    ["", null],
    ["0x10", null],
    ["1e", null],
    ["Infinity", null],
  ];
  for (const [text, want] of cases) assert.equal(integerOf(text), want, JSON.stringify(text));
  assert.equal(resolveConfig(parseFlags(["--subset", "2e3"])).subset, 2000);
  assert.throws(
    () => resolveConfig(parseFlags(["--epochs", "2.5"])),
    /epochs must be a positive integer, got "2.5"/,
  );
});

Deno.test("settings: --config files are checked against the table", () => {
  const dir = Deno.makeTempDirSync();
  const file = (name: string, text: string) => {
    Deno.writeTextFileSync(`${dir}/${name}`, text);
    return `${dir}/${name}`;
  };
  try {
    assert.throws(
      () => resolveConfig({}, file("snake.json", `{"batch_size": 64, "epochs": 3}`)),
      /--config .*snake\.json: unknown setting "batch_size" \(did you mean "batchSize"\?\)/,
    );
    assert.throws(
      () => resolveConfig({}, file("typo.json", `{"epocs": 3, "frob": 1}`)),
      /unknown setting "epocs"; unknown setting "frob"/,
    );
    for (const [text, what] of [["[1, 2]", "an array"], ["null", "null"], ["5", "number"]]) {
      assert.throws(
        () => resolveConfig({}, file("bad.json", text)),
        new RegExp(`expected a JSON object of settings, got ${what}`),
      );
    }
    assert.throws(
      () => resolveConfig({}, file("five.json", `{"config": 5}`)),
      /unknown setting "config"/,
    );
    assert.equal(resolveConfig({}, file("ok.json", `{"batchSize": 64}`)).batchSize, 64);
    // a run folder's config.json: settings under "config", beside versions and data facts
    const run = { config: { ...defaultConfig(), epochs: 2 }, versions: { hlgm: "0" } };
    assert.equal(resolveConfig({}, file("run.json", JSON.stringify(run))).epochs, 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("settings: the README's flag list and preset table are the tables' (scripts/readme-flags.ts)", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  assert.equal(withFlagTable(readme), readme, "run: deno run -A scripts/readme-flags.ts");
  for (const f of CONFIG_FIELDS) assert.ok(readme.includes(`\`--${flagName(f.key)}`), f.key);
  for (const p of PRESETS) assert.ok(readme.includes(`| \`${p.name}\``), p.name);
});
