/**
 * The settings in which a saved run differs from a requested one: what resume, compare and
 * sweep refuse to mix.
 *
 * @module
 */

import { defaultConfig, type TrainConfig } from "./config.ts";
import { runNormalization } from "./normalization.ts";

// how and where a run computes, not what: a resume may move it to a GPU or change the layout;
// and which checkpoints it keeps
const KEYS_IGNORED = new Set(["device", "dataDir", "channelsLast", "keepEvery"]);

/** Settings in which a saved run differs from the requested one (device and data dir aside). */
export function configDifferences(saved: TrainConfig, wanted: TrainConfig): string[] {
  // settings added since the run was saved take their defaults (which keep the old behaviour),
  // except the normalisation: a run saved before it was recorded used the dataset's statistics,
  // whatever a new run with its settings would take
  const a = {
    ...defaultConfig(saved),
    normalization: runNormalization(saved),
  } as unknown as Record<string, unknown>;
  const b = wanted as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => !KEYS_IGNORED.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
}
