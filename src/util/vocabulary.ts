/**
 * How messages name what the user can change. The engine's advice ("try a lower lr", "add
 * overwrite to train over it") names settings by their config keys and calls by their options,
 * as a library user writes them; the CLI installs its own vocabulary at start, so the same
 * advice names its flags (`--lr`, `--force`). An error about settings is a {@link SettingError},
 * which carries the keys it is about.
 *
 * @module
 */

/** The words a message uses for the things a user can change. */
export interface Vocabulary {
  /** A training setting by its config key (library `lr`, CLI `--lr`). */
  setting(key: string): string;
  /** A setting given a value (library `precision: "fp32"`, CLI `--precision fp32`). */
  settingValue(key: string, value: string): string;
  /** Training over a folder's results (library `overwrite: true`, CLI `--force`). */
  overwrite(): string;
  /** Going on with a run in `dir` (library `train(config, dir, { resume: true })`, CLI `hlgm train --resume DIR`). */
  resume(dir: string): string;
  /** Another run folder (library "another run folder", CLI "another --out"). */
  anotherFolder(): string;
}

/** What a library user writes: config keys and train() options. */
export const LIBRARY_VOCABULARY: Vocabulary = {
  setting: (key) => key,
  settingValue: (key, value) => `${key}: ${JSON.stringify(value)}`,
  overwrite: () => "the option overwrite: true",
  resume: (dir) => `train(config, ${JSON.stringify(dir)}, { resume: true })`,
  anotherFolder: () => "another run folder",
};

let current: Vocabulary = LIBRARY_VOCABULARY;

/** The vocabulary messages use now. */
export function words(): Vocabulary {
  return current;
}

/** Makes messages use `v` from now on (the CLI calls it once, at start). */
export function useVocabulary(v: Vocabulary): void {
  current = v;
}

/**
 * An error about settings; `settings` holds the config keys it names. A RangeError: a setting's
 * value is outside what the run can take (the errors it replaced were RangeErrors).
 */
export class SettingError extends RangeError {
  /** The config keys of the settings the message is about. */
  readonly settings: readonly string[];

  /** An error about `settings` (config keys) with `message` in the current vocabulary. */
  constructor(settings: readonly string[], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SettingError";
    this.settings = [...settings];
  }
}
