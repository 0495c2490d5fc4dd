/**
 * The engine's view of a run folder: {@link RunDir} with config.json's settings typed as
 * {@link TrainConfig} and checked as the settings table checks them (unknown keys, value
 * types, then every rule). The run-folder layer below does not know the settings; everything
 * above it opens run folders here.
 *
 * @module
 */

import { RunDir, type RunInfo } from "../run_folder/mod.ts";
import { configProblems, defaultConfig, settingsFileProblems, type TrainConfig } from "./config.ts";

/** A run's config.json, its settings typed. */
export type TrainRunInfo = RunInfo<TrainConfig>;

/** A run folder whose config.json holds training settings. */
export type TrainRunDir = RunDir<TrainConfig>;

/**
 * What is wrong with config.json's "config": unknown keys and values of the wrong type first
 * (the defaults cannot be filled in over those), else every rule the settings break.
 */
export function savedSettingsProblems(settings: Record<string, unknown>): string[] {
  const keys = settingsFileProblems(settings);
  return keys.length ? keys : configProblems(defaultConfig(settings as Partial<TrainConfig>));
}

/** Opens (does not create) the run folder at `path`. */
export function openRunDir(path: string): TrainRunDir {
  return new RunDir<TrainConfig>(path, savedSettingsProblems);
}
