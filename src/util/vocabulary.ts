/**
 * How messages name what the user can change. The engine's advice ("try a lower lr", "add
 * overwrite to train over it") is {@link Words}: text in whichever vocabulary its reader uses.
 * An error that gives advice carries its Words: its `message` names settings by their config
 * keys and calls by their options, as a library user writes them ({@link LIBRARY_VOCABULARY}),
 * and its `render(v)` in another vocabulary: the CLI renders errors with its flags (`--lr`,
 * `--force`) where it prints them. Text that is not an error (a warning, a note, a result's
 * message) is made by a function that takes the vocabulary as a parameter. There is no
 * process-wide vocabulary.
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

/** Text in whichever vocabulary its reader uses: `render(LIBRARY_VOCABULARY)`, or the CLI's. */
export type Words = (v: Vocabulary) => string;

/** A problem with settings: the config keys it is about, and its text in any vocabulary. */
export interface SettingProblem {
  /** The config keys the problem is about. */
  readonly settings: readonly string[];
  /** The message, naming the settings in `v`'s words. */
  readonly render: Words;
}

/**
 * An error about settings; `settings` holds the config keys it names. Its `message` names them
 * as a library user writes them; {@link SettingError.render} in another vocabulary (the CLI's
 * flags). A RangeError: a setting's value is outside what the run can take.
 */
export class SettingError extends RangeError implements Renderable {
  /** The config keys of the settings the message is about. */
  readonly settings: readonly string[];
  readonly #words: Words;

  /** An error about `settings` (config keys); `message` is fixed text or text in any vocabulary. */
  constructor(settings: readonly string[], message: string | Words, options?: ErrorOptions) {
    const words: Words = typeof message === "string" ? () => message : message;
    super(words(LIBRARY_VOCABULARY), options);
    this.name = "SettingError";
    this.settings = [...settings];
    this.#words = words;
  }

  /** The message in vocabulary `v`. */
  render(v: Vocabulary): string {
    return this.#words(v);
  }

  /** One error for several problems: `prefix` then each problem's text, joined by "; ". */
  static of(problems: readonly SettingProblem[], prefix = ""): SettingError {
    return new SettingError(
      [...new Set(problems.flatMap((p) => p.settings))],
      (v) => prefix + problems.map((p) => p.render(v)).join("; "),
    );
  }
}

/** Something thrown whose message can be said in any vocabulary. */
export interface Renderable {
  /** The message in vocabulary `v`. */
  render(v: Vocabulary): string;
}

/**
 * An error whose message advises what to change (a setting, an option); `message` is in the
 * library's words, {@link AdviceError.render} in another vocabulary.
 */
export class AdviceError extends Error implements Renderable {
  readonly #words: Words;

  /** An error saying `message` (text in any vocabulary). */
  constructor(message: Words, options?: ErrorOptions) {
    super(message(LIBRARY_VOCABULARY), options);
    this.name = "Error";
    this.#words = message;
  }

  /** The message in vocabulary `v`. */
  render(v: Vocabulary): string {
    return this.#words(v);
  }
}

/** Whether `e` can say its message in another vocabulary. */
export function isRenderable(e: unknown): e is Renderable {
  return typeof (e as Partial<Renderable> | null)?.render === "function";
}

/** What was thrown, as a message in vocabulary `v` (its plain message when it has no Words). */
export function messageIn(e: unknown, v: Vocabulary): string {
  if (isRenderable(e)) return e.render(v);
  return e instanceof Error ? e.message : String(e);
}
