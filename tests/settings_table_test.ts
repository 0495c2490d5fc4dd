// A new training setting is one row of the settings table (src/train/config_fields.ts): a copy
// of the table with one more row gives the settings type a key, the defaults a value, the checks
// a message in either vocabulary, the CLI a flag and the README a line, with no other edit; and
// the library's own functions are that machinery applied to the real table.
import assert from "node:assert/strict";
import { Command } from "commander";
import { addTrainFlags, flagsToConfig, flagTableMarkdown } from "../cli/flags/settings.ts";
import { withFlagTable } from "../scripts/readme-flags.ts";
import {
  configProblems,
  defaultConfig,
  savedConfig,
  SETTINGS,
  settingsFileProblems,
  type TrainConfig,
} from "../src/train/config.ts";
import {
  defaultsOf,
  int,
  rowProblems,
  savedSettingsOf,
  type SettingsOf,
  unknownKeyProblems,
  valueTypeProblems,
} from "../src/train/setting_rows.ts";
import { LIBRARY_VOCABULARY } from "../src/util/vocabulary.ts";
import { FLAG_VOCABULARY } from "../cli/flag_vocabulary.ts";

// the one edit: a row (warm-up epochs, say), added after runs were saved without it
const WITH_WARMUP = {
  ...SETTINGS,
  warmupEpochs: int({
    help: "plain epochs before the first masked one",
    default: 0,
    absentMeans: 0,
    min: 0,
    forkable: true,
  }),
  warmupLr: int({ help: "learning-rate warm-up steps", default: 10, min: 1, max: 1000 }),
} as const;
type WithWarmup = SettingsOf<typeof WITH_WARMUP>;

Deno.test("settings table: a new row reaches the type's keys, the defaults, the checks, the flags and the README", () => {
  // the type: the new keys with their value types; a required one (a default every run records)
  // must be there, one that old runs lack is optional
  const c: WithWarmup = { ...defaultConfig(), warmupEpochs: 2, warmupLr: 5 };
  const epochs: number | undefined = c.warmupEpochs;
  const steps: number = c.warmupLr;
  assert.deepEqual([epochs, steps], [2, 5]);
  // @ts-expect-error warmupLr has a default and no absentMeans: required
  const lacking: WithWarmup = { ...defaultConfig() };
  const optional: Omit<WithWarmup, "warmupLr"> = { ...defaultConfig() }; // warmupEpochs may be absent
  assert.ok(lacking && optional);

  // the defaults
  const defaults = defaultsOf(WITH_WARMUP, {});
  assert.equal(defaults.warmupEpochs, 0);
  assert.equal(defaults.warmupLr, 10);
  assert.equal(defaultsOf(WITH_WARMUP, { warmupEpochs: 3 }).warmupEpochs, 3);
  // a run saved before the row ran as absentMeans says
  assert.equal(savedSettingsOf(WITH_WARMUP, { ...defaultConfig() }).warmupEpochs, 0);

  // the checks, keyed by setting, in the library's words and the CLI's
  const bad = rowProblems(WITH_WARMUP, { ...defaults, warmupEpochs: -1, warmupLr: 1.5 });
  assert.deepEqual(bad.map((p) => p.settings), [["warmupEpochs"], ["warmupLr"]]);
  assert.deepEqual(bad.map((p) => p.render(LIBRARY_VOCABULARY)), [
    "warmupEpochs must be a non-negative integer, got -1",
    "warmupLr must be an integer in [1, 1000], got 1.5",
  ]);
  assert.deepEqual(bad.map((p) => p.render(FLAG_VOCABULARY)), [
    "--warmup-epochs must be a non-negative integer, got -1",
    "--warmup-lr must be an integer in [1, 1000], got 1.5",
  ]);
  assert.deepEqual(rowProblems(WITH_WARMUP, defaults), []);
  assert.deepEqual(
    rowProblems(WITH_WARMUP, { ...defaults, warmupLr: 1001 }).map((p) =>
      p.render(LIBRARY_VOCABULARY)
    ),
    ["warmupLr must be an integer in [1, 1000], got 1001"],
  );
  // a settings file (--config, config.json): the keys are known, their value types checked
  assert.deepEqual(unknownKeyProblems(WITH_WARMUP, { warmupEpochs: 1, warmup_lr: 2 }), [
    `unknown setting "warmup_lr" (did you mean "warmupLr"?)`,
  ]);
  // names every object has are not settings
  assert.deepEqual(
    unknownKeyProblems(WITH_WARMUP, JSON.parse(`{"constructor": 1, "__proto__": 2}`)),
    [
      `unknown setting "constructor"`,
      `unknown setting "__proto__"`,
    ],
  );
  assert.deepEqual(valueTypeProblems(WITH_WARMUP, { warmupEpochs: "2" }), [
    `"warmupEpochs" must be a number, got "2"`,
  ]);

  // the flags: parsed, with their help and default
  const cmd = addTrainFlags(new Command("train").exitOverride(), [], WITH_WARMUP);
  cmd.parse(["--warmup-epochs", "4", "--epochs", "9"], { from: "user" });
  assert.deepEqual(flagsToConfig(cmd.opts(), WITH_WARMUP), { warmupEpochs: 4, epochs: 9 });
  assert.match(
    cmd.helpInformation(),
    /--warmup-epochs <n>\s+plain epochs before the first masked one\s+\(default 0\)/,
  );

  // the README's list
  const readme = "intro\n<!-- train-flags:start -->\n<!-- train-flags:end -->\n" +
    "<!-- presets:start -->\n<!-- presets:end -->\n";
  assert.match(
    withFlagTable(readme, WITH_WARMUP),
    /\| `--warmup-epochs <n>` +\| `warmupEpochs` +\| plain epochs before the first masked one \(default 0\) +\|/,
  );
  assert.ok(!flagTableMarkdown().includes("warmup"), "the real table is untouched");
});

Deno.test("settings table: the library's config functions are the table's machinery on the real table", () => {
  const given: Partial<TrainConfig> = { model: "resnet18", lr: 0.5 };
  assert.deepEqual(defaultConfig(given), defaultsOf(SETTINGS, given));
  // derived defaults read the rows before them: the model's Table I optimizer
  assert.equal(defaultConfig(given).optimizer, "sgd");
  const bad = { ...defaultConfig(), epochs: 0, fill: "noise" } as unknown as TrainConfig;
  assert.deepEqual(
    configProblems(bad),
    rowProblems(SETTINGS, bad).map((p) => p.render(LIBRARY_VOCABULARY)),
  );
  assert.deepEqual(settingsFileProblems({ epoch: 1, lr: "x" }), [
    `unknown setting "epoch"`,
    `"lr" must be a number, got "x"`,
  ]);
  const old = defaultConfig() as Partial<TrainConfig>;
  delete old.normalization;
  delete old.precision;
  const ran = savedConfig(old as TrainConfig);
  assert.equal(ran.normalization, "dataset");
  assert.equal(ran.precision, "fp32");
});
