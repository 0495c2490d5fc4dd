/**
 * The CLI's words for what a user can change: flags. `main` installs it, so the engine's advice
 * names `--lr` and `--force` where a library user reads `lr` and `overwrite: true`.
 *
 * @module
 */

import { flagName } from "../src/train/config_fields.ts";
import { hlgmCommand } from "../src/util/command.ts";
import type { Vocabulary } from "../src/util/vocabulary.ts";

/** Flags for settings, `--force`, `hlgm train --resume DIR`, `--out`. */
export const CLI_VOCABULARY: Vocabulary = {
  setting: (key) => `--${flagName(key)}`,
  settingValue: (key, value) => `--${flagName(key)} ${value}`,
  overwrite: () => "--force",
  resume: (dir) => `\`${hlgmCommand()} train --resume ${dir}\``,
  anotherFolder: () => "another --out",
};
