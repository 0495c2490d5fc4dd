/**
 * `--grid SETTING=V1,V2,...`: one axis of a sweep, the setting named by its flag (or config key)
 * and the values parsed as that flag parses them; what the library's sweep refuses (a setting a
 * grid may not vary, a repeated value) is refused here first, naming the argument.
 *
 * @module
 */

import { fieldByName } from "../../src/train/config_fields.ts";
import {
  type ConfigField,
  flagName,
  integerOf,
  type SettingValue,
} from "../../src/train/setting_rows.ts";
import { type SweepAxis, sweepAxisProblem } from "../../src/runs/sweep.ts";
import { FLAG_VOCABULARY } from "../flag_vocabulary.ts";

/**
 * Parses one `--grid` argument, "k-top=0.1,0.2,0.3": throws a RangeError naming the problem
 * (not SETTING=VALUES, unknown setting, bad value, one that cannot be swept, repeated value).
 */
export function parseGridArg(text: string): SweepAxis {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new RangeError(`--grid "${text}": expected SETTING=V1,V2,... (e.g. k-top=0.1,0.2)`);
  }
  const name = text.slice(0, eq).trim().replace(/^--/, "");
  const field = fieldByName(name);
  if (!field) {
    throw new RangeError(`--grid "${text}": unknown setting "${name}" (a train flag, e.g. k-top)`);
  }
  const values = text.slice(eq + 1).split(",").map((p) => parseSettingValue(field, p));
  const axis = { key: field.key, values };
  const problem = sweepAxisProblem(axis, FLAG_VOCABULARY);
  if (problem) {
    throw new RangeError(
      `--grid "${text}": ${problem.replace("give the seeds instead", "use --seeds")}`,
    );
  }
  return axis;
}

/**
 * Parses one value of setting `f` from text, as its flag does; throws a RangeError naming the
 * flag and the expectation (an integer, a number, one of the choices, true/false).
 */
function parseSettingValue(f: ConfigField, text: string): SettingValue {
  const flag = `--${flagName(f.key)}`;
  const t = text.trim();
  switch (f.kind) {
    case "int":
      if (integerOf(t) === null) {
        throw new RangeError(`${flag}: expected an integer, got "${text}"`);
      }
      return integerOf(t)!;
    case "number":
      if (t === "" || !Number.isFinite(Number(t))) {
        throw new RangeError(`${flag}: expected a number, got "${text}"`);
      }
      return Number(t);
    case "flag":
      if (t !== "true" && t !== "false") {
        throw new RangeError(`${flag}: expected true or false, got "${text}"`);
      }
      return t === "true";
    default:
      if (f.choices && !f.choices.includes(t)) {
        throw new RangeError(`${flag}: expected one of ${f.choices.join(", ")}, got "${text}"`);
      }
      if (t === "") throw new RangeError(`${flag}: empty value`);
      return t;
  }
}
