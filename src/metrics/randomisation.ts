/**
 * The cascading model-randomisation check (Adebayo et al., "Sanity Checks for Saliency Maps",
 * NeurIPS 2018, section 3.1): the model's layers are re-initialised one after another, from the
 * output towards the input, and after each one the saliency maps are computed again and compared
 * with the trained model's. A map that hardly changes while the weights that make the decision
 * are destroyed explains the input (edges, texture), not the model. Lower similarity is better.
 *
 * For a batch of N images, maps m_0 (the trained model) and m_l (layers 1..l randomised):
 *
 *   spearman[l][i] = Pearson correlation of the average ranks of m_0[i] and m_l[i]
 *                    (scipy.stats.spearmanr: tied values share the mean of their ranks),
 *                    taken over the |map| values when `abs` (the default, as the paper's
 *                    "absolute value" rank correlation), over the signed values otherwise;
 *   ssim[l][i]     = SSIM of the two maps, each scaled to [0, 1] by its min and max (a constant
 *                    map becomes 0), as skimage's `structural_similarity` with its defaults:
 *                    a 7 x 7 uniform window, K1 = 0.01, K2 = 0.03, data range 1, sample
 *                    covariances (N / (N - 1)), averaged over the windows inside the image.
 *
 * A correlation where a map is constant is 0 (scipy gives NaN). The maps are one value per
 * pixel, (N, H, W); any shape with the batch first is flattened per image for Spearman.
 *
 * Layers: by default each of the model's direct children that holds parameters, from the last
 * registered (the output side) to the first; `layers` names module paths instead, e.g. every
 * ResNet block. Re-initialising a layer (the default `randomize`) redraws, from libtorch's seeded
 * generator, each parameter under it as PyTorch initialises it: a parameter of two or more
 * dimensions from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (Linear's and Conv's default), a bias beside
 * such a weight from the same bound, a norm layer's scale 1 and shift 0 with its running mean 0
 * and variance 1 (`reset_parameters`). The model's own weights are restored afterwards, also when
 * the check fails part-way.
 *
 * Batched: each layer costs one call of `explain` over the whole batch and one copy of its maps to
 * the host (the ranks are sorted there).
 *
 * @module
 */

import type { Module } from "../nn/module.ts";
import { full, uniform } from "../tensor/create.ts";
import { tidy } from "../tensor/engine.ts";
import { avgPool2d } from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of {@link cascadingRandomisation}. */
export interface RandomisationOptions {
  /** Module paths randomised in this order (default: the parameter-holding children, last first). */
  layers?: readonly string[];
  /** Re-initialises one layer in place (default: PyTorch's initialisation, see the module doc). */
  randomize?: (path: string, module: Module) => void;
  /** Rank |values| (default true, the paper's absolute-value correlation) or signed values. */
  abs?: boolean;
  /** Also compute SSIM of the min-max scaled maps (default false). */
  ssim?: boolean;
}

/** The check's result: one row per randomised layer, one value per image. */
export interface RandomisationResult {
  /** The layers, in the order they were randomised (cumulatively). */
  layers: string[];
  /** Spearman rank correlation with the trained model's maps, per layer, per image. */
  spearman: number[][];
  /** SSIM with the trained model's maps, per layer, per image (null unless asked). */
  ssim: number[][] | null;
}

/** The default layers: direct children holding parameters, output side first. */
export function defaultRandomisationLayers(model: Module): string[] {
  return model.namedChildren().filter(([, m]) => m.parameters().length > 0).map(([n]) => n)
    .reverse();
}

function moduleAt(model: Module, path: string): Module {
  const found = model.namedModules().find(([n]) => n === path);
  if (!found) {
    const known = defaultRandomisationLayers(model).join(", ");
    throw new RangeError(`the model has no layer "${path}" (its top-level layers: ${known})`);
  }
  return found[1];
}

/** PyTorch's initialisation of every parameter under `module` (see the module doc), in place. */
export function reinitialise(module: Module): void {
  tidy(() => {
    const params = new Map(module.namedParameters());
    for (const [name, p] of params) {
      const dot = name.lastIndexOf(".");
      const owner = dot < 0 ? "" : name.slice(0, dot + 1);
      const leaf = name.slice(dot + 1);
      const sibling = params.get(`${owner}weight`);
      const opts = { device: p.device, dtype: p.dtype };
      let fresh: Tensor;
      if (p.ndim >= 2 || (leaf === "bias" && sibling && sibling.ndim >= 2)) {
        const shape = p.ndim >= 2 ? p.shape : sibling!.shape;
        const fanIn = shape[1] * shape.slice(2).reduce((a, b) => a * b, 1);
        const bound = 1 / Math.sqrt(fanIn);
        fresh = uniform(p.shape, -bound, bound, opts);
      } else {
        fresh = full(p.shape, leaf === "weight" ? 1 : 0, opts);
      }
      p.setData(fresh);
    }
    for (const [name, b] of module.namedBuffers()) {
      const opts = { device: b.device, dtype: b.dtype };
      if (name.endsWith("running_mean")) b.setData(full(b.shape, 0, opts));
      else if (name.endsWith("running_var")) b.setData(full(b.shape, 1, opts));
    }
  });
}

/** Average ranks (1-based; ties share their mean rank), as scipy.stats.rankdata. */
function averageRanks(v: Float32Array): Float64Array {
  const n = v.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && v[order[j + 1]] === v[order[i]]) j++;
    const mean = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = mean;
    i = j + 1;
  }
  return ranks;
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Spearman's rank correlation of each row of two (N, D) host arrays. */
export function spearmanRows(a: Float32Array, b: Float32Array, rows: number): number[] {
  if (a.length !== b.length || a.length % rows !== 0) {
    throw new RangeError(`spearmanRows: ${a.length} and ${b.length} values for ${rows} rows`);
  }
  const d = a.length / rows;
  return Array.from(
    { length: rows },
    (_, i) =>
      pearson(
        averageRanks(a.subarray(i * d, (i + 1) * d)),
        averageRanks(b.subarray(i * d, (i + 1) * d)),
      ),
  );
}

/** skimage's SSIM (defaults in the module doc) of two batches of maps (N, H, W), per image. */
export function ssimBatch(a: Tensor, b: Tensor): number[] {
  if (a.ndim !== 3 || a.shape.join() !== b.shape.join()) {
    throw new RangeError(
      `ssim needs two (N, H, W) batches of one shape, got [${a.shape}], [${b.shape}]`,
    );
  }
  const [n, h, w] = a.shape;
  const win = 7;
  if (h < win || w < win) {
    throw new RangeError(`ssim needs maps of at least 7 x 7, got ${h} x ${w}`);
  }
  return tidy(() => {
    const scale = (m: Tensor) => {
      const flat = m.reshape([n, -1]).to("float32");
      const lo = flat.amin(1, true);
      const range = flat.amax(1, true).sub(lo);
      // a constant map: range 0 -> all zeros (0 / 1)
      return flat.sub(lo).div(range.add(range.eq(0).to("float32"))).reshape([n, 1, h, w]);
    };
    const x = scale(a), y = scale(b);
    const mean = (t: Tensor) => avgPool2d(t, win, { stride: 1 });
    const cov = (win * win) / (win * win - 1);
    const ux = mean(x), uy = mean(y);
    const vx = mean(x.mul(x)).sub(ux.mul(ux)).mul(cov);
    const vy = mean(y.mul(y)).sub(uy.mul(uy)).mul(cov);
    const vxy = mean(x.mul(y)).sub(ux.mul(uy)).mul(cov);
    const c1 = 0.01 ** 2, c2 = 0.03 ** 2;
    const s = ux.mul(uy).mul(2).add(c1).mul(vxy.mul(2).add(c2))
      .div(ux.pow(2).add(uy.pow(2)).add(c1).mul(vx.add(vy).add(c2)));
    return [...(s.reshape([n, -1]).mean(1).data() as Float32Array)];
  });
}

/**
 * The cascading randomisation check of `explain` (a batch of inputs to its maps, e.g. a saliency
 * method's pixel maps for fixed targets) on `model`, whose layers are randomised in place and
 * restored before returning. See the module for the definition.
 */
export function cascadingRandomisation(
  model: Module,
  explain: (x: Tensor) => Tensor,
  x: Tensor,
  options: RandomisationOptions = {},
): RandomisationResult {
  const layers = [...(options.layers ?? defaultRandomisationLayers(model))];
  if (layers.length === 0) {
    throw new RangeError("the model has no layer with parameters to randomise");
  }
  const modules = layers.map((path) => moduleAt(model, path));
  const randomize = options.randomize ?? ((_path: string, m: Module) => reinitialise(m));
  const abs = options.abs ?? true;
  const n = x.shape[0];
  // the model's own values, put back at the end
  const saved = [...model.namedParameters(), ...model.namedBuffers()].map(([, t]) =>
    [t, t.detach().clone()] as const
  );
  const spearman: number[][] = [];
  const ssim: number[][] | null = options.ssim ? [] : null;
  try {
    const mapOf = () => {
      const m = explain(x);
      if (m.shape[0] !== n) {
        m.dispose();
        throw new RangeError(`explain must return one map per input (${n}), got [${m.shape}]`);
      }
      return m;
    };
    const m0 = mapOf();
    try {
      const host0 = tidy(() => (abs ? m0.abs() : m0).to("float32").data() as Float32Array);
      for (let l = 0; l < layers.length; l++) {
        randomize(layers[l], modules[l]);
        tidy(() => {
          const m = mapOf();
          const host = (abs ? m.abs() : m).to("float32").data() as Float32Array;
          spearman.push(spearmanRows(host0, host, n));
          ssim?.push(ssimBatch(abs ? m0.abs() : m0, abs ? m.abs() : m));
        });
      }
    } finally {
      m0.dispose();
    }
  } finally {
    for (const [t, copy] of saved) {
      t.setData(copy);
      copy.dispose();
    }
  }
  return { layers, spearman, ssim };
}
