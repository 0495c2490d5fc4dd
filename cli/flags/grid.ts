/**
 * `--grid SETTING=V1,V2,...`: one axis of a sweep, the setting named by its flag (or config key)
 * and the values parsed as that flag parses them; what the library's sweep refuses (a setting a
 * grid may not vary, a repeated value) is refused here first, naming the argument.
 *
 * @module
 */

import { fieldByName, parseSettingValue } from "../../src/train/config_fields.ts";
import { type SweepAxis, sweepAxisProblem } from "../../src/runs/sweep.ts";

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
  const problem = sweepAxisProblem(axis);
  if (problem) {
    throw new RangeError(
      `--grid "${text}": ${problem.replace("give the seeds instead", "use --seeds")}`,
    );
  }
  return axis;
}
