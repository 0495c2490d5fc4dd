/**
 * The settings in which a saved run differs from a requested one: what resume, compare and
 * sweep refuse to mix.
 *
 * @module
 */

import { CONFIG_FIELDS, savedConfig, type TrainConfig } from "./config.ts";

// how and where a run computes, not what: a resume may move it to a GPU or change the layout;
// and which checkpoints it keeps
const KEYS_IGNORED = new Set(
  CONFIG_FIELDS.filter((f) => f.affectsResults === false).map((f) => f.key),
);

/** Settings in which a saved run differs from the requested one (device and data dir aside). */
export function configDifferences(saved: TrainConfig, wanted: TrainConfig): string[] {
  // settings added since the run was saved take what the run ran as (the normalisation of a run
  // saved before it was recorded: the dataset's, whatever a new run with its settings would take)
  const a = savedConfig(saved) as unknown as Record<string, unknown>;
  const b = wanted as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => !KEYS_IGNORED.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
}
