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

import { LIBRARY_VOCABULARY, type Vocabulary } from "../util/vocabulary.ts";
import { type ImageDataset, permutation } from "../data/dataset.ts";
import {
  ATTRIBUTION_DEFAULTS,
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  DEFAULT_GRADCAM_LAYER,
  gradcamLayer,
} from "../saliency/registry.ts";
import type { LoadedRun } from "../train/load_run.ts";
import { loadTestSplit } from "../train/setup.ts";
import { DEFAULT_SIB_N } from "./sib_defaults.ts";
import {
  checkImageCount,
  openRunScoring,
  type RunScoringOptions,
  type SaliencySign,
  scoreBatches,
  type ScoredRunFields,
} from "./run_scoring.ts";
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

export { loadTestSplit };
export {
  type AttributionChoice,
  pixelSaliencyFn,
  runTransforms,
  type SaliencySign,
  type SibSign,
  sibSign,
  trainedSign,
} from "./run_scoring.ts";

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
 * What the saliency figures (`hlgm saliency`, the report) say of a run trained with signed
 * saliency: they draw and count |gradient|, not what its masking ranked.
 */
export function figureSignNote(v: Vocabulary = LIBRARY_VOCABULARY): string {
  return "the saliency figure ranks |attribution| (Captum's default), not the signed " +
    `attribution the run's masking ranked (${v.settingValue("saliencySign", "signed")}); ` +
    "its SIB (sib.json) ranks as it was trained";
}

/**
 * A note when a run's SIB did not rank its saliency as the run was trained ("abs saliency,
 * trained with saliencySign: \"signed\""), else null. Sib files written before the sign was
 * recorded ranked |saliency|.
 */
export function signNote(
  e: { saliency_sign?: SaliencySign; trained_saliency_sign?: SaliencySign },
  v: Vocabulary = LIBRARY_VOCABULARY,
): string | null {
  const scored = e.saliency_sign ?? "abs";
  const trained = e.trained_saliency_sign ?? "abs";
  return scored === trained
    ? null
    : `not scored as trained: ${scored} saliency, trained with ${
      v.settingValue("saliencySign", trained)
    }`;
}

/** Options of {@link evaluateSib}. */
export interface EvaluateSibOptions extends RunScoringOptions {
  /** The x values in percent (default 0.5, 1, 2, 5, 10). */
  percents?: readonly number[];
  /**
   * Number of test images with a box (all of them when fewer), or "all" (default
   * DEFAULT_SIB_N: all, as the paper).
   */
  n?: number | "all";
}

/**
 * A run's SIB: the fields of its sib.json (what was scored, as every score file records it;
 * the signs are absent in files written before they were recorded: abs).
 */
export interface SibEvaluation
  extends Omit<ScoredRunFields, "saliency_sign" | "trained_saliency_sign"> {
  /** What was ranked: |attribution| (abs; also when absent) or the signed attribution. */
  saliency_sign?: SaliencySign;
  /** The run's --saliency-sign, what its masking ranked (absent: abs). */
  trained_saliency_sign?: SaliencySign;
  /** The x values. */
  percents: number[];
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
  checkImageCount(n);
  using s = await openRunScoring(run, dataset, options, (ds) => {
    if (!ds.boxes) {
      throw new RangeError(
        `${ds.name} has no object boxes; SIB needs a dataset with boxes (cluttered-fmnist, oxford-pet)`,
      );
    }
  });
  const pool = imagesWithBoxes(s.ds);
  if (pool.length === 0) throw new RangeError(`${s.ds.name}: no image has a box`);
  const indices = n === "all"
    ? pool.slice().sort((a, b) => a - b)
    : drawIndices(pool, n, options.seed ?? 0);
  const values = percents.map(() => new Float64Array(indices.length));
  const chance = new Float64Array(indices.length); // each image's box area fraction
  const pointing = new Float64Array(indices.length);
  const mass = new Float64Array(indices.length);
  await scoreBatches(s, indices, options, "SIB", (b, at) => {
    const map = s.saliencyOf(b.x, b.y);
    const [m, h, w] = map.shape;
    chance.set(boxFraction(b.boxes!, m, h, w, map.device), at);
    pointing.set(pointingGame(map, b.boxes!), at);
    // the positive mass: a signed map's negative evidence is not relevance placed anywhere
    mass.set(relevanceMassAccuracy(s.sign === "signed" ? map.relu() : map, b.boxes!), at);
    sib(map, b.boxes!, percents).forEach((v, j) => values[j].set(v, at));
  });
  const perImage: Record<string, number[]> = {};
  const summary: Record<string, Summary> = {};
  percents.forEach((p, j) => {
    perImage[String(p)] = Array.from(values[j]);
    summary[String(p)] = summarize(values[j]);
  });
  return {
    ...s.fields(indices, n),
    percents,
    chance: chance.reduce((a, v) => a + v, 0) / Math.max(1, indices.length),
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
}
