/**
 * The command line's words for what a user can change: flags. The CLI's `main` installs it (and
 * a sweep's worker processes, which the CLI starts), so the engine's advice names `--lr` and
 * `--force` where a library user reads `lr` and `overwrite: true`.
 *
 * @module
 */

import { flagName } from "./config_fields.ts";
import { hlgmCommand } from "../util/command.ts";
import type { Vocabulary } from "../util/vocabulary.ts";

/** Flags for settings, `--force`, `hlgm train --resume DIR`, `--out`. */
export const FLAG_VOCABULARY: Vocabulary = {
  setting: (key) => `--${flagName(key)}`,
  settingValue: (key, value) => `--${flagName(key)} ${value}`,
  overwrite: () => "--force",
  resume: (dir) => `\`${hlgmCommand()} train --resume ${dir}\``,
  anotherFolder: () => "another --out",
};
