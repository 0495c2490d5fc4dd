/**
 * What the commands' flag declarations share: value parsers (positive integers, "all", devices),
 * the options several commands take alike (--checkpoint, --colormap), and the help's examples.
 *
 * @module
 */

import { cliMessage } from "../flag_vocabulary.ts";
import { InvalidArgumentError, Option } from "commander";
import { UsageError } from "../errors.ts";
import { COLORMAPS, DEFAULT_COLORMAP } from "../../src/report/colormap.ts";
import { ATTRIBUTION_METHODS } from "../../src/saliency/names.ts";
import { CHECKPOINT_RULES, type CheckpointRule } from "../../src/run_folder/checkpoint_rules.ts";
import { DEFAULT_SIB_CHECKPOINT, SIB_CHECKPOINT_WHY } from "../../src/runs/sib_defaults.ts";
import { REDUCTIONS } from "../../src/train/config_fields.ts";

/** A parser of a positive integer flag value; `name` names the flag in its error. */
export function positiveInt(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    }
    return n;
  };
}

/** A positive integer, or "all". */
export function countOrAll(name: string): (value: string) => number | "all" {
  const count = positiveInt(name);
  return (value: string): number | "all" => value === "all" ? "all" : count(value);
}

/** --checkpoint's help. */
const CHECKPOINT_HELP: string =
  "which checkpoint: the best validation accuracy, the last epoch, or " +
  "the best among the masked epochs (HLGM after its switch; a run that never masked: its best)";

/** --checkpoint, the same on every command that loads a run (eval, saliency, report: best). */
export const checkpointOption = (): Option =>
  new Option("--checkpoint <rule>", CHECKPOINT_HELP).choices([...CHECKPOINT_RULES]).default(
    "best" satisfies CheckpointRule,
  );

/** --checkpoint of the commands that score SIB (sib, compare, sweep): the SIB default. */
export const sibCheckpointOption = (): Option =>
  new Option(
    "--checkpoint <rule>",
    `${CHECKPOINT_HELP}: ${CHECKPOINT_RULES.join(", ")} (default ${DEFAULT_SIB_CHECKPOINT}: ` +
      `${SIB_CHECKPOINT_WHY})`,
  ).choices([...CHECKPOINT_RULES]).default(DEFAULT_SIB_CHECKPOINT);

/** What "--n all" / "--sib-n all" means, for the help of sib, compare and sweep. */
export const SIB_N_HELP: string =
  'or all: every test image with a box (the paper scores "all images in the ' +
  'test set")';

/** A parser of a non-negative integer flag value; `name` names the flag in its error. */
export function nonNegativeInt(name: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    }
    return n;
  };
}

/** A parser of --device: auto, cpu, cuda or cuda:N. */
export function device(value: string): string {
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(value)) {
    throw new InvalidArgumentError(`expected auto, cpu, cuda or cuda:N, got "${value}"`);
  }
  return value;
}

/** `name` when the registry knows it, else a usage error (registry loaded lazily). */
export async function knownDataset(name: string): Promise<string> {
  const { datasetSpec } = await import("../../src/data/registry.ts");
  try {
    datasetSpec(name);
  } catch (e) {
    throw new UsageError(cliMessage(e));
  }
  return name;
}

/** The attribution methods, as --method / --sib-method choices. */
export const ATTRIBUTION_CHOICES: string[] = [...ATTRIBUTION_METHODS];

/** --reduction: how attributions' channels become one map (the settings table's REDUCTIONS). */
export const reductionOption = (): Option =>
  new Option("--reduction <how>", "channel reduction of attributions").choices([...REDUCTIONS])
    .default("mean" satisfies typeof REDUCTIONS[number]);

/** --colormap, the same on every command that draws heat maps. */
export const colormapOption = (): Option =>
  new Option("--colormap <name>", "heat-map colours").choices([...COLORMAPS]).default(
    DEFAULT_COLORMAP,
  );

/** The "Examples:" block at the end of a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}
