/**
 * Small-sample statistics for comparing methods over the same seeds: Student's t distribution
 * (CDF and quantile, through the regularised incomplete beta function) and the paired t test
 * with its 95% confidence interval. Three seeds make a t interval wide (t(0.975, 2) = 4.30):
 * that width is the honest statement of what three seeds can show.
 *
 * @module
 */

/**
 * ln Γ(x) for x > 0: Stirling's series from x + 10 on (terms to x^-7, error below 1e-16 there),
 * brought down by Γ(x + 1) = x Γ(x).
 */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
  let shift = 0;
  while (x < 10) {
    shift += Math.log(x);
    x += 1;
  }
  const r = 1 / (x * x);
  const series = (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r / 1680))) / x;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b), for a, b > 0 and x in [0, 1]. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // the fraction converges fast on the side of the mean; use the symmetry on the other
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T <= t) = p (0 < p < 1), by bisection on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile needs 0 < p < 1, got ${p}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A paired comparison: `a[i] - b[i]` over the pairs (the same seed run both ways). */
export interface PairedTest {
  /** Pairs. */
  n: number;
  /** Mean difference. */
  mean: number;
  /** Sample standard deviation of the differences (null below 2 pairs). */
  sd: number | null;
  /** 95% confidence interval of the mean difference (null below 2 pairs). */
  ci95: [number, number] | null;
  /** The t statistic (null below 2 pairs, or when every difference is the same). */
  t: number | null;
  /** Two-sided p-value of "no difference" (null where t is). */
  p: number | null;
}

/** Paired t test of `a - b` with its 95% interval; `a` and `b` must pair up. */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length) {
    throw new RangeError(`a paired test needs pairs: ${a.length} values against ${b.length}`);
  }
  const d = a.map((v, i) => v - b[i]);
  const n = d.length;
  const mean = n ? d.reduce((s, v) => s + v, 0) / n : NaN;
  if (n < 2) return { n, mean, sd: null, ci95: null, t: null, p: null };
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  const half = studentTQuantile(0.975, n - 1) * se;
  if (se === 0) return { n, mean, sd, ci95: [mean, mean], t: null, p: null };
  const t = mean / se;
  return {
    n,
    mean,
    sd,
    ci95: [mean - half, mean + half],
    t,
    p: incompleteBeta((n - 1) / (n - 1 + t * t), (n - 1) / 2, 0.5),
  };
}

/**
 * The p-quantile (0 <= p <= 1) of values sorted ascending, interpolating linearly between
 * neighbours (numpy's default); NaN for none.
 */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  // on a value itself, that value (an infinity stays one: Inf - Inf would make NaN)
  if (pos === lo || lo + 1 >= sorted.length) return sorted[lo];
  return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - lo);
}

/** The median (the mean of the two middle values for an even count; NaN for none). */
export function median(values: ArrayLike<number>): number {
  return quantileSorted(Array.from(values).sort((a, b) => a - b), 0.5);
}

/** A sample's mean with its 95% t interval. */
export interface MeanInterval {
  /** Values. */
  n: number;
  /** Their mean. */
  mean: number;
  /** Sample standard deviation (null below 2 values). */
  sd: number | null;
  /** 95% t interval of the mean (null below 2 values). */
  ci95: [number, number] | null;
}

/** The mean of `values` with its 95% t interval (values that are not finite are refused). */
export function meanInterval(values: ArrayLike<number>): MeanInterval {
  const v = Array.from(values);
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`meanInterval: value ${bad} is ${v[bad]}`);
  const n = v.length;
  const mean = n ? v.reduce((s, x) => s + x, 0) / n : NaN;
  if (n < 2) return { n, mean, sd: null, ci95: null };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile(0.975, n - 1) * sd / Math.sqrt(n);
  return { n, mean, sd, ci95: [mean - half, mean + half] };
}
