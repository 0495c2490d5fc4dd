/**
 * Writes the README's table of training flags from the settings table
 * (src/train/config_fields.ts), between the `train-flags` markers, and its table of presets from
 * src/train/presets.ts, between the `presets` markers. `--check` only compares and exits 1 when
 * the README is stale (tests/config_fields_test.ts does the same).
 *
 *   deno run -A scripts/readme-flags.ts [--check]
 *
 * @module
 */

import { flagTableMarkdown, presetTableMarkdown } from "../cli/flags/settings.ts";
import { writeOrCheck } from "./generated_file.ts";
import { SETTINGS } from "../src/train/config_fields.ts";
import type { SettingsTable } from "../src/train/setting_rows.ts";

/** `readme` with `table` between the `<!-- name:start -->` and `<!-- name:end -->` markers. */
function between(readme: string, name: string, table: string): string {
  const start = `<!-- ${name}:start -->`, end = `<!-- ${name}:end -->`;
  const a = readme.indexOf(start), b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
  return `${readme.slice(0, a + start.length)}\n\n${table}\n\n${readme.slice(b)}`;
}

/**
 * The README text with the generated tables (the flags of `table`, the training settings by
 * default; the presets) between their markers.
 */
export function withFlagTable(readme: string, table: SettingsTable = SETTINGS): string {
  return between(
    between(readme, "train-flags", flagTableMarkdown(table)),
    "presets",
    presetTableMarkdown(),
  );
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const next = withFlagTable(Deno.readTextFileSync(path));
  writeOrCheck(path, next, "deno run -A scripts/readme-flags.ts", Deno.args);
}
