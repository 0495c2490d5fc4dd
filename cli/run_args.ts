/**
 * Checks of the arguments that name runs, datasets and attribution methods, shared by the
 * commands that open runs (`sib`, `saliency`): every problem is a UsageError (exit 2) raised
 * before any heavy work.
 *
 * @module
 */

import { cliMessage } from "./flag_vocabulary.ts";
import { UsageError } from "./errors.ts";
import type { ImageDataset } from "../src/data/dataset.ts";
import type { Transforms } from "../src/data/loader.ts";
import { datasetSpec } from "../src/data/registry.ts";
import { runTransforms } from "../src/runs/sib.ts";
import {
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  DEFAULT_GRADCAM_LAYER,
} from "../src/saliency/names.ts";
import { loadTestSplit } from "../src/train/setup.ts";

import { runFolderWriter, writerText } from "../src/run_folder/run_lock.ts";
import { openRunDir, type TrainRunInfo } from "../src/train/run_records.ts";

/** Checks a method name (UsageError listing the choices). */
export function checkMethod(method: string | undefined): AttributionMethod {
  const m = method ?? "saliency";
  if (!(ATTRIBUTION_METHODS as readonly string[]).includes(m)) {
    throw new UsageError(
      `unknown method "${m}"; expected one of ${ATTRIBUTION_METHODS.join(", ")}`,
    );
  }
  return m as AttributionMethod;
}

/** Checks that Grad-CAM has a layer for the model (UsageError otherwise). */
function checkLayer(
  method: AttributionMethod,
  model: string,
  layer: string | undefined,
): void {
  if (method === "gradcam" && layer === undefined && !DEFAULT_GRADCAM_LAYER[model]) {
    throw new UsageError(`gradcam on ${model} needs --layer (a layer with (B, C, h, w) output)`);
  }
}

/**
 * Reads every run's config.json; a folder without one, or with one that is not a run's config
 * (the message names the file and the fields), is a usage error. A run that another process is
 * writing now is read as far as it has been saved (every file is written whole), with a note.
 */
export function readRunInfos(paths: readonly string[]): TrainRunInfo[] {
  return paths.map((p) => {
    const dir = openRunDir(p.replace(/\/+$/, "") || "/");
    if (!dir.exists()) throw new UsageError(`${p}: not a run folder (no config.json)`);
    const writer = runFolderWriter(dir.path);
    if (writer) {
      console.error(`note: ${writerText(p, writer)}; reading what it has saved so far`);
    }
    try {
      return dir.readInfo();
    } catch (e) {
      throw new UsageError(cliMessage(e));
    }
  });
}

/** Dataset to evaluate on: --dataset, else the first run's; with boxes when `needBoxes`. */
function chooseDataset(
  name: string | undefined,
  infos: readonly TrainRunInfo[],
  needBoxes: boolean,
): string {
  const chosen = name ?? infos[0].config.dataset;
  const noBoxes = () =>
    new UsageError(
      `dataset ${chosen} has no object boxes; SIB needs one with boxes (cluttered-fmnist, ` +
        `oxford-pet)${name === undefined ? ": pass --dataset" : ""}`,
    );
  let spec;
  try {
    spec = datasetSpec(chosen);
  } catch (e) {
    throw new UsageError(cliMessage(e));
  }
  if (needBoxes && !spec.hasBoxes) throw noBoxes();
  return chosen;
}

/**
 * The test split of `name` as the trainer made it for the run (its data dir and seed), with
 * --data-dir checked to be a folder.
 */
async function loadSplitFor(
  name: string,
  info: TrainRunInfo,
  dataDir: string | undefined,
): Promise<ImageDataset> {
  if (dataDir !== undefined) {
    let isDir = false;
    try {
      isDir = Deno.statSync(dataDir).isDirectory;
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`--data-dir ${dataDir} is not a folder`);
  }
  return await loadTestSplit({ ...info.config, dataset: name }, { dataDir });
}

/** The eval transforms of a run on `ds`; a run that cannot take the images is a usage error. */
function transformsFor(path: string, info: TrainRunInfo, ds: ImageDataset): Transforms {
  try {
    return runTransforms(info, ds, path);
  } catch (e) {
    throw new UsageError(cliMessage(e).replace(/ images are /, " test images are "));
  }
}

/**
 * The runs and the test split a command scores them on, every argument checked in order:
 * the folders are runs, Grad-CAM has a layer for each model, the dataset exists (with boxes
 * when `needBoxes`), --data-dir is a folder, and every run can take the split's images.
 */
export async function runsAndSplit(
  paths: readonly string[],
  opts: {
    method: AttributionMethod;
    layer?: string;
    dataset?: string;
    dataDir?: string;
    needBoxes: boolean;
  },
): Promise<{ infos: TrainRunInfo[]; dataset: string; ds: ImageDataset }> {
  if (paths.length === 0) throw new UsageError("give at least one run folder");
  const infos = readRunInfos(paths);
  for (const info of infos) checkLayer(opts.method, info.config.model, opts.layer);
  const dataset = chooseDataset(opts.dataset, infos, opts.needBoxes);
  const ds = await loadSplitFor(dataset, infos[0], opts.dataDir);
  infos.forEach((info, i) => transformsFor(paths[i], info, ds));
  return { infos, dataset, ds };
}

/** Parses "0,1,2": distinct non-negative integers. */
export function parseSeeds(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s))) {
    throw new UsageError(`--seeds must be comma-separated non-negative integers, got "${text}"`);
  }
  const seeds = parts.map(Number);
  if (new Set(seeds).size !== seeds.length) {
    throw new UsageError(`--seeds repeats a seed: "${text}"`);
  }
  return seeds;
}

/** Checks --saliency-sign: run, abs or signed (UsageError otherwise). */
export function checkSign(sign: string | undefined): "run" | "abs" | "signed" {
  const v = sign ?? "run";
  if (!["run", "abs", "signed"].includes(v)) {
    throw new UsageError(`--saliency-sign must be run, abs or signed, got "${v}"`);
  }
  return v as "run" | "abs" | "signed";
}

/** Checks --n: a positive integer or "all" (UsageError otherwise). */
export function checkCount(n: number | "all"): number | "all" {
  if (n !== "all" && (!Number.isInteger(n) || n < 1)) {
    throw new UsageError(`--n must be a positive integer or all, got ${n}`);
  }
  return n;
}

/** Notes (through `log`) each run trained on another dataset than the one it is scored on. */
export function noteOtherDatasets(
  paths: readonly string[],
  infos: readonly TrainRunInfo[],
  dataset: string,
  log: (line: string) => void,
): void {
  infos.forEach((info, i) => {
    if (info.config.dataset !== dataset) {
      log(`note: ${paths[i]} was trained on ${info.config.dataset}, scored on ${dataset}`);
    }
  });
}
