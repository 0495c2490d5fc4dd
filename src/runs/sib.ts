/**
 * SIB of a trained run: the saliency of the true label for the test images that have a box (by
 * default all of them, as the paper; or N drawn with a seed, in ascending order), reduced to
 * pixel maps and scored with SIB(x) for every x in one sort per batch, on the device. The maps
 * rank what the run's masking ranked (its --saliency-sign: |attribution|, or the signed
 * attribution) unless told otherwise, and the images are normalised as the run was trained.
 * The result has the fields of a run's `sib.json` (what `hlgm sib`, `hlgm compare` and the
 * report read and write).
 *
 * @module
 */

import { words } from "../util/vocabulary.ts";
import { type ImageDataset, permutation } from "../data/dataset.ts";
import { DataLoader, type Transforms } from "../data/loader.ts";
import type { Model } from "../models/factory.ts";
import {
  ATTRIBUTION_DEFAULTS,
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  DEFAULT_GRADCAM_LAYER,
  gradcamLayer,
  pixelSaliencyFn as registrySaliencyFn,
} from "../saliency/registry.ts";
import { manualSeed } from "../tensor/create.ts";
import { InterruptedError, Yielder } from "../util/event_loop.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type LoadedRun, loadRun } from "../train/load_run.ts";
import type { CheckpointRule, RunInfo } from "../run_folder/run_dir.ts";
import { evalTransforms, loadTestSplit } from "../train/setup.ts";
import { withRunNormalization } from "../train/normalization.ts";
import type { SALIENCY_SIGNS } from "../train/config_fields.ts";
import type { TrainConfig } from "../train/config.ts";
import { DEFAULT_SIB_CHECKPOINT, DEFAULT_SIB_N } from "./sib_defaults.ts";

export { loadTestSplit };
import {
  boxFraction,
  DEFAULT_SIB_PERCENTS,
  pointingGame,
  relevanceMassAccuracy,
  sib,
  summarize,
  type Summary,
} from "../metrics/sib.ts";
import { type MeanInterval, meanInterval } from "../util/stats.ts";

// The attribution registry (one set of defaults) lives in saliency/registry.ts; SIB's names for it.
export {
  ATTRIBUTION_DEFAULTS as SIB_METHOD_SETTINGS,
  ATTRIBUTION_METHODS as SIB_METHODS,
  type AttributionMethod as SibMethod,
  DEFAULT_GRADCAM_LAYER,
  gradcamLayer,
};

/** Indices of the images with at least one usable box (inside the image, non-empty). */
export function imagesWithBoxes(ds: ImageDataset): number[] {
  const out: number[] = [];
  const b = ds.boxes;
  if (!b) return out;
  for (let i = 0; i < ds.n; i++) {
    const [x0, y0, x1, y1] = b.subarray(i * 4, i * 4 + 4);
    if (x1 > x0 && y1 > y0 && x1 > 0 && y1 > 0 && x0 < ds.width && y0 < ds.height) out.push(i);
  }
  return out;
}

/** `n` indices drawn from `pool` with a seeded shuffle, returned in ascending order. */
export function drawIndices(pool: readonly number[], n: number, seed: number): number[] {
  const p = permutation(pool.length, seed);
  return Array.from(p.subarray(0, Math.min(n, pool.length)), (i) => pool[i]).sort((a, b) => a - b);
}

/**
 * The eval transforms feeding `ds` to a run's model (train/setup.ts's), after checking that
 * its images and classes fit the model; throws a RangeError naming both when they do not.
 */
export function runTransforms(info: RunInfo, ds: ImageDataset, label = "the run"): Transforms {
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
  return config.saliencySign ?? "abs";
}

/** What SIB ranks for a run under `sign` (default "run": as the run was trained). */
export function sibSign(
  config: Pick<TrainConfig, "saliencySign">,
  sign: SibSign = "run",
): SaliencySign {
  return sign === "run" ? trainedSign(config) : sign;
}

/**
 * What the saliency figures (`hlgm saliency`, the report) say of a run trained with signed
 * saliency: they draw and count |gradient|, not what its masking ranked.
 */
export function figureSignNote(): string {
  return "the saliency figure ranks |attribution| (Captum's default), not the signed " +
    `attribution the run's masking ranked (${
      words().settingValue("saliencySign", "signed")
    }); its SIB (sib.json) ranks as it was trained`;
}

/**
 * A note when a run's SIB did not rank its saliency as the run was trained ("abs saliency,
 * trained with saliencySign: \"signed\""), else null. Sib files written before the sign was
 * recorded ranked |saliency|.
 */
export function signNote(
  e: { saliency_sign?: SaliencySign; trained_saliency_sign?: SaliencySign },
): string | null {
  const scored = e.saliency_sign ?? "abs";
  const trained = e.trained_saliency_sign ?? "abs";
  return scored === trained
    ? null
    : `not scored as trained: ${scored} saliency, trained with ${
      words().settingValue("saliencySign", trained)
    }`;
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

/** Options of {@link evaluateSib}. */
export interface EvaluateSibOptions extends Omit<AttributionChoice, "abs"> {
  /** The x values in percent (default 0.5, 1, 2, 5, 10). */
  percents?: readonly number[];
  /**
   * Number of test images with a box (all of them when fewer), or "all" (default
   * DEFAULT_SIB_N: all, as the paper).
   */
  n?: number | "all";
  /** Seed of the image draw and of SmoothGrad's noise (default 0). */
  seed?: number;
  /** Checkpoint loaded when `run` is a path (default DEFAULT_SIB_CHECKPOINT). */
  which?: CheckpointRule;
  /** What is ranked (default "run": as the run was trained; see {@link SibSign}). */
  sign?: SibSign;
  /** Device when `run` is a path (default auto). */
  device?: string;
  /** Dataset root when the split is loaded here (default: the run's). */
  dataDir?: string;
  /** Called after every batch with (images done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Checked after every batch: when it returns true, an InterruptedError is thrown. */
  shouldStop?: () => boolean;
}

/** A run's SIB: the fields of its sib.json. */
export interface SibEvaluation {
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
  /**
   * What was ranked: the channel reduction of |attribution| (abs) or of the signed attribution
   * (absent in files written before it was recorded: abs).
   */
  saliency_sign?: SaliencySign;
  /** The run's --saliency-sign, what its masking ranked (absent in older files: abs). */
  trained_saliency_sign?: SaliencySign;
  /** The x values. */
  percents: number[];
  /** Number of images. */
  n: number;
  /** The number asked for: a count, or "all" (every test image with a box). */
  n_requested: number | "all";
  /** Seed of the draw. */
  seed: number;
  /** The checkpoint rule that chose the weights (CHECKPOINT_RULES). */
  checkpoint: CheckpointRule;
  /** Why the rule fell back to another checkpoint, when it did. */
  checkpoint_note?: string;
  /** Epoch of the checkpoint. */
  epoch: number;
  /** Test-split indices of the images, ascending. */
  indices: number[];
  /** SIB per image for each x (keys String(x)), in the order of `indices`. */
  per_image: Record<string, number[]>;
  /** Median, mean, quartiles per x. */
  summary: Record<string, Summary>;
  /**
   * SIB's chance level on these images: the mean fraction of an image inside its box, which a
   * saliency map ranking pixels at random scores in expectation at every x (absent in files
   * written before it was recorded).
   */
  chance?: number;
  /**
   * The localisation scores per image (absent in files written before they were recorded):
   * the pointing game (1 where the map's top pixel is in the box) and relevance mass accuracy
   * (the share of the map's positive mass inside the box; null for a map without positive mass).
   */
  localisation?: {
    pointing_game: number[];
    relevance_mass: (number | null)[];
    /** Their means with 95% intervals over the images. */
    summary: { pointing_game: MeanInterval; relevance_mass: MeanInterval };
  };
}

/**
 * SIB(x) per image of a run's checkpoint on `dataset` (default: the run's test split, which
 * must have boxes). `run` is a folder (its `which` checkpoint is loaded on `device` and freed
 * after) or a LoadedRun (used as is, left open).
 */
export async function evaluateSib(
  run: LoadedRun | string,
  dataset?: ImageDataset,
  options: EvaluateSibOptions = {},
): Promise<SibEvaluation> {
  const percents = [...(options.percents ?? DEFAULT_SIB_PERCENTS)];
  const n = options.n ?? DEFAULT_SIB_N;
  if (n !== "all" && (!Number.isInteger(n) || n < 1)) {
    throw new RangeError(`n must be a positive integer or "all", got ${n}`);
  }
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
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 100;
  const reduction = options.reduction ?? "mean";
  const owned = typeof run === "string";
  const loaded = typeof run === "string"
    ? loadRun(run, { which: options.which ?? DEFAULT_SIB_CHECKPOINT, device: options.device })
    : run;
  try {
    const config = loaded.info.config;
    const given = dataset ?? await loadTestSplit(config, { dataDir: options.dataDir });
    // normalised as the run was trained (its own statistics or ImageNet's)
    const ds = withRunNormalization(config, given);
    const sign = sibSign(config, signChoice);
    if (!ds.boxes) {
      throw new RangeError(
        `${ds.name} has no object boxes; SIB needs a dataset with boxes (cluttered-fmnist, oxford-pet)`,
      );
    }
    const transforms = runTransforms(loaded.info, ds, loaded.path);
    const pool = imagesWithBoxes(ds);
    if (pool.length === 0) throw new RangeError(`${ds.name}: no image has a box`);
    const indices = n === "all" ? pool.slice().sort((a, b) => a - b) : drawIndices(pool, n, seed);
    const device = loaded.model.parameters()[0].device;
    const saliencyOf = pixelSaliencyFn(loaded.model, config.model, {
      method,
      layer: options.layer,
      reduction,
      batchSize,
      abs: sign === "abs",
    });
    const values = percents.map(() => new Float64Array(indices.length));
    const chance = new Float64Array(indices.length); // each image's box area fraction
    const pointing = new Float64Array(indices.length);
    const mass = new Float64Array(indices.length);
    using loader = new DataLoader(ds, { batchSize, shuffle: false, device, transforms });
    manualSeed(seed); // SmoothGrad's noise is the same for every run
    const yielder = new Yielder();
    for (let s = 0; s < indices.length; s += batchSize) {
      const idx = indices.slice(s, s + batchSize);
      const batch = tidy(() => {
        const b = loader.batchOf(idx);
        const map = saliencyOf(b.x, b.y);
        const [n, h, w] = map.shape;
        chance.set(boxFraction(b.boxes!, n, h, w, map.device), s);
        pointing.set(pointingGame(map, b.boxes!), s);
        // the positive mass: a signed map's negative evidence is not relevance placed anywhere
        mass.set(relevanceMassAccuracy(sign === "signed" ? map.relu() : map, b.boxes!), s);
        return sib(map, b.boxes!, percents);
      });
      batch.forEach((v, j) => values[j].set(v, s));
      const done = Math.min(s + batchSize, indices.length);
      options.onProgress?.(done, indices.length);
      await yielder.tick(); // lets Ctrl-C's listener run
      if (options.shouldStop?.()) {
        throw new InterruptedError(
          `SIB of ${loaded.path} interrupted after ${done} of ${indices.length} images`,
        );
      }
    }
    const perImage: Record<string, number[]> = {};
    const summary: Record<string, Summary> = {};
    percents.forEach((p, j) => {
      perImage[String(p)] = Array.from(values[j]);
      summary[String(p)] = summarize(values[j]);
    });
    return {
      dataset: ds.name,
      split: "test",
      method: method as AttributionMethod,
      method_settings: ATTRIBUTION_DEFAULTS[method as AttributionMethod],
      ...(method === "gradcam" ? { layer: gradcamLayer(config.model, options.layer) } : {}),
      reduction,
      saliency_sign: sign,
      trained_saliency_sign: trainedSign(config),
      percents,
      n: indices.length,
      n_requested: n,
      chance: chance.reduce((a, v) => a + v, 0) / Math.max(1, indices.length),
      seed,
      checkpoint: loaded.checkpoint,
      ...(loaded.checkpointNote ? { checkpoint_note: loaded.checkpointNote } : {}),
      epoch: loaded.epoch,
      indices,
      per_image: perImage,
      summary,
      localisation: {
        pointing_game: Array.from(pointing),
        relevance_mass: Array.from(mass),
        // a map with no positive mass has no relevance mass accuracy (NaN, null in JSON)
        summary: {
          pointing_game: meanInterval(pointing),
          relevance_mass: meanInterval(Array.from(mass).filter(Number.isFinite)),
        },
      },
    };
  } finally {
    if (owned) loaded.model.dispose();
  }
}
