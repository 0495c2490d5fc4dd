/**
 * The training settings' flags, of `train` (also of `compare`, `sweep` and `demo`), built from
 * the one settings table (src/train/config_fields.ts): parsed loosely here, then merged over the
 * defaults and a --config file and validated as a whole by src/train/config.ts.
 *
 * @module
 */

import type { Command } from "commander";
import {
  CONFIG_FIELDS,
  type ConfigField,
  flagName,
  integerOf,
} from "../../src/train/config_fields.ts";
import { defaultConfig } from "../../src/train/config.ts";
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
function fieldHelp(f: ConfigField): string {
  const value = (defaultConfig() as unknown as Record<string, unknown>)[f.key];
  const dflt = f.defaultText ?? (value === undefined ? undefined : String(value));
  const choices = f.choices ? `: ${f.choices.join(", ")}` : "";
  return `${f.help}${choices}${dflt === undefined ? "" : ` (default ${dflt})`}`;
}

const ARG: Record<ConfigField["kind"], string> = {
  int: "<n>",
  number: "<x>",
  string: "<name>",
  path: "<dir>",
  flag: "",
};

/** Adds every training flag to a command. No defaults here: unset flags keep config values. */
export function addTrainFlags(c: Command, exclude: readonly string[] = []): Command {
  for (const f of CONFIG_FIELDS.filter((f) => !exclude.includes(f.key))) {
    const flag = `--${flagName(f.key)}`;
    const parser = parse(f.kind);
    const arg = f.arg ?? ARG[f.kind];
    if (f.kind === "flag") {
      c.option(flag, fieldHelp(f)).option(
        `--no-${flagName(f.key)}`,
        f.offHelp ?? `no ${f.help.split(" (")[0]}`,
      );
    } else if (parser) {
      c.option(`${flag} ${arg}`, fieldHelp(f), parser);
    } else {
      c.option(`${flag} ${arg}`, fieldHelp(f));
    }
  }
  return c;
}

/** The config fields set by flags (undefined = not given). */
export function flagsToConfig(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    CONFIG_FIELDS.filter((f) => o[f.key] !== undefined).map((f) => [f.key, o[f.key]]),
  );
}

/** The flags as a Markdown table (the README's list, written by scripts/readme-flags.ts). */
export function flagTableMarkdown(): string {
  const rows = CONFIG_FIELDS.map((f) => {
    const arg = f.arg ?? ARG[f.kind];
    const flag = `\`--${flagName(f.key)}${arg ? ` ${arg}` : ""}\``;
    return [flag, `\`${f.key}\``, fieldHelp(f).replaceAll("|", "\\|")];
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
