/**
 * A run's sib.json: the one writer and the one reader (the sib command, compare and the report
 * use these), and the writer of any score file in a run folder (faith.json too). Files are
 * written atomically (temporary file, then rename).
 *
 * @module
 */

import { tryLockRunFolder } from "../run_folder/run_lock.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";

/** A run's sib.json as readers need it (the writer stores a SibEvaluation). */
export interface SibFile {
  /** The x values. */
  percents: number[];
  /** Attribution method. */
  method?: string;
  /** Number of images. */
  n?: number;
  /** Test indices of the images (when recorded). */
  indices?: number[];
  /** Epoch of the checkpoint scored. */
  epoch?: number;
  /** The checkpoint rule scored (absent in files written before it was recorded). */
  checkpoint?: string;
  /** What was ranked: |attribution| (abs; also when absent) or the signed attribution. */
  saliency_sign?: "abs" | "signed";
  /** What the run's masking ranked in training (absent: abs). */
  trained_saliency_sign?: "abs" | "signed";
  /** Values per image for each x (keys String(x)). */
  per_image: Record<string, number[]>;
}

/** Reads a score file (sib.json, faith.json) of a run folder: null when absent, else its JSON. */
export function readRunScoreFile(runDir: string, name: string): unknown | null {
  const file = `${runDir.replace(/\/+$/, "")}/${name}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
}

/** Reads RUNDIR/sib.json, or null when absent; a malformed file is an error naming it. */
export function readSibFile(runDir: string): SibFile | null {
  const file = `${runDir.replace(/\/+$/, "")}/sib.json`;
  const j = readRunScoreFile(runDir, "sib.json") as SibFile | null;
  if (j === null) return null;
  if (
    !Array.isArray(j.percents) || typeof j.per_image !== "object" || j.per_image === null ||
    j.percents.some((p) => !Array.isArray(j.per_image[String(p)]))
  ) {
    throw new Error(`${file}: expected { percents: [...], per_image: { "<x>": [values] } }`);
  }
  return j;
}

/**
 * Writes RUNDIR/sib.json under the run folder's lock; returns its path, or null (nothing
 * written) while another process writes the run (a training that may yet replace the scored
 * checkpoint, or clear the folder).
 */
export function writeSibFile(runDir: string, value: object): string | null {
  return writeRunScoreFile(runDir, "sib.json", value);
}

/**
 * Writes a score file (sib.json, faith.json) into a run folder under its lock, atomically;
 * returns its path, or null (nothing written) while another process writes the run.
 */
export function writeRunScoreFile(runDir: string, name: string, value: object): string | null {
  const dir = runDir.replace(/\/+$/, "");
  const lock = tryLockRunFolder(dir, name.replace(/\.json$/, ""));
  if (!lock) return null;
  try {
    writeJsonAtomic(`${dir}/${name}`, value);
    return `${dir}/${name}`;
  } finally {
    lock.release();
  }
}
