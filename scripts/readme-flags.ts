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
  const text = Deno.readTextFileSync(path);
  const next = withFlagTable(text);
  if (Deno.args.includes("--check")) {
    if (next !== text) {
      console.error("README.md's flag table is stale: run deno run -A scripts/readme-flags.ts");
      Deno.exit(1);
    }
  } else if (next !== text) {
    Deno.writeTextFileSync(path, next);
    console.log("README.md: flag table updated");
  }
}
