/**
 * The training settings' flags, of `train` (also of `compare`, `sweep` and `demo`), built from
 * the one settings table (src/train/config_fields.ts): parsed loosely here, then merged over the
 * defaults and a --config file and validated as a whole by src/train/config.ts. Each function
 * takes the table, so a test can show that a new row reaches the flags and the README.
 *
 * @module
 */

import type { Command } from "commander";
import {
  type ConfigField,
  defaultsOf,
  fieldsOf,
  flagName,
  helpIn,
  integerOf,
  type SettingsTable,
} from "../../src/train/setting_rows.ts";
import { FLAG_VOCABULARY } from "../flag_vocabulary.ts";
import { SETTINGS } from "../../src/train/config_fields.ts";
import { describePreset, PRESETS } from "../../src/train/presets.ts";

/** A number from a flag; text that is not one stays text, so validation can quote it. */
function parse(kind: ConfigField["kind"]): ((v: string) => number | string) | undefined {
  if (kind === "int") return (v) => integerOf(v) ?? v;
  if (kind === "number") {
    return (v) => (v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v);
  }
  return undefined;
}

/** The help line of a field: what it sets, the allowed values, the default. */
function fieldHelp(
  f: ConfigField,
  defaults: Record<string, unknown>,
  table: SettingsTable,
): string {
  const value = defaults[f.key];
  const dflt = f.defaultText ?? (value === undefined ? undefined : String(value));
  const choices = f.choices ? `: ${f.choices.join(", ")}` : "";
  const text = `${f.help}${choices}${dflt === undefined ? "" : ` (default ${dflt})`}`;
  return helpIn(text, FLAG_VOCABULARY, table);
}

const ARG: Record<ConfigField["kind"], string> = {
  int: "<n>",
  number: "<x>",
  string: "<name>",
  path: "<dir>",
  flag: "",
};

/**
 * Adds a flag per setting of `table` (the training settings by default) to a command. No
 * defaults here: unset flags keep config values.
 */
export function addTrainFlags(
  c: Command,
  exclude: readonly string[] = [],
  table: SettingsTable = SETTINGS,
): Command {
  const defaults = defaultsOf(table, {});
  for (const f of fieldsOf(table).filter((f) => !exclude.includes(f.key))) {
    const flag = `--${flagName(f.key)}`;
    const parser = parse(f.kind);
    const arg = f.arg ?? ARG[f.kind];
    if (f.kind === "flag") {
      c.option(flag, fieldHelp(f, defaults, table)).option(
        `--no-${flagName(f.key)}`,
        helpIn(f.offHelp ?? `no ${f.help.split(" (")[0]}`, FLAG_VOCABULARY, table),
      );
    } else if (parser) {
      c.option(`${flag} ${arg}`, fieldHelp(f, defaults, table), parser);
    } else {
      c.option(`${flag} ${arg}`, fieldHelp(f, defaults, table));
    }
  }
  return c;
}

/** The settings the flags set (undefined = not given). */
export function flagsToConfig(
  o: Record<string, unknown>,
  table: SettingsTable = SETTINGS,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(table).filter((k) => o[k] !== undefined).map((k) => [k, o[k]]),
  );
}

/** The flags as a Markdown table (the README's list, written by scripts/readme-flags.ts). */
export function flagTableMarkdown(table: SettingsTable = SETTINGS): string {
  const defaults = defaultsOf(table, {});
  const rows = fieldsOf(table).map((f) => {
    const arg = f.arg ?? ARG[f.kind];
    // an on/off setting has both forms
    const flag = f.kind === "flag"
      ? `\`--${flagName(f.key)}\` / \`--no-${flagName(f.key)}\``
      : `\`--${flagName(f.key)}${arg ? ` ${arg}` : ""}\``;
    return [flag, `\`${f.key}\``, fieldHelp(f, defaults, table).replaceAll("|", "\\|")];
  });
  const header = ["flag", "config key", "what (default)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}

/** The presets for `--help`: name, settings, the paper's rows (src/train/presets.ts). */
export function presetHelp(): string {
  const width = Math.max(...PRESETS.map((p) => p.name.length));
  const pad = "".padEnd(width);
  const lines = PRESETS.flatMap((p) => [
    `  ${p.name.padEnd(width)}  ${describePreset(p)}`,
    `  ${pad}  (${p.paper})`,
    ...(p.imagenet
      ? [
        `  ${pad}  the paper started it from ImageNet weights: --pretrained FILE (${p.imagenet.weights})`,
      ]
      : []),
  ]);
  return `\nPresets (--preset NAME): the paper's set-ups; settings given explicitly override ` +
    `them.\nThey choose no method and load no weights (the paper's ResNet-18 and DeiT-tiny ` +
    `started from\nImageNet weights: add --pretrained FILE, which also normalises with ` +
    `ImageNet's mean and std;\nwithout it, train warns).\n${lines.join("\n")}\n`;
}

/** The presets as a Markdown table (the README's list, written by scripts/readme-flags.ts). */
export function presetTableMarkdown(): string {
  const rows = PRESETS.map((p) => {
    const s = p.settings;
    return [
      `\`${p.name}\``,
      s.model,
      s.dataset,
      String(s.imageSize),
      s.stem ?? "-",
      s.optimizer,
      String(s.lr),
      String(s.batchSize),
      String(s.epochs),
      p.imagenet ? `ImageNet (\`--pretrained FILE\`: ${p.imagenet.weights})` : "random",
      `${p.paper}. ${p.note[0].toUpperCase()}${p.note.slice(1)}`.replaceAll("|", "\\|"),
    ];
  });
  const header = [
    "preset",
    "model",
    "dataset",
    "image size",
    "stem",
    "optimizer",
    "lr",
    "batch",
    "epochs",
    "the paper's weights",
    "the paper's rows; readings",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}
