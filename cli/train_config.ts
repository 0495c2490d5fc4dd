/**
 * A training configuration from the command line: defaults (with the model's Table I optimizer
 * and learning rate), then a --preset's settings, then a --config JSON file, then the flags;
 * every problem a UsageError.
 * Used by `train`, `compare` and `demo`.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import {
  defaultConfig,
  settingProblems,
  settingsFileProblems,
  type TrainConfig,
} from "../src/train/config.ts";
import { FLAG_VOCABULARY } from "./flag_vocabulary.ts";
import { checkInputFile, checkInputFolder } from "./paths.ts";

/**
 * Reads a --config JSON file: an object of settings, or a run folder's config.json (settings
 * under "config"). Errors name the file and every unknown key.
 */
function readConfigFile(path: string): Partial<TrainConfig> {
  if (path === "") throw new UsageError(`--config "" is empty: give a JSON file`);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new UsageError(`--config ${path}: cannot read (${(e as Error).message})`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path}: invalid JSON (${(e as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(j)) {
    throw new UsageError(`--config ${path}: expected a JSON object of settings, got ${kindOf(j)}`);
  }
  const runFile = "config" in j && "versions" in j; // a run folder's config.json
  const settings = runFile ? j.config : j;
  if (!isObject(settings)) {
    throw new UsageError(`--config ${path}: "config" must be an object, got ${kindOf(settings)}`);
  }
  const problems = settingsFileProblems(settings);
  if (problems.length) throw new UsageError(`--config ${path}: ${problems.join("; ")}`);
  return settings as Partial<TrainConfig>;
}

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}

/**
 * Defaults, then the preset (named by the flags or the file), then the config file, then the
 * flags; throws UsageError listing every problem.
 */
export function resolveConfig(flags: Record<string, unknown>, configFile?: string): TrainConfig {
  const fromFile = configFile !== undefined ? readConfigFile(configFile) : {};
  const merged = { ...fromFile, ...flags } as Partial<TrainConfig>;
  // defaultConfig applies the preset under the given settings, and the model's optimizer/lr
  // (Table I) where neither sets them
  const config = defaultConfig(merged);
  const problems = settingProblems(config);
  if (problems.length) {
    throw new UsageError(problems.map((p) => p.render(FLAG_VOCABULARY)).join("; "));
  }
  if (config.pretrained !== undefined) checkInputFile("--pretrained", config.pretrained);
  if (config.dataDir !== undefined) checkInputFolder("--data-dir", config.dataDir);
  return config;
}
