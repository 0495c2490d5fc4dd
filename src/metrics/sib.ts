/**
 * Saliency-In-the-Box and its localisation peers, per image, batched on the device.
 *
 * SIB(x) = (number of the top x% pixels by saliency inside the object's box) /
 * (number of top x% pixels), with count = max(1, round(x% of H*W)) and several boxes taken as
 * their union. Ties in saliency go to the lower pixel index (a stable sort). Maps holding NaN
 * are refused (RangeError): one reduction per batch.
 *
 * @module
 */

import { type BatchBoxes, boxMask } from "./boxes.ts";
import { noGrad } from "../tensor/autograd.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { assertNoNaN } from "../tensor/checks.ts";
import { quantileSorted } from "../util/stats.ts";

/** The paper's x values, in percent. */
export const DEFAULT_SIB_PERCENTS: readonly number[] = [0.5, 1, 2, 5, 10];

/** The (B, H, W) of the maps; a RangeError for another shape or for NaN values. */
function check(saliency: Tensor, metric: string): [number, number, number] {
  if (saliency.ndim !== 3) {
    throw new RangeError(`saliency maps must be (B, H, W), got [${saliency.shape.join(", ")}]`);
  }
  // one reduction: NaN maps would rank as the largest values and score as if localised
  assertNoNaN(saliency, `${metric}: saliency`, `${metric} of a NaN map means nothing`);
  return saliency.shape as [number, number, number];
}

/** Number of top pixels for x percent of an H*W map: max(1, round(x/100 * H*W)). */
export function sibCount(percent: number, pixels: number): number {
  if (!(percent > 0 && percent <= 100)) {
    throw new RangeError(`SIB percent must be in (0, 100], got ${percent}`);
  }
  return Math.max(1, Math.round((percent / 100) * pixels));
}

/**
 * SIB's chance level per image: the fraction of its H*W pixels inside its boxes (their union).
 * A map that ranks pixels at random puts, in expectation, this fraction of its top x% in the
 * box, at every x; a constant map scores whatever its tie order gives.
 */
export function boxFraction(
  boxes: BatchBoxes,
  batch: number,
  h: number,
  w: number,
  device = "cpu",
): Float64Array {
  return tidy(() =>
    boxMask(boxes, batch, h, w, device).to("float64").reshape(batch, h * w).mean(1)
      .data() as Float64Array
  );
}

/**
 * SIB per image for each x in `percents`: returns one Float64Array of B values per x, in the
 * order of `percents`. One sort per batch serves every x.
 */
export function sib(
  saliency: Tensor,
  boxes: BatchBoxes,
  percents: readonly number[] = DEFAULT_SIB_PERCENTS,
): Float64Array[] {
  const [b, h, w] = check(saliency, "SIB");
  const counts = percents.map((p) => sibCount(p, h * w));
  const hits = noGrad(() =>
    tidy(() => {
      const inBox = boxMask(boxes, b, h, w, saliency.device).reshape(b, h * w);
      const order = saliency.detach().reshape(b, h * w).sort(1, true, true).indices;
      const sorted = inBox.gather(1, order).to("float64");
      return counts.map((c) => sorted.narrow(1, 0, c).sum(1).data() as Float64Array);
    })
  );
  return hits.map((row, i) => row.map((v) => v / counts[i]));
}

/** Quantus' top-k intersection: the share of the k most salient pixels inside the box. */
export function topKIntersection(saliency: Tensor, boxes: BatchBoxes, k: number): Float64Array {
  const [, h, w] = check(saliency, "top-k intersection");
  if (!Number.isInteger(k) || k < 1 || k > h * w) {
    throw new RangeError(`k must be an integer in 1..${h * w}, got ${k}`);
  }
  return sib(saliency, boxes, [(100 * k) / (h * w)])[0];
}

/** Pointing game: 1 where the most salient pixel (lowest index on ties) lies in the box, else 0. */
export function pointingGame(saliency: Tensor, boxes: BatchBoxes): Float64Array {
  const [b, h, w] = check(saliency, "pointing game");
  return noGrad(() =>
    tidy(() => {
      const inBox = boxMask(boxes, b, h, w, saliency.device).reshape(b, h * w);
      const top = saliency.detach().reshape(b, h * w).sort(1, true, true).indices.narrow(1, 0, 1);
      return Float64Array.from(
        inBox.gather(1, top).reshape(b).to("float64").data() as Float64Array,
      );
    })
  );
}

/** Relevance mass accuracy (Quantus): saliency inside the box / total saliency, per image. */
export function relevanceMassAccuracy(saliency: Tensor, boxes: BatchBoxes): Float64Array {
  const [b, h, w] = check(saliency, "relevance mass accuracy");
  return noGrad(() =>
    tidy(() => {
      const s = saliency.detach().reshape(b, h * w).to("float64");
      const inBox = boxMask(boxes, b, h, w, saliency.device).reshape(b, h * w);
      const inside = s.mul(inBox).sum(1);
      return Float64Array.from(inside.div(s.sum(1)).data() as Float64Array);
    })
  );
}

/** Median, mean, quartiles (linear interpolation, as numpy) and count of a list of values. */
export interface Summary {
  /** Median. */
  median: number;
  /** Mean. */
  mean: number;
  /** First quartile. */
  q1: number;
  /** Third quartile. */
  q3: number;
  /** Number of values. */
  n: number;
}

/** Summary statistics of per-image values (NaN-free). */
export function summarize(values: ArrayLike<number>): Summary {
  const s = Array.from(values).sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, mean: NaN, q1: NaN, q3: NaN, n: 0 };
  const q = (p: number) => quantileSorted(s, p);
  return {
    median: q(0.5),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    q1: q(0.25),
    q3: q(0.75),
    n: s.length,
  };
}
