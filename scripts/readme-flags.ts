/**
 * Writes the README's table of training flags from the settings table
 * (src/train/config_fields.ts), between the `train-flags` markers. `--check` only compares and
 * exits 1 when the README is stale (tests/config_fields_test.ts does the same).
 *
 *   deno run -A scripts/readme-flags.ts [--check]
 *
 * @module
 */

import { flagTableMarkdown } from "../cli/train_flags.ts";
import { writeOrCheck } from "./generated_file.ts";

const START = "<!-- train-flags:start -->";
const END = "<!-- train-flags:end -->";

/** The README text with the generated table between the markers. */
export function withFlagTable(readme: string): string {
  const a = readme.indexOf(START), b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} ... ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n\n${flagTableMarkdown()}\n\n${readme.slice(b)}`;
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const next = withFlagTable(Deno.readTextFileSync(path));
  writeOrCheck(path, next, "deno run -A scripts/readme-flags.ts", Deno.args);
}
