/**
 * The command line's words for what a user can change: flags. The CLI renders the engine's
 * errors in them where it prints them (cli/main.ts, and where it turns an error into a usage
 * error), and passes them to what reports in words (a run's messages, warnings, notes), so the
 * engine's advice names `--lr` and `--force` where a library user reads `lr` and
 * `overwrite: true`. The only place flags are spelled for the engine's messages.
 *
 * @module
 */

import { flagName } from "../src/train/config_fields.ts";
import { hlgmCommand } from "../src/util/command.ts";
import { messageIn, type Vocabulary } from "../src/util/vocabulary.ts";

/** Flags for settings, `--force`, `hlgm train --resume DIR`, `--out`. */
export const FLAG_VOCABULARY: Vocabulary = {
  setting: (key) => `--${flagName(key)}`,
  settingValue: (key, value) => `--${flagName(key)} ${value}`,
  overwrite: () => "--force",
  resume: (dir) => `\`${hlgmCommand()} train --resume ${dir}\``,
  anotherFolder: () => "another --out",
};

/** What was thrown, as the CLI says it: an engine error's advice in flags. */
export function cliMessage(e: unknown): string {
  return messageIn(e, FLAG_VOCABULARY);
}
