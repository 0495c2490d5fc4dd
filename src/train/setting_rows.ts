/**
 * What one row of the settings table declares, and everything derived from a table: the
 * settings' type ({@link SettingsOf}), their defaults ({@link defaultsOf}), the per-setting
 * checks ({@link rowProblems}: value type, choices, range), a settings file's unknown keys and
 * value types, and how a flag's text parses. The table is config_fields.ts; the rules that tie
 * several settings together are config.ts's short list. Imports nothing that loads libtorch.
 *
 * Not a schema library (zod was weighed): a row holds more than a schema does (the flag's help
 * and placeholder, the paper's line, a default derived from earlier rows, what runs saved before
 * the setting ran as, whether a fork may change it), messages name a setting in the caller's
 * words (a key, a flag) rather than by an issue path, and the derivations here are short and add
 * no dependency to a library other projects import. Like zod's, the type is inferred from the
 * rows (so `deno lint`'s no-slow-types is off).
 *
 * @module
 */

import type { SettingProblem, Vocabulary } from "../util/vocabulary.ts";

/** Value kind: "int" and "number" are parsed from the flag's text; "flag" is on/off. */
export type SettingKind = "int" | "number" | "string" | "path" | "flag";

/** The settings resolved so far, which a derived default reads (the model, for its optimizer). */
export type EarlierSettings = Readonly<Record<string, unknown>>;

/** One setting's row. `V` is the type of its value. */
export interface SettingRow<V = unknown> {
  /** Value kind (and so the value's type, with `choices`). */
  kind: SettingKind;
  /** What it sets, without the default; `{key}` names another setting (see {@link helpIn}). */
  help: string;
  /** Allowed values, when a fixed list (the value's type is their union). */
  choices?: readonly string[];
  /**
   * The default: a value, or one derived from the settings before this row (in table order).
   * Without one the setting is unset unless given, and optional in the type.
   */
  default?: V | ((earlier: EarlierSettings) => V);
  /**
   * Runs saved before the setting existed lack it; they ran as with this value. Such a setting
   * is optional in the type although new runs record their default.
   */
  absentMeans?: V;
  /** Least allowed value (numbers). */
  min?: number;
  /** Allowed values must be greater than this (numbers). */
  above?: number;
  /** Largest allowed value (numbers). */
  max?: number;
  /** A cap beyond the range, with its reason (its message says it apart from the range's). */
  limit?: { value: number; why: string };
  /** Allowed values must be less than this (numbers). */
  below?: number;
  /** What a string must look like, and how a message says it ("auto, cpu, cuda or cuda:N"). */
  pattern?: { re: RegExp; expected: string };
  /** The line of the paper the setting interprets, where it interprets one. */
  paper?: string;
  /**
   * A fork (train --fork) may set it to another value than its source run's: the method, the
   * masking and schedule settings, the epoch count, and how and where the run computes.
   */
  forkable?: true;
  /**
   * false: it changes where or how a run computes, or what it keeps, not what it learns (the
   * device, the layout, the data's folder); a resumed or reused run may differ in it.
   */
  affectsResults?: false;
  /** The default as help shows it, when not a plain value (`{key}` as in `help`). */
  defaultText?: string;
  /** Help of a flag's --no- form (default "no " + help). */
  offHelp?: string;
  /** The flag's value placeholder, when not the kind's ("<file>" for a path to a file). */
  arg?: string;
}

/** A row with its key: what lists of settings (help, the README) iterate over. */
export interface ConfigField extends SettingRow {
  /** The config key (also the --config file key). */
  key: string;
}

/** A table of settings: key → row, in the order help lists them. */
export type SettingsTable = Readonly<Record<string, SettingRow>>;

// Row builders: each keeps its row's literal types, from which SettingsOf derives the value types.
type Row<K extends SettingKind, V> = Omit<SettingRow<V>, "kind" | "choices"> & { kind?: K };

/** An integer setting. */
export function int<const R extends Row<"int", number>>(r: R): R & { kind: "int" } {
  return { ...r, kind: "int" };
}
/** A number setting. */
export function num<const R extends Row<"number", number>>(r: R): R & { kind: "number" } {
  return { ...r, kind: "number" };
}
/** A free-text setting (constrained by `pattern`, if any). */
export function text<const R extends Row<"string", string>>(r: R): R & { kind: "string" } {
  return { ...r, kind: "string" };
}
/** A file or folder path. */
export function path<const R extends Row<"path", string>>(r: R): R & { kind: "path" } {
  return { ...r, kind: "path" };
}
/** An on/off setting. */
export function flag<const R extends Row<"flag", boolean>>(r: R): R & { kind: "flag" } {
  return { ...r, kind: "flag" };
}
/** One of a fixed list of names. */
export function choice<const C extends readonly string[], const R extends Row<"string", C[number]>>(
  choices: C,
  r: R,
): R & { kind: "string"; choices: C } {
  return { ...r, kind: "string", choices };
}

/**
 * One of a list of names that grows with the library (models, datasets, presets): checked
 * against the list, typed as a plain string, so code that holds a name in a string can pass it.
 */
export function named<const R extends Row<"string", string>>(
  choices: readonly string[],
  r: R,
): R & { kind: "string"; choices: readonly string[] } {
  return { ...r, kind: "string", choices };
}

/** The value type a row declares. */
export type ValueOfRow<R> = R extends { kind: "flag" } ? boolean
  : R extends { kind: "int" | "number" } ? number
  : R extends { choices: readonly (infer C extends string)[] } ? C
  : string;

/** Whether every settings object has the row's value: it has a default and old runs have it. */
export type Always<R> = R extends { default: unknown }
  ? R extends { absentMeans: unknown } ? false : true
  : false;

/** Flattens an intersection into one object type (what editors and errors show). */
export type Flat<T> = { [K in keyof T]: T[K] } & unknown;

/**
 * The settings object a table describes: each key with its row's value type; a key with a
 * default that every run records is required, the others optional.
 */
export type SettingsOf<T> = Flat<
  & { -readonly [K in keyof T as Always<T[K]> extends true ? K : never]: ValueOfRow<T[K]> }
  & { -readonly [K in keyof T as Always<T[K]> extends true ? never : K]?: ValueOfRow<T[K]> }
>;

/** The rows of a table with their keys, in table order. */
export function fieldsOf(table: SettingsTable): ConfigField[] {
  return Object.entries(table).map(([key, row]) => ({ key, ...row }));
}

/**
 * Help text with each `{key}` of a setting of `table` naming that setting in `v`'s words
 * (`{monitor}`: `--monitor`); other braces (a formula's) stay.
 */
export function helpIn(text: string, v: Vocabulary, table: SettingsTable): string {
  return text.replace(
    /\{([a-zA-Z]+)\}/g,
    (all, key: string) => Object.hasOwn(table, key) ? v.setting(key) : all,
  );
}

/** The flag of a key: `batchSize` -> `batch-size`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * `given` with every unset setting that has a default filled in, in table order (a derived
 * default sees the settings before it, given or defaulted). Undefined values count as unset.
 */
export function defaultsOf(
  table: SettingsTable,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(
    Object.entries(given).filter(([, v]) => v !== undefined),
  );
  for (const [key, row] of Object.entries(table)) {
    if (out[key] !== undefined || row.default === undefined) continue;
    out[key] = typeof row.default === "function" ? row.default(out) : row.default;
  }
  return out;
}

/**
 * A saved run's settings as it ran: a setting it lacks (saved before the setting existed) takes
 * its row's `absentMeans`, then any other unset one its default.
 */
export function savedSettingsOf(
  table: SettingsTable,
  saved: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const ran: Record<string, unknown> = { ...saved };
  for (const [key, row] of Object.entries(table)) {
    // a row without a default leaves the setting unset, in old runs as in new ones
    if (ran[key] === undefined && row.absentMeans !== undefined && row.default !== undefined) {
      ran[key] = row.absentMeans;
    }
  }
  return defaultsOf(table, ran);
}

/** A value as a message shows it: JSON, shortened; "nothing", "an array", "an object". */
function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (v !== null && typeof v === "object") return "an object";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** What a row's value must be, as a message says it ("a positive integer", "in [0, 1)"). */
export function expectation(row: SettingRow): string {
  switch (row.kind) {
    case "flag":
      return "true or false";
    case "path":
      return row.arg === "<file>" ? "a file path" : "a folder path";
    case "string":
      if (row.choices) return `one of ${row.choices.join(", ")}`;
      return row.pattern?.expected ?? "a non-empty string";
    case "int":
    case "number": {
      const range = rangeText(row);
      const only = (bound: "min" | "above", at: number) =>
        row[bound] === at && range === (bound === "min" ? `>= ${at}` : `> ${at}`);
      if (row.kind === "int") {
        if (only("min", 1)) return "a positive integer";
        if (only("min", 0)) return "a non-negative integer";
        return range ? `an integer ${range}` : "an integer";
      }
      if (only("above", 0)) return "a positive number";
      if (only("min", 0)) return "a non-negative number";
      return range.startsWith("in ") ? range : range ? `a number ${range}` : "a finite number";
    }
  }
}

/** A number row's bounds in words: "in [0, 1)", ">= 28", "< 5", or "" when it has none. */
function rangeText(row: SettingRow): string {
  const low = row.min !== undefined
    ? `[${row.min}`
    : row.above !== undefined
    ? `(${row.above}`
    : "";
  const high = row.max !== undefined
    ? `${row.max}]`
    : row.below !== undefined
    ? `${row.below})`
    : "";
  if (low && high) return `in ${low}, ${high}`;
  if (low) return row.min !== undefined ? `>= ${row.min}` : `> ${row.above}`;
  if (high) return row.max !== undefined ? `<= ${row.max}` : `< ${row.below}`;
  return "";
}

/** Whether `v` is what the row takes, before its `limit` (which has its own message). */
function fits(row: SettingRow, v: unknown): boolean {
  switch (row.kind) {
    case "flag":
      return typeof v === "boolean";
    case "path":
      return typeof v === "string" && v !== "";
    case "string":
      if (typeof v !== "string") return false;
      if (row.choices) return row.choices.includes(v);
      return row.pattern ? row.pattern.re.test(v) : v !== "";
    case "int":
    case "number": {
      if (typeof v !== "number" || !Number.isFinite(v)) return false;
      if (row.kind === "int" && !Number.isInteger(v)) return false;
      return (row.min === undefined || v >= row.min) &&
        (row.above === undefined || v > row.above) &&
        (row.below === undefined || v < row.below) && (row.max === undefined || v <= row.max);
    }
  }
}

/**
 * Every row's own check over `settings`: a set value must be what the row takes (kind, choices,
 * range), and a required one must be set. Each problem names its setting.
 */
export function rowProblems(
  table: SettingsTable,
  settings: Readonly<Record<string, unknown>>,
): SettingProblem[] {
  const problems: SettingProblem[] = [];
  for (const [key, row] of Object.entries(table)) {
    const v = settings[key];
    const required = row.default !== undefined && row.absentMeans === undefined;
    if (v === undefined && !required) continue;
    if (!fits(row, v)) {
      problems.push({
        settings: [key],
        render: (w: Vocabulary) =>
          `${w.setting(key)} must be ${expectation(row)}, got ${describeValue(v)}`,
      });
    } else if (row.limit && typeof v === "number" && v > row.limit.value) {
      const { value, why } = row.limit;
      problems.push({
        settings: [key],
        render: (w: Vocabulary) => `${w.setting(key)} must be at most ${value} (${why}), got ${v}`,
      });
    }
  }
  return problems;
}

/**
 * Problems with the keys of a settings object from a file: every key that is not a setting,
 * named, with the setting it was probably meant to be (`batch_size` -> `batchSize`).
 */
export function unknownKeyProblems(
  table: SettingsTable,
  settings: Readonly<Record<string, unknown>>,
): string[] {
  const squash = (s: string) => s.replace(/[-_]/g, "").toLowerCase();
  const keys = Object.keys(table);
  return Object.keys(settings).filter((k) => !Object.hasOwn(table, k)).map((k) => {
    const near = keys.find((key) => squash(key) === squash(k));
    return `unknown setting "${k}"${near ? ` (did you mean "${near}"?)` : ""}`;
  });
}

/**
 * Problems with the value types of a settings object from a file: an int or number setting that
 * is not a number, a string or path setting that is not a string, an on/off setting that is not
 * true or false; each names the key, what it expects and what it got. Unknown keys are left to
 * {@link unknownKeyProblems}, ranges and choices to {@link rowProblems}.
 */
export function valueTypeProblems(
  table: SettingsTable,
  settings: Readonly<Record<string, unknown>>,
): string[] {
  const problems: string[] = [];
  for (const [key, row] of Object.entries(table)) {
    const v = settings[key];
    if (v === undefined) continue;
    const expected: "number" | "boolean" | "string" = row.kind === "int" || row.kind === "number"
      ? "number"
      : row.kind === "flag"
      ? "boolean"
      : "string";
    const type: string = typeof v;
    if (type !== expected) {
      const what = expected === "boolean" ? "true or false" : `a ${expected}`;
      problems.push(`"${key}" must be ${what}, got ${describeValue(v)}`);
    }
  }
  return problems;
}

/** A value as a setting's flag would parse it: numbers for int/number, true/false for flags. */
export type SettingValue = number | string | boolean;

/**
 * The integer `text` writes ("12", "-3", "1e6", "4000.0"), or null when it is not one (empty,
 * a fraction, beyond 2^53): flags take integers the way JSON and Python's int(float(x)) do.
 */
export function integerOf(text: string): number | null {
  const t = text.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}
