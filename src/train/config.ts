/**
 * A training run's configuration: its type and defaults, derived from the settings table
 * (config_fields.ts), and its checks: each setting's own (from its row), then the short list of
 * rules that tie several settings together, each problem keyed by the settings it names.
 *
 * @module
 */

import { SCHEDULE_KEYS, type ScheduleConfig } from "./schedule.ts";
import { findPreset } from "./presets.ts";
import { checkMemory, MemoryBoundError } from "../util/memory.ts";
import { SETTINGS } from "./config_fields.ts";
import {
  defaultsOf,
  helpIn,
  rowProblems,
  savedSettingsOf,
  type SettingsOf,
  unknownKeyProblems,
  valueTypeProblems,
} from "./setting_rows.ts";
import {
  LIBRARY_VOCABULARY,
  SettingError,
  type SettingProblem,
  type Words,
} from "../util/vocabulary.ts";

export * from "./config_fields.ts";
export {
  describePreset,
  findPreset,
  type Preset,
  PRESET_NAMES,
  PRESETS,
  type PresetSettings,
  presetWeightsWarning,
} from "./presets.ts";

/**
 * Everything a run needs; saved as config.json in the run folder. One key per row of
 * {@link SETTINGS} (config_fields.ts), which documents each: its kind, allowed values, default
 * and the paper's line. A setting with a default is required, except those that runs saved
 * before it lack (their rows' `absentMeans`).
 */
export type TrainConfig = SettingsOf<typeof SETTINGS>;

/**
 * The default configuration for a model (shallow-cnn hlgm on Fashion-MNIST when empty). With
 * `preset`, the preset's settings come first and the other given values override them; every
 * setting still unset takes its row's default ({@link SETTINGS}), the optimizer and learning
 * rate the model's (Table I).
 */
export function defaultConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  // an unknown preset name sets nothing here; configProblems reports it
  const preset = partial.preset === undefined ? undefined : findPreset(partial.preset);
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  return defaultsOf(SETTINGS, { ...preset?.settings, ...given }) as TrainConfig;
}

/**
 * A saved run's config as the run ran: settings added since it was saved take what runs before
 * them ran as (their rows' `absentMeans`: the dataset's normalisation, fp32, ...).
 */
export function savedConfig(saved: TrainConfig): TrainConfig {
  return savedSettingsOf(SETTINGS, saved) as TrainConfig;
}

/** Why fp16-mixed cannot train on the CPU (checked again once device "auto" is resolved). */
export const FP16_ON_CPU =
  "precision fp16-mixed needs a CUDA device (float16 autocast with loss scaling); on the CPU use bf16-mixed";

/**
 * Every problem with a config, each keyed by the settings it is about: first each setting's own
 * (its row: kind, allowed values, range), then the rules that tie several settings together,
 * then (when nothing else is wrong) the memory the sizes need.
 */
export function settingProblems(c: TrainConfig): SettingProblem[] {
  const p = [...rowProblems(SETTINGS, c), ...crossProblems(c)];
  if (p.length === 0) p.push(...memoryProblems(c));
  return p;
}

/** {@link settingProblems}' messages, as a library user names the settings (empty = valid). */
export function configProblems(c: TrainConfig): string[] {
  return settingProblems(c).map((p) => p.render(LIBRARY_VOCABULARY));
}

/** `c` when it is valid; else a {@link SettingError} listing every problem. */
export function checkedConfig(c: TrainConfig): TrainConfig {
  const problems = settingProblems(c);
  if (problems.length) throw SettingError.of(problems, "invalid configuration: ");
  return c;
}

/**
 * What is wrong with a settings object read from a file before its values can be checked: keys
 * that are not settings (with the one probably meant) and values of the wrong type, each naming
 * its key as the file spells it.
 */
export function settingsFileProblems(settings: Readonly<Record<string, unknown>>): string[] {
  return [...unknownKeyProblems(SETTINGS, settings), ...valueTypeProblems(SETTINGS, settings)];
}

/** A problem about `settings`, its text in the reader's words. */
function problem(settings: string[], render: Words): SettingProblem {
  return { settings, render };
}

/** The rules that tie several settings together. */
function crossProblems(c: TrainConfig): SettingProblem[] {
  const p: SettingProblem[] = [];
  if (c.stem !== undefined && c.model === "shallow-cnn") {
    p.push(
      problem(
        ["stem", "model"],
        (v) =>
          `${v.setting("stem")} applies to resnet18 and deit-tiny, not shallow-cnn (got ${c.stem})`,
      ),
    );
  }
  if (c.switchBy !== undefined && c.switchEpoch !== undefined) {
    p.push(
      problem(
        ["switchBy", "switchEpoch"],
        (v) =>
          `${v.setting("switchBy")} limits the plateau rule, which ${v.setting("switchEpoch")} ` +
          "replaces: give one of them",
      ),
    );
  }
  if (c.precision === "fp16-mixed" && c.device === "cpu") {
    p.push(problem(["precision", "device"], () => FP16_ON_CPU));
  }
  if (c.channelsLast && c.model === "deit-tiny") {
    p.push(
      problem(
        ["channelsLast", "model"],
        (v) =>
          `${v.setting("channelsLast")} applies to the convolutional models (shallow-cnn, ` +
          "resnet18), not deit-tiny",
      ),
    );
  }
  if (
    c.monitor !== "train_loss" && c.valFraction === 0 && c.method === "hlgm" &&
    c.switchEpoch === undefined
  ) {
    p.push(
      problem(
        ["monitor", "valFraction"],
        (v) =>
          `monitor ${c.monitor} needs a validation split (${v.setting("valFraction")} > 0), ` +
          `or use ${v.setting("switchEpoch")} or ${v.settingValue("monitor", "train_loss")}`,
      ),
    );
  }
  return p;
}

/**
 * Sizes that would need more memory than the machine has, known from the settings alone (lower
 * bounds: one channel, the inputs only, no activations): the float32 batch at --image-size or
 * on the cluttered canvas, and the images --subset generates for the synthetic set. Sizes
 * that depend on the data files (a split at its size) are checked when it loads.
 */
function memoryProblems(c: TrainConfig): SettingProblem[] {
  const p: SettingProblem[] = [];
  const check = (bytes: number, what: string, key: string) => {
    try {
      checkMemory(bytes, what);
    } catch (e) {
      if (!(e instanceof MemoryBoundError)) throw e;
      // `what` names the setting as {key}: said in the reader's words
      p.push(problem([key], (v) => helpIn(e.message, v, SETTINGS)));
    }
  };
  const batch = c.batchSize;
  for (const [key, side] of [["imageSize", c.imageSize], ["canvas", c.canvas]] as const) {
    if (side === undefined || (key === "canvas" && c.dataset !== "cluttered-fmnist")) continue;
    check(
      batch * side * side * 4,
      `{${key}} ${side}: one batch of ${batch} float32 inputs of ${side}x${side} pixels (at least)`,
      key,
    );
  }
  if (c.dataset === "synthetic" && c.subset !== undefined) {
    check(
      c.subset * 28 * 28,
      `{subset} ${c.subset}: ${c.subset} generated 28x28 synthetic images`,
      "subset",
    );
  }
  return p;
}

/** The schedule part of a config. */
export function scheduleOf(c: TrainConfig): ScheduleConfig {
  return Object.fromEntries(SCHEDULE_KEYS.map((k) => [k, c[k]])) as ScheduleConfig;
}
