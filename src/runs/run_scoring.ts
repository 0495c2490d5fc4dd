/**
 * What every score of a run's saliency maps shares (SIB, the faithfulness scores): opening the
 * run on a checkpoint rule, its test split normalised as it was trained, the maps ranked as its
 * masking ranked them, the batches over chosen test images (progress, Ctrl-C), and the fields
 * every score file records about what was scored.
 *
 * @module
 */

import type { Batch } from "../data/loader.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { DataLoader, type Transforms } from "../data/loader.ts";
import type { CheckpointRule } from "../run_folder/mod.ts";
import {
  ATTRIBUTION_DEFAULTS,
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  gradcamLayer,
} from "../saliency/registry.ts";
import { manualSeed } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type LoadedRun, loadRun } from "../train/load_run.ts";
import { withRunNormalization } from "../train/normalization.ts";
import { loadTestSplit } from "../train/setup.ts";
import { InterruptedError, Yielder } from "../util/event_loop.ts";
import { writeRunScoreFile } from "./sib_file.ts";
import type { Model } from "../models/factory.ts";

import { pixelSaliencyFn as registrySaliencyFn } from "../saliency/registry.ts";
import { type SALIENCY_SIGNS, SETTINGS } from "../train/config_fields.ts";
import type { TrainConfig } from "../train/config.ts";
import { evalTransforms } from "../train/setup.ts";
import { DEFAULT_SIB_CHECKPOINT } from "./sib_defaults.ts";
import type { TrainRunInfo } from "../train/run_records.ts";

/**
 * The eval transforms feeding `ds` to a run's model (train/setup.ts's), after checking that
 * its images and classes fit the model; throws a RangeError naming both when they do not.
 */
export function runTransforms(info: TrainRunInfo, ds: ImageDataset, label = "the run"): Transforms {
  const [channels, size] = info.data.shape;
  const resize = info.config.imageSize;
  const fits = ds.channels === channels &&
    (resize !== undefined || (ds.height === size && ds.width === size));
  if (!fits) {
    throw new RangeError(
      `${label} (${info.config.model} trained on ${info.config.dataset}) takes ${channels}x${size}x${size} ` +
        `inputs, but ${ds.name} images are ${ds.channels}x${ds.height}x${ds.width}`,
    );
  }
  if (ds.classes.length !== info.data.classes.length) {
    throw new RangeError(
      `${label} has ${info.data.classes.length} classes, ${ds.name} has ${ds.classes.length}`,
    );
  }
  return evalTransforms(info.config, ds);
}

/** How SIB computes attributions and reduces them to pixels. */
export interface AttributionChoice {
  /** Method (default saliency). */
  method?: AttributionMethod;
  /** Grad-CAM layer (default per model). */
  layer?: string;
  /** Channel reduction of attributions to pixels (default mean). */
  reduction?: "mean" | "sum" | "max";
  /** Images per pass inside IntegratedGradients/SmoothGrad (default 100). */
  batchSize?: number;
  /**
   * Rank |attribution| (default true, Captum's Saliency default), or the signed attribution
   * (false: the channel reduction keeps the sign, so the top pixels are the most positive).
   */
  abs?: boolean;
}

/** What masking ranked in training, and what SIB ranks: one of SALIENCY_SIGNS. */
export type SaliencySign = typeof SALIENCY_SIGNS[number];

/**
 * How SIB ranks a run's saliency: "run", as the run was trained (its --saliency-sign: a signed
 * run's top x% are its most positive pixels), or the same for every run ("abs", "signed").
 */
export type SibSign = "run" | SaliencySign;

/** The sign a run was trained with: its config's; "abs" for runs saved before the setting. */
export function trainedSign(config: Pick<TrainConfig, "saliencySign">): SaliencySign {
  return config.saliencySign ?? SETTINGS.saliencySign.absentMeans;
}

/** What SIB ranks for a run under `sign` (default "run": as the run was trained). */
export function sibSign(
  config: Pick<TrainConfig, "saliencySign">,
  sign: SibSign = "run",
): SaliencySign {
  return sign === "run" ? trainedSign(config) : sign;
}

/**
 * The registry's pixel saliency with the registry's defaults, passing at most about
 * `batchSize` images through the model at once inside IntegratedGradients and SmoothGrad.
 */
export function pixelSaliencyFn(
  model: Model,
  modelName: string,
  choice: AttributionChoice = {},
): (x: Tensor, y: Tensor) => Tensor {
  const per = choice.batchSize ?? 100;
  return registrySaliencyFn(model, modelName, {
    method: choice.method,
    layer: choice.layer,
    reduction: choice.reduction,
    abs: choice.abs,
    internalBatchSize: (b) => Math.max(per, b),
    nSamplesBatchSize: (b) => Math.max(1, Math.floor((per * 4) / b)),
  });
}

/** Options every score of a run's maps takes. */
export interface RunScoringOptions extends Omit<AttributionChoice, "abs"> {
  /** Seed of the image draw and of every noise (default 0). */
  seed?: number;
  /** Checkpoint loaded when the run is a path (default DEFAULT_SIB_CHECKPOINT). */
  which?: CheckpointRule;
  /** What is ranked (default "run": as the run was trained; see {@link SibSign}). */
  sign?: SibSign;
  /** Device when the run is a path (default auto). */
  device?: string;
  /** Dataset root when the split is loaded here (default: the run's). */
  dataDir?: string;
  /** Called after every batch with (images done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Checked after every batch: when it returns true, an InterruptedError is thrown. */
  shouldStop?: () => boolean;
}

/** The fields every score file records about what was scored. */
export interface ScoredRunFields {
  /** Dataset name. */
  dataset: string;
  /** Always "test". */
  split: "test";
  /** Attribution method. */
  method: AttributionMethod;
  /** The method's settings. */
  method_settings: Readonly<Record<string, number | string | boolean>>;
  /** Grad-CAM layer (gradcam only). */
  layer?: string;
  /** Channel reduction. */
  reduction: "mean" | "sum" | "max";
  /** What was ranked: |attribution| (abs) or the signed attribution. */
  saliency_sign: SaliencySign;
  /** The run's --saliency-sign, what its masking ranked. */
  trained_saliency_sign: SaliencySign;
  /** Number of images. */
  n: number;
  /** The number asked for: a count, or "all". */
  n_requested: number | "all";
  /** Seed of the draw (and of the noise). */
  seed: number;
  /** The checkpoint rule that chose the weights. */
  checkpoint: CheckpointRule;
  /** Why the rule fell back to another checkpoint, when it did. */
  checkpoint_note?: string;
  /** Epoch of the checkpoint. */
  epoch: number;
  /** Test-split indices of the images, ascending. */
  indices: number[];
}

/** A run opened for scoring its maps: dispose it (`using`) to free a model loaded here. */
export interface RunScoring extends Disposable {
  /** The run (model in eval mode on its device). */
  loaded: LoadedRun;
  /** Its test split (or the dataset given), normalised as the run was trained. */
  ds: ImageDataset;
  /** What is ranked. */
  sign: SaliencySign;
  /** The eval transforms feeding `ds` to the model. */
  transforms: Transforms;
  /** Pixel maps (N, H, W) of the labels `y` for inputs `x`, as the options ask. */
  saliencyOf: (x: Tensor, y: Tensor) => Tensor;
  /** Images per batch. */
  batchSize: number;
  /** The fields a score file records, for these images. */
  fields: (indices: number[], nRequested: number | "all") => ScoredRunFields;
}

/** Checks an image count: a positive integer or "all" (RangeError otherwise). */
export function checkImageCount(n: number | "all"): void {
  if (n !== "all" && (!Number.isInteger(n) || n < 1)) {
    throw new RangeError(`n must be a positive integer or "all", got ${n}`);
  }
}

/**
 * Opens `run` (a folder: its `which` checkpoint, loaded here and freed on dispose; or a
 * LoadedRun, left open) with `dataset` (default: its test split), after `check` has seen the
 * normalised dataset (e.g. SIB's boxes).
 */
export async function openRunScoring(
  run: LoadedRun | string,
  dataset: ImageDataset | undefined,
  options: RunScoringOptions,
  check: (ds: ImageDataset) => void = () => {},
): Promise<RunScoring> {
  const signChoice = options.sign ?? "run";
  if (!["run", "abs", "signed"].includes(signChoice)) {
    throw new RangeError(`sign must be run, abs or signed, got ${JSON.stringify(signChoice)}`);
  }
  const method = options.method ?? "saliency";
  if (!(ATTRIBUTION_METHODS as readonly string[]).includes(method)) {
    throw new RangeError(
      `unknown attribution method "${method}"; expected one of ${ATTRIBUTION_METHODS.join(", ")}`,
    );
  }
  const batchSize = options.batchSize ?? 100;
  const reduction = options.reduction ?? "mean";
  const owned = typeof run === "string";
  const loaded = typeof run === "string"
    ? loadRun(run, { which: options.which ?? DEFAULT_SIB_CHECKPOINT, device: options.device })
    : run;
  const dispose = () => {
    if (owned) loaded.model.dispose();
  };
  try {
    const config = loaded.info.config;
    const given = dataset ?? await loadTestSplit(config, { dataDir: options.dataDir });
    // normalised as the run was trained (its own statistics or ImageNet's)
    const ds = withRunNormalization(config, given);
    const sign = sibSign(config, signChoice);
    check(ds);
    const transforms = runTransforms(loaded.info, ds, loaded.path);
    const saliencyOf = pixelSaliencyFn(loaded.model, config.model, {
      method,
      layer: options.layer,
      reduction,
      batchSize,
      abs: sign === "abs",
    });
    const fields = (indices: number[], nRequested: number | "all"): ScoredRunFields => ({
      dataset: ds.name,
      split: "test",
      method,
      method_settings: ATTRIBUTION_DEFAULTS[method],
      ...(method === "gradcam" ? { layer: gradcamLayer(config.model, options.layer) } : {}),
      reduction,
      saliency_sign: sign,
      trained_saliency_sign: trainedSign(config),
      n: indices.length,
      n_requested: nRequested,
      seed: options.seed ?? 0,
      checkpoint: loaded.checkpoint,
      ...(loaded.checkpointNote ? { checkpoint_note: loaded.checkpointNote } : {}),
      epoch: loaded.epoch,
      indices,
    });
    return {
      loaded,
      ds,
      sign,
      transforms,
      saliencyOf,
      batchSize,
      fields,
      [Symbol.dispose]: dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

/**
 * Runs `score` on each batch of the images `indices` (in order; `offset` is the batch's first
 * position in `indices`) inside tidy, after seeding libtorch's generator with the options' seed
 * (the same noise for every run); reports progress and stops (InterruptedError naming `what`)
 * when asked.
 */
export async function scoreBatches(
  s: RunScoring,
  indices: readonly number[],
  options: RunScoringOptions,
  what: string,
  score: (batch: Batch, offset: number) => void,
): Promise<void> {
  const device = s.loaded.model.parameters()[0].device;
  using loader = new DataLoader(s.ds, {
    batchSize: s.batchSize,
    shuffle: false,
    device,
    transforms: s.transforms,
  });
  manualSeed(options.seed ?? 0);
  const yielder = new Yielder();
  for (let at = 0; at < indices.length; at += s.batchSize) {
    const idx = indices.slice(at, at + s.batchSize);
    tidy(() => score(loader.batchOf(idx), at));
    const done = Math.min(at + s.batchSize, indices.length);
    options.onProgress?.(done, indices.length);
    await yielder.tick(); // lets Ctrl-C's listener run
    if (options.shouldStop?.()) {
      throw new InterruptedError(
        `${what} of ${s.loaded.path} interrupted after ${done} of ${indices.length} images`,
      );
    }
  }
}

/**
 * Scores each run of `paths` in turn (`score(path, index)`), writing each result into its folder
 * as `fileName` as soon as it is scored (kept if a later run is stopped; not written while a
 * training writes the folder). A stop after the first run says which folders were written.
 */
export async function scoreEachRun<E extends object>(
  paths: readonly string[],
  names: readonly string[],
  fileName: string,
  score: (path: string, index: number) => Promise<E>,
  onRun?: (index: number, result: E, seconds: number) => void,
): Promise<{ runs: (E & { name: string; path: string })[]; files: string[] }> {
  const runs: (E & { name: string; path: string })[] = [];
  const files: string[] = [];
  for (const [r, path] of paths.entries()) {
    const t0 = performance.now();
    let e: E;
    try {
      e = await score(path, r);
    } catch (err) {
      if (!(err instanceof InterruptedError) || r === 0) throw err;
      throw new InterruptedError(
        `${err.message}; ${fileName} written in the ${r} run folder(s) scored before it`,
      );
    }
    onRun?.(r, e, (performance.now() - t0) / 1000);
    runs.push({ ...e, name: names[r], path });
    const file = writeRunScoreFile(path, fileName, e);
    if (file) files.push(file);
  }
  return { runs, files };
}
