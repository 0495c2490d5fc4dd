/**
 * Which of a checkpoints/ folder's files load: a pointer (best.json, best-after-switch.json)
 * that names loadable weights, the checkpoints whose weights, state and kept record all load,
 * the newest weights that load. What the checkpoint store falls back on.
 *
 * @module
 */

import type { TrainerState } from "./records.ts";
import {
  firstLine,
  headerOf,
  isObject,
  readJsonFile,
  shown,
  trainerStateProblem,
} from "./record_checks.ts";

/** A checkpoint's file stem: epoch-NNNN (zero-padded, so names sort by epoch). */
export const epochTag = (epoch: number): string => `epoch-${String(epoch).padStart(4, "0")}`;

/** Why `rule`'s pointer file cannot be used (null when it can; "missing" when absent). */
export function pointerProblem(folder: string, rule: "best" | "best-after-switch"): string | null {
  const file = `${folder}/${rule}.json`;
  const read = readJsonFile(file);
  if (!("value" in read)) return read.problem ?? "missing";
  const j = read.value;
  if (!isObject(j) || !Number.isInteger(j.epoch) || typeof j.weights !== "string") {
    return `is not a checkpoint pointer {epoch, weights} (got ${shown(j)})`;
  }
  if ((j.weights as string).includes("/")) return `names ${shown(j.weights)}, not a checkpoint`;
  const h = headerOf(`${folder}/${j.weights}`);
  return typeof h === "string" ? `names weights that do not load (${h})` : null;
}

/**
 * The checkpoints that load, newest first, each with the record its state file keeps (a
 * checkpoint saved before hlgm kept it there has none); and why the newest candidate that
 * did not load failed.
 */
export function loadableCheckpoints(
  folder: string,
): { found: TrainerState[]; reason: string | null } {
  let names: string[];
  try {
    names = [...Deno.readDirSync(folder)].map((e) => e.name);
  } catch (e) {
    return { found: [], reason: `cannot list ${folder} (${firstLine(e)})` };
  }
  const epochs = names.map((n) => n.match(/^epoch-(\d+)\.safetensors$/)).filter((m) => m)
    .map((m) => Number(m![1])).sort((a, b) => b - a);
  const found: TrainerState[] = [];
  let reason: string | null = null;
  for (const epoch of epochs) {
    const tag = epochTag(epoch);
    const weights = `${tag}.safetensors`, state = `${tag}.state.safetensors`;
    const w = headerOf(`${folder}/${weights}`);
    const st = typeof w === "string" ? `${weights}: ${w}` : headerOf(`${folder}/${state}`);
    let why = typeof st === "string" ? (typeof w === "string" ? st : `${state}: ${st}`) : null;
    let record: unknown;
    if (!why && typeof st !== "string") {
      try {
        record = JSON.parse(st.metadata.trainer ?? "null");
      } catch {
        record = null;
      }
      const problem = record === null
        ? `${state} keeps no checkpoint record (saved by an older hlgm)`
        : trainerStateProblem(record);
      const t = record as TrainerState;
      why = problem ??
        (t.epoch !== epoch || t.weights !== weights || t.state !== state
          ? `${state} keeps the record of another checkpoint`
          : null);
    }
    if (why) reason ??= why;
    else found.push(record as TrainerState);
  }
  return { found, reason };
}

/** The newest epoch-N.safetensors whose header loads, or null. */
export function newestWeights(folder: string): { epoch: number; weights: string } | null {
  let names: string[];
  try {
    names = [...Deno.readDirSync(folder)].map((e) => e.name);
  } catch {
    return null;
  }
  const epochs = names.map((n) => n.match(/^epoch-(\d+)\.safetensors$/)).filter((m) => m)
    .map((m) => Number(m![1])).sort((a, b) => b - a);
  for (const epoch of epochs) {
    const weights = `${epochTag(epoch)}.safetensors`;
    if (typeof headerOf(`${folder}/${weights}`) !== "string") {
      return { epoch, weights };
    }
  }
  return null;
}
