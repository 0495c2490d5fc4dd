/**
 * Faithfulness of a trained run's saliency maps: for the same test images as any other run
 * (N drawn with a seed, ascending, or all), the maps of the true label, as SIB computes them
 * (the attribution registry, the run's normalisation, ranked as the run was trained), scored by
 * the metrics of src/metrics/ with the settings of faith_defaults.ts:
 *
 * - deletion and insertion AUC (RISE; 20 steps, zero and blur),
 * - AOPC of MoRF and LeRF region perturbation (Samek et al.; every region, the same uniform noise
 *   for both orders),
 * - infidelity of the pixel map (Captum's, with the scale fitted: the maps of different models
 *   differ in scale),
 * - max-sensitivity (Captum's sensitivity_max of the pixel-map function),
 * - the cascading randomisation check (Spearman per layer; per image, its mean over the cascade).
 *
 * The noise is libtorch's, seeded once with `seed` before the first batch, so every run of one
 * architecture sees the same draws. The target is the true label throughout (as SIB's).
 * The result has the fields of a run's faith.json.
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import { perturbationCurve } from "../metrics/deletion.ts";
import { regionPerturbation, uniformNoise } from "../metrics/aopc.ts";
import { infidelity } from "../metrics/infidelity.ts";
import { sensitivityMax } from "../metrics/sensitivity.ts";
import { cascadingRandomisation, defaultRandomisationLayers } from "../metrics/randomisation.ts";
import type { Model } from "../models/factory.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { LoadedRun } from "../train/load_run.ts";
import { type MeanInterval, meanInterval } from "../util/stats.ts";
import {
  aopcPatch,
  DEFAULT_FAITH_METRICS,
  DEFAULT_FAITH_N,
  FAITH_METRICS,
  FAITH_SETTINGS,
  type FaithMetric,
} from "./faith_defaults.ts";
import {
  checkImageCount,
  openRunScoring,
  type RunScoringOptions,
  scoreBatches,
  type ScoredRunFields,
} from "./run_scoring.ts";
import { drawIndices } from "./sib.ts";

/** Options of {@link evaluateFaith}. */
export interface EvaluateFaithOptions extends RunScoringOptions {
  /** The scores (default all of FAITH_METRICS). */
  metrics?: readonly FaithMetric[];
  /** Test images (default DEFAULT_FAITH_N), or "all". */
  n?: number | "all";
}

/** A curve's mean over the images, with its 95% interval per point. */
export interface MeanCurve {
  /** The x values (fractions of pixels, or layers randomised). */
  x: (number | string)[];
  /** Mean per point. */
  mean: number[];
  /** 95% interval per point ([lo, hi]; null below 2 images). */
  ci95: ([number, number] | null)[];
}

/** A run's faithfulness: the fields of its faith.json. */
export interface FaithEvaluation extends ScoredRunFields {
  /** The class whose probability (or logit, for infidelity) is followed. */
  target: "label";
  /** The scores computed, in FAITH_METRICS order. */
  metrics: FaithMetric[];
  /** Their settings (faith_defaults.ts, with the AOPC patch and the layers resolved). */
  settings: Record<string, unknown>;
  /** Per score, one value per image (in the order of `indices`). */
  per_image: Partial<Record<FaithMetric, number[]>>;
  /** Per score, the mean with its 95% interval over the images. */
  summary: Partial<Record<FaithMetric, MeanInterval>>;
  /** Mean curves: deletion, insertion (x: fraction of pixels), randomisation (x: layer). */
  curves: Partial<Record<"deletion" | "insertion" | "randomisation", MeanCurve>>;
}

function meanCurve(x: (number | string)[], rows: number[][]): MeanCurve {
  const stats = x.map((_, k) => meanInterval(rows.map((r) => r[k])));
  return { x, mean: stats.map((s) => s.mean), ci95: stats.map((s) => s.ci95) };
}

/** What the batches add up. */
interface Accumulator {
  metrics: FaithMetric[];
  perImage: Partial<Record<FaithMetric, number[]>>;
  curveRows: Record<"deletion" | "insertion" | "randomisation", number[][]>;
  fractions: number[];
  patch: number;
}

function newAccumulator(metrics: FaithMetric[]): Accumulator {
  const perImage: Partial<Record<FaithMetric, number[]>> = {};
  for (const m of metrics) perImage[m] = [];
  return {
    metrics,
    perImage,
    curveRows: { deletion: [], insertion: [], randomisation: [] },
    fractions: [],
    patch: 0,
  };
}

/** Every asked score of one batch (inputs x, labels y), added to `acc`. */
function scoreBatch(
  model: Model,
  saliencyOf: (x: Tensor, y: Tensor) => Tensor,
  layers: string[],
  x: Tensor,
  y: Tensor,
  acc: Accumulator,
): void {
  const has = (m: FaithMetric) => acc.metrics.includes(m);
  const forward = (v: Tensor) => model.forward(v);
  const perImage = acc.perImage;
  const map = saliencyOf(x, y);
  for (const mode of ["deletion", "insertion"] as const) {
    if (!has(mode)) continue;
    const r = perturbationCurve(forward, x, map, y, { mode, ...FAITH_SETTINGS[mode] });
    acc.fractions = r.fractions;
    perImage[mode]!.push(...r.auc);
    acc.curveRows[mode].push(...r.curves);
  }
  if (has("morf") || has("lerf")) {
    acc.patch = FAITH_SETTINGS.aopc.patch ?? aopcPatch(x.shape[2], x.shape[3]);
    const noise = uniformNoise(x); // the same for both orders
    for (const order of ["morf", "lerf"] as const) {
      if (!has(order)) continue;
      const r = regionPerturbation(forward, x, map, y, { order, patch: acc.patch, noise });
      perImage[order]!.push(...r.aopc);
    }
  }
  if (has("infidelity")) {
    const { samples, sigma, normalize } = FAITH_SETTINGS.infidelity;
    perImage.infidelity!.push(
      ...noGrad(() => infidelity(forward, x, map, y, { samples, sigma, normalize })),
    );
  }
  if (has("sensitivity")) {
    const { samples, radius } = FAITH_SETTINGS.sensitivity;
    perImage.sensitivity!.push(...sensitivityMax((v) => saliencyOf(v, y), x, { samples, radius }));
  }
  if (has("randomisation")) {
    const r = cascadingRandomisation(model, (v) => saliencyOf(v, y), x, { layers });
    for (let i = 0; i < x.shape[0]; i++) {
      const row = r.spearman.map((l) => l[i]); // [layer][image] -> this image's cascade
      acc.curveRows.randomisation.push(row);
      perImage.randomisation!.push(row.reduce((a, v) => a + v, 0) / row.length);
    }
  }
}

/** The summaries, mean curves and settings of what `acc` holds. */
function summarise(acc: Accumulator, layers: string[]): Pick<
  FaithEvaluation,
  "summary" | "curves" | "settings"
> {
  const has = (m: FaithMetric) => acc.metrics.includes(m);
  const summary: FaithEvaluation["summary"] = {};
  for (const m of acc.metrics) summary[m] = meanInterval(acc.perImage[m]!);
  const curves: FaithEvaluation["curves"] = {};
  const settings: Record<string, unknown> = {};
  for (const mode of ["deletion", "insertion"] as const) {
    if (!has(mode)) continue;
    curves[mode] = meanCurve(acc.fractions, acc.curveRows[mode]);
    settings[mode] = FAITH_SETTINGS[mode];
  }
  if (has("morf") || has("lerf")) {
    settings.aopc = { patch: acc.patch, noise: "uniform in each image's range" };
  }
  if (has("infidelity")) settings.infidelity = FAITH_SETTINGS.infidelity;
  if (has("sensitivity")) settings.sensitivity = FAITH_SETTINGS.sensitivity;
  if (has("randomisation")) {
    curves.randomisation = meanCurve(layers, acc.curveRows.randomisation);
    settings.randomisation = { layers };
  }
  return { summary, curves, settings };
}

/** Checks a list of score names (RangeError naming the unknown one and the choices). */
export function checkFaithMetrics(metrics: readonly string[]): FaithMetric[] {
  const bad = metrics.find((m) => !(FAITH_METRICS as readonly string[]).includes(m));
  if (bad !== undefined) {
    throw new RangeError(
      `unknown faithfulness score "${bad}"; expected ${FAITH_METRICS.join(", ")}`,
    );
  }
  if (metrics.length === 0) throw new RangeError("no faithfulness score asked for");
  return FAITH_METRICS.filter((m) => metrics.includes(m));
}

/**
 * The faithfulness scores per image of a run's checkpoint on `dataset` (default: the run's test
 * split). `run` is a folder (its `which` checkpoint is loaded on `device` and freed after) or a
 * LoadedRun (used as is, left open; its weights are unchanged afterwards).
 */
export async function evaluateFaith(
  run: LoadedRun | string,
  dataset?: ImageDataset,
  options: EvaluateFaithOptions = {},
): Promise<FaithEvaluation> {
  const metrics = checkFaithMetrics(options.metrics ?? DEFAULT_FAITH_METRICS);
  const n = options.n ?? DEFAULT_FAITH_N;
  checkImageCount(n);
  using s = await openRunScoring(run, dataset, options);
  const all = Array.from({ length: s.ds.n }, (_, i) => i);
  const indices = n === "all" ? all : drawIndices(all, n, options.seed ?? 0);
  const model = s.loaded.model;
  const acc = newAccumulator(metrics);
  const layers = defaultRandomisationLayers(model);
  await scoreBatches(s, indices, options, "faithfulness", (b) => {
    scoreBatch(model, s.saliencyOf, layers, b.x, b.y, acc);
  });
  return {
    ...s.fields(indices, n),
    target: "label",
    metrics,
    ...summarise(acc, layers),
    per_image: acc.perImage,
  };
}
