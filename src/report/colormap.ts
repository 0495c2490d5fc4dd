/**
 * Saliency maps to colours, in the manner of Captum's visualize_image_attr with sign
 * "absolute_value": one normalisation (|attribution| divided by the value at which the sorted
 * cumulative sum reaches 98% of the total, clipped to [0, 1]), a choice of colour maps
 * (matplotlib's tables; "blues" is Captum's default for absolute values). Imports nothing, so
 * the CLI reads the names without libtorch.
 *
 * @module
 */

/** The colour maps, by name; the first is the default. */
export const COLORMAPS = ["blues", "hot", "viridis"] as const;

/** A colour map name. */
export type Colormap = typeof COLORMAPS[number];

/** The colour map figures use unless told otherwise. */
export const DEFAULT_COLORMAP: Colormap = COLORMAPS[0];

type Anchors = readonly (readonly [number, number, number])[];

// matplotlib's "Blues" (the 9 anchors of its segmented map)
const BLUES: Anchors = [
  [247, 251, 255],
  [222, 235, 247],
  [198, 219, 239],
  [158, 202, 225],
  [107, 174, 214],
  [66, 146, 198],
  [33, 113, 181],
  [8, 81, 156],
  [8, 48, 107],
];

// matplotlib's "viridis" at 0, 1/8, ..., 1
const VIRIDIS: Anchors = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function interpolate(anchors: Anchors, x: number): [number, number, number] {
  const p = x * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(p));
  const t = p - i;
  const [a, b] = [anchors[i], anchors[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * t)) as [number, number, number];
}

/** The colour of v in [0, 1] (clamped; NaN as 0) under a colour map, as [r, g, b] bytes. */
export function colormap(v: number, map: Colormap = DEFAULT_COLORMAP): [number, number, number] {
  const x = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
  switch (map) {
    case "blues":
      return interpolate(BLUES, x);
    case "viridis":
      return interpolate(VIRIDIS, x);
    case "hot": {
      // black -> red -> yellow -> white
      const clip = (u: number) => Math.round(255 * Math.min(1, Math.max(0, u)));
      return [clip((8 / 3) * x), clip((8 / 3) * x - 1), clip(4 * x - 3)];
    }
  }
}

/**
 * Captum's _normalize_attr for sign "absolute_value": |a| divided by the value at which the
 * ascending cumulative sum first reaches (100 - outlierPerc)% of the total, clipped to [0, 1].
 * Non-finite values count as 0; an all-zero map stays zero.
 */
export function normalizeAttribution(map: ArrayLike<number>, outlierPerc = 2): Float32Array {
  const abs = Float32Array.from(map, (v) => (Number.isFinite(v) ? Math.abs(v) : 0));
  const sorted = Float64Array.from(abs).sort();
  let total = 0;
  for (const v of sorted) total += v;
  const target = total * 0.01 * (100 - outlierPerc);
  let threshold = sorted[sorted.length - 1] ?? 0;
  let cum = 0;
  for (const v of sorted) {
    cum += v;
    if (cum >= target) {
      threshold = v;
      break;
    }
  }
  if (!(threshold > 0)) return new Float32Array(abs.length);
  return abs.map((v) => Math.min(1, v / threshold));
}
