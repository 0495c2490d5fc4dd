/**
 * The checks of what a run folder's files hold (records.ts's types), each returning what is
 * wrong in words that name the field, expected and got; and the readers that say why a JSON or
 * safetensors file does not load. Nothing read from a run folder passes silently when it is not
 * what hlgm wrote.
 *
 * @module
 */

import { readSafetensorsHeader, type SafetensorsHeader } from "../checkpoint/safetensors.ts";
import type { ConfigCheck } from "./records.ts";

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A value as a message shows it: "nothing" when missing, JSON (shortened) otherwise. */
export function shown(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v) && v.length > 6) return "a list of " + v.length;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * What is wrong with a parsed config.json (empty when it is a run's config); `checkConfig`
 * checks its "config".
 */
export function runInfoProblems(j: unknown, checkConfig: ConfigCheck): string[] {
  if (!isObject(j)) return [`expected a JSON object (a run's config), got ${shown(j)}`];
  const p: string[] = [];
  const c = j.config;
  if (!isObject(c)) {
    p.push(`"config" must be an object of training settings, got ${shown(c)}`);
  } else {
    p.push(...checkConfig(c).map((x) => `"config": ${x}`));
  }
  const d = j.data;
  if (!isObject(d)) {
    p.push(
      `"data" must be an object with "train", "val", "test", "shape" and "classes", got ${
        shown(d)
      }`,
    );
  } else {
    const shape = d.shape;
    if (
      !Array.isArray(shape) || shape.length !== 3 ||
      !shape.every((v) => Number.isInteger(v) && v > 0)
    ) {
      p.push(
        `"data.shape" must be 3 positive integers (channels, height, width), got ${shown(shape)}`,
      );
    }
    for (const split of ["train", "val", "test"] as const) {
      const v = d[split];
      if (!Number.isInteger(v) || (v as number) < (split === "val" ? 0 : 1)) {
        p.push(
          `"data.${split}" must be ${
            split === "val" ? "a non-negative" : "a positive"
          } integer (images in the split), got ${shown(v)}`,
        );
      }
    }
    const classes = d.classes;
    if (
      !Array.isArray(classes) || classes.length === 0 ||
      !classes.every((v) => typeof v === "string")
    ) {
      p.push(`"data.classes" must be a non-empty list of class names, got ${shown(classes)}`);
    }
  }
  return p;
}

/** What is wrong with one parsed metrics.jsonl line (null when it is an epoch's line). */
export function metricsLineProblem(m: unknown): string | null {
  if (!isObject(m)) return `expected an epoch's JSON object, got ${shown(m)}`;
  if (!Number.isInteger(m.epoch) || (m.epoch as number) < 1) {
    return `"epoch" must be a positive integer, got ${shown(m.epoch)}`;
  }
  if (typeof m.test_acc !== "number") {
    return `"test_acc" must be a number, got ${shown(m.test_acc)}`;
  }
  return null;
}

/** What is wrong with a best-epoch record (null when it is one, or null/absent). */
function bestProblem(name: string, b: unknown): string | null {
  if (b === null || b === undefined) return null;
  if (
    !isObject(b) || !Number.isInteger(b.epoch) || typeof b.score !== "number" ||
    typeof b.metric !== "string"
  ) {
    return `"${name}" must be null or {epoch, score, metric}, got ${shown(b)}`;
  }
  return null;
}

/** What is wrong with a parsed last.json record (null when it is one). */
export function trainerStateProblem(t: unknown): string | null {
  if (!isObject(t)) return `expected a checkpoint record (a JSON object), got ${shown(t)}`;
  if (!Number.isInteger(t.epoch) || (t.epoch as number) < 1) {
    return `"epoch" must be a positive integer, got ${shown(t.epoch)}`;
  }
  for (const k of ["weights", "state"]) {
    const v = t[k];
    if (typeof v !== "string" || v === "" || v.includes("/")) {
      return `"${k}" must name a file in checkpoints/, got ${shown(v)}`;
    }
  }
  if (!isObject(t.schedule)) return `"schedule" must be an object, got ${shown(t.schedule)}`;
  const o = t.optimizer;
  if (
    !isObject(o) || typeof o.type !== "string" || !isObject(o.options) ||
    !Array.isArray(o.steps) || !o.steps.every((n) => Number.isInteger(n) && n >= 0)
  ) {
    return `"optimizer" must be {type, options, steps}, got ${shown(o)}`;
  }
  const g = t.gradScaler;
  if (
    g !== undefined && g !== null &&
    !(isObject(g) && typeof g.scale === "number" && g.scale > 0 && Number.isFinite(g.scale) &&
      Number.isInteger(g.growthTracker) && (g.growthTracker as number) >= 0)
  ) {
    return `"gradScaler" must be null or {scale > 0, growthTracker >= 0}, got ${shown(g)}`;
  }
  return bestProblem("best", t.best) ?? bestProblem("bestAfterSwitch", t.bestAfterSwitch);
}

/** The header of a safetensors file, or why it does not load ("missing", "only 12 bytes..."). */
export function headerOf(file: string): SafetensorsHeader | string {
  try {
    Deno.statSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "missing";
  }
  try {
    return readSafetensorsHeader(file);
  } catch (e) {
    const message = firstLine(e);
    return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
  }
}

/** The message of an error, on one line. */
export const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0];

/**
 * A JSON file's value, or what is wrong with it as the end of a sentence starting with its name
 * ("is empty", "is not valid JSON (it begins ...)"); `problem` is null when it does not exist.
 */
export function readJsonFile(file: string): { value: unknown } | { problem: string | null } {
  let body: string;
  try {
    body = Deno.readTextFileSync(file);
  } catch (e) {
    return {
      problem: e instanceof Deno.errors.NotFound ? null : `cannot be read (${firstLine(e)})`,
    };
  }
  if (!body.trim()) return { problem: "is empty" };
  try {
    return { value: JSON.parse(body) };
  } catch {
    return { problem: `is not valid JSON (it begins ${shown(body.trim().slice(0, 24))})` };
  }
}
