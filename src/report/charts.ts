/**
 * The report's charts as SVG strings: accuracy and loss curves per epoch with the training
 * phases shaded as in the paper's Fig. 2, box plots of per-image values (SIB, Fig. 8 left) and
 * the paired scatter of images sorted by one run's values (Fig. 8 right).
 *
 * Every element a test may look for carries a class: `phase` bands (with `data-mode`,
 * `data-from` and `data-to` epochs), `series` paths (with `data-series`), `box`, `median`,
 * `whisker`, `outlier`, `mean` and `point` marks.
 *
 * @module
 */

import type { EpochMetrics } from "../run_folder/mod.ts";
import { summarize } from "../metrics/sib.ts";
import {
  axes,
  esc,
  type Frame,
  legend,
  type LegendItem,
  linear,
  n2,
  niceTicks,
  PHASE_COLORS,
  PHASE_LABELS,
  seriesColor,
  svgDocument,
  textWidth,
  tickLabel,
} from "./svg.ts";

/** The epoch fields a curve can plot (the metrics.jsonl lines). */
export type CurveMetrics =
  & Pick<
    EpochMetrics,
    | "epoch"
    | "mode"
    | "train_acc"
    | "test_acc"
    | "val_acc"
    | "train_loss"
    | "train_ce"
    | "train_kl"
    | "val_loss"
    | "test_loss"
  >
  & Partial<Pick<EpochMetrics, "train_masked_acc" | "train_masked_loss">>;

/** Another run's curve drawn over a chart (e.g. the baseline's test accuracy, as in Fig. 2). */
export interface OverlayCurve {
  /** Legend text. */
  label: string;
  /** That run's metrics. */
  metrics: readonly CurveMetrics[];
  /** Colour (default: by label, baseline black). */
  color?: string;
}

/** Options of the curve charts. */
export interface CurveOptions {
  /** Title on top. */
  title?: string;
  /** Width in pixels (default 760). */
  width?: number;
  /** Height in pixels (default 440). */
  height?: number;
  /** Also draw the validation curve (default false). */
  val?: boolean;
  /** Test curves of other runs drawn dashed over this one. */
  others?: readonly OverlayCurve[];
  /** Shade the phases even when every epoch is plain (default false: nothing to show). */
  shadeAllPlain?: boolean;
}

/** A contiguous stretch of epochs in one training mode. */
export interface PhaseBand {
  /** The mode: plain, sgt, regularize or denoise. */
  mode: string;
  /** First epoch. */
  from: number;
  /** Last epoch. */
  to: number;
}

/** The runs of equal `mode` in epoch order (the bands of Fig. 2). */
export function phaseBands(metrics: readonly Pick<EpochMetrics, "epoch" | "mode">[]): PhaseBand[] {
  const sorted = [...metrics].sort((a, b) => a.epoch - b.epoch);
  const bands: PhaseBand[] = [];
  for (const m of sorted) {
    const last = bands[bands.length - 1];
    if (last && last.mode === m.mode && m.epoch === last.to + 1) last.to = m.epoch;
    else bands.push({ mode: m.mode, from: m.epoch, to: m.epoch });
  }
  return bands;
}

interface Series {
  key: string;
  label: string;
  color: string;
  dashed?: boolean;
  points: [number, number | null][];
}

/** A path through the points, broken where a value is missing. */
function pathOf(
  points: [number, number | null][],
  sx: (v: number) => number,
  sy: (v: number) => number,
): string {
  const d: string[] = [];
  let pen = false;
  for (const [x, y] of points) {
    if (y === null || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d.push(`${pen ? "L" : "M"}${n2(sx(x))} ${n2(sy(y))}`);
    pen = true;
  }
  return d.join(" ");
}

function curveChart(
  metrics: readonly CurveMetrics[],
  series: Series[],
  yLabel: string,
  options: CurveOptions & { yFloorZero?: boolean; annotateMax?: string },
): string {
  const width = Math.ceil(options.width ?? 760);
  const height = Math.ceil(options.height ?? 440);
  const sorted = [...metrics].sort((a, b) => a.epoch - b.epoch);
  const lastEpoch = Math.max(
    1,
    ...sorted.map((m) => m.epoch),
    ...series.flatMap((s) => s.points.map((p) => p[0])),
  );
  const bands = phaseBands(sorted);
  const shade = options.shadeAllPlain || bands.some((b) => b.mode !== "plain");
  const modes = shade ? [...new Set(bands.map((b) => b.mode))] : [];
  const items: LegendItem[] = [
    ...series.map((s) => ({
      label: s.label,
      color: s.color,
      kind: (s.dashed ? "dashed" : "line") as LegendItem["kind"],
    })),
    ...modes.map((m) => ({
      label: PHASE_LABELS[m] ?? m,
      color: PHASE_COLORS[m] ?? "#eeeeee",
      kind: "swatch" as const,
    })),
  ];
  const left = 64;
  const right = width - 20;
  const lg = legend(items, left, options.title ? 32 : 8, right - left);
  const f: Frame = {
    width,
    height,
    left,
    right,
    top: (options.title ? 32 : 8) + lg.height + 8,
    bottom: height - 46,
  };
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v): v is number =>
    v !== null && Number.isFinite(v)
  );
  const yMin = options.yFloorZero ? 0 : Math.min(...values);
  const yt = niceTicks(values.length ? yMin : 0, values.length ? Math.max(...values) : 1, 6);
  const xt = niceTicks(1, lastEpoch, 10, { integer: true });
  const x0 = 0.5;
  const x1 = lastEpoch + 0.5;
  const sx = linear(x0, x1, f.left, f.right);
  const sy = linear(yt.lo, yt.hi, f.bottom, f.top);
  const body: string[] = [];
  if (shade) {
    body.push(`<g class="phases">`);
    for (const b of bands) {
      const a = sx(b.from - 0.5);
      const z = sx(b.to + 0.5);
      body.push(
        `<rect class="phase phase-${esc(b.mode)}" data-mode="${
          esc(b.mode)
        }" data-from="${b.from}" data-to="${b.to}" x="${n2(a)}" y="${n2(f.top)}" width="${
          n2(z - a)
        }" height="${n2(f.bottom - f.top)}" fill="${PHASE_COLORS[b.mode] ?? "#eeeeee"}"/>`,
      );
    }
    body.push(`</g>`);
  }
  body.push(
    axes(
      f,
      { ...xt, ticks: xt.ticks.filter((t) => t >= 1 && t <= lastEpoch), scale: sx, label: "epoch" },
      { ...yt, scale: sy, label: yLabel },
    ),
  );
  const markers = lastEpoch <= 60;
  for (const s of series) {
    const d = pathOf(s.points, sx, sy);
    if (!d) continue;
    body.push(
      `<path class="series" data-series="${
        esc(s.key)
      }" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${
        s.dashed ? ' stroke-dasharray="6 3"' : ""
      } stroke-linejoin="round"/>`,
    );
    if (markers) {
      body.push(`<g class="markers" data-series="${esc(s.key)}" fill="${s.color}">`);
      for (const [x, y] of s.points) {
        if (y === null || !Number.isFinite(y)) continue;
        body.push(`<circle cx="${n2(sx(x))}" cy="${n2(sy(y))}" r="2.5"/>`);
      }
      body.push(`</g>`);
    }
  }
  const target = series.find((s) => s.key === options.annotateMax);
  if (target) {
    let best: [number, number] | null = null;
    for (const [x, y] of target.points) {
      if (y !== null && Number.isFinite(y) && (best === null || y > best[1])) best = [x, y];
    }
    if (best) {
      const px = sx(best[0]);
      const py = sy(best[1]);
      const text = `max ${tickLabel(best[1], 0.01)}% (epoch ${best[0]})`;
      const anchor = px > (f.left + f.right) / 2 ? "end" : "start";
      body.push(
        `<g class="annotation"><circle cx="${n2(px)}" cy="${
          n2(py)
        }" r="5" fill="none" stroke="${target.color}" stroke-width="1.5"/><text x="${
          n2(px + (anchor === "end" ? -8 : 8))
        }" y="${
          n2(Math.max(f.top + 12, py - 8))
        }" text-anchor="${anchor}" font-size="11" fill="${target.color}">${esc(text)}</text></g>`,
      );
    }
  }
  body.push(lg.svg);
  return svgDocument(width, height, body.join(""), options.title);
}

const pct = (v: number | null) => (v === null ? null : 100 * v);

/**
 * Train and test accuracy (%) per epoch (and, in masked epochs, train accuracy on the masked
 * inputs, dashed: the paper's Fig. 2 dip at the switch), with the phases shaded: plain training light grey,
 * regularizing epochs purple, denoising (and SGT) epochs light yellow, and a legend. Bands are
 * drawn only when some epoch is not plain (a baseline run has nothing to shade). The maximum
 * test accuracy is marked. `others` adds other runs' test accuracy, dashed.
 */
export function accuracyCurveSvg(
  metrics: readonly CurveMetrics[],
  options: CurveOptions = {},
): string {
  const sorted = [...metrics].sort((a, b) => a.epoch - b.epoch);
  const series: Series[] = [
    {
      key: "train_acc",
      label: "train accuracy",
      color: "#1f77b4",
      points: sorted.map((m) => [m.epoch, pct(m.train_acc)]),
    },
  ];
  if (sorted.some((m) => (m.train_masked_acc ?? null) !== null)) {
    series.push({
      key: "train_masked_acc",
      label: "train accuracy, masked inputs",
      color: "#1f77b4",
      dashed: true,
      points: sorted.map((m) => [m.epoch, pct(m.train_masked_acc ?? null)]),
    });
  }
  if (options.val && sorted.some((m) => m.val_acc !== null)) {
    series.push({
      key: "val_acc",
      label: "validation accuracy",
      color: "#2ca02c",
      points: sorted.map((m) => [m.epoch, pct(m.val_acc)]),
    });
  }
  series.push({
    key: "test_acc",
    label: "test accuracy",
    color: "#d62728",
    points: sorted.map((m) => [m.epoch, pct(m.test_acc)]),
  });
  (options.others ?? []).forEach((o, i) =>
    series.push({
      key: `other-${i}`,
      label: o.label,
      color: o.color ?? seriesColor(o.label, i + 2),
      dashed: true,
      points: [...o.metrics].sort((a, b) => a.epoch - b.epoch).map((
        m,
      ) => [m.epoch, pct(m.test_acc)]),
    })
  );
  return curveChart(sorted, series, "accuracy (%)", { ...options, annotateMax: "test_acc" });
}

/**
 * Training loss (CE + lambda KL), its cross-entropy part when masking added a KL term, the
 * cross-entropy on the masked inputs, and the
 * test (and validation) loss per epoch, with the phases shaded as in {@link accuracyCurveSvg}.
 */
export function lossCurveSvg(metrics: readonly CurveMetrics[], options: CurveOptions = {}): string {
  const sorted = [...metrics].sort((a, b) => a.epoch - b.epoch);
  const series: Series[] = [
    {
      key: "train_loss",
      label: "train loss",
      color: "#1f77b4",
      points: sorted.map((m) => [m.epoch, m.train_loss]),
    },
  ];
  if (sorted.some((m) => m.train_kl > 0)) {
    series.push({
      key: "train_ce",
      label: "train cross-entropy",
      color: "#1f77b4",
      dashed: true,
      points: sorted.map((m) => [m.epoch, m.train_ce]),
    });
  }
  if (sorted.some((m) => (m.train_masked_loss ?? null) !== null)) {
    series.push({
      key: "train_masked_loss",
      label: "train cross-entropy, masked inputs",
      color: "#9467bd",
      dashed: true,
      points: sorted.map((m) => [m.epoch, m.train_masked_loss ?? null]),
    });
  }
  if ((options.val ?? true) && sorted.some((m) => m.val_loss !== null)) {
    series.push({
      key: "val_loss",
      label: "validation loss",
      color: "#2ca02c",
      points: sorted.map((m) => [m.epoch, m.val_loss]),
    });
  }
  series.push({
    key: "test_loss",
    label: "test loss",
    color: "#d62728",
    points: sorted.map((m) => [m.epoch, m.test_loss]),
  });
  return curveChart(sorted, series, "loss", { ...options, yFloorZero: true });
}

/**
 * Test accuracy (%) of several runs per epoch, one line each (no phase bands: the runs'
 * phases differ), the colours by method (baseline black, SGT blue, HLGM red).
 */
export function testAccuracyComparisonSvg(
  runs: readonly { label: string; metrics: readonly CurveMetrics[]; color?: string }[],
  options: Omit<CurveOptions, "others" | "val" | "shadeAllPlain"> = {},
): string {
  const series: Series[] = runs.map((r, i) => ({
    key: `run-${i}`,
    label: r.label,
    color: r.color ?? seriesColor(r.label, i),
    points: [...r.metrics].sort((a, b) => a.epoch - b.epoch).map((m) => [m.epoch, pct(m.test_acc)]),
  }));
  return curveChart([], series, "test accuracy (%)", options);
}

/** One box of a box plot. */
export interface BoxGroup {
  /** Label under the box. */
  label: string;
  /** The values (e.g. SIB per image). */
  values: ArrayLike<number>;
  /** Fill colour (default: by label). */
  color?: string;
}

/** Options of {@link boxPlotSvg}. */
export interface BoxPlotOptions {
  /** Title. */
  title?: string;
  /** y axis title. */
  yLabel?: string;
  /** x axis title. */
  xLabel?: string;
  /** y range (default: [0, 1] when every value lies there, else from the data). */
  yDomain?: [number, number];
  /** Width (default: 120 per box + 100, at least 360 and wide enough for the title). */
  width?: number;
  /** Height (default 420). */
  height?: number;
}

/**
 * Box plots side by side: the box spans the quartiles (linear interpolation, as numpy), the
 * line is the median, whiskers reach the furthest values within 1.5 IQR, values beyond are
 * drawn as outliers, and a diamond marks the mean. Each box is labelled with its n.
 */
export function boxPlotSvg(groups: readonly BoxGroup[], options: BoxPlotOptions = {}): string {
  const width = Math.ceil(
    options.width ??
      Math.max(360, 100 + 120 * groups.length, 40 + textWidth(options.title ?? "", 15) * 1.05),
  );
  const height = Math.ceil(options.height ?? 420);
  const all = groups.flatMap((g) => Array.from(g.values)).filter(Number.isFinite);
  const unit = all.length > 0 && all.every((v) => v >= 0 && v <= 1);
  const [dMin, dMax] = options.yDomain ??
    (unit || all.length === 0 ? [0, 1] : [Math.min(...all), Math.max(...all)]);
  const yt = niceTicks(dMin, dMax, 5);
  const f: Frame = {
    width,
    height,
    left: 64,
    right: width - 20,
    top: options.title ? 40 : 14,
    bottom: height - 80,
  };
  const sy = linear(yt.lo, yt.hi, f.bottom, f.top);
  const slot = (f.right - f.left) / Math.max(1, groups.length);
  const body: string[] = [
    axes(
      f,
      { ticks: [], step: 1, scale: (v) => v, label: options.xLabel ?? "" },
      { ...yt, scale: sy, label: options.yLabel ?? "" },
      { xTickLabels: false, xLabelY: height - 26 },
    ),
  ];
  groups.forEach((g, i) => {
    const cx = f.left + slot * (i + 0.5);
    const color = g.color ?? seriesColor(g.label, i);
    const values = Array.from(g.values).filter(Number.isFinite).sort((a, b) => a - b);
    const half = Math.min(40, slot * 0.3);
    body.push(
      `<text class="box-label" x="${n2(cx)}" y="${
        n2(f.bottom + 18)
      }" text-anchor="middle" font-size="12">${esc(g.label)}</text>`,
      `<text class="box-n" x="${n2(cx)}" y="${
        n2(f.bottom + 33)
      }" text-anchor="middle" font-size="10" fill="#666666">n = ${values.length}</text>`,
    );
    if (values.length === 0) return;
    const s = summarize(values);
    const iqr = s.q3 - s.q1;
    const lo = values.find((v) => v >= s.q1 - 1.5 * iqr) ?? s.q1;
    const hi = [...values].reverse().find((v) => v <= s.q3 + 1.5 * iqr) ?? s.q3;
    const parts = [`<g class="boxplot" data-label="${esc(g.label)}">`];
    parts.push(
      `<line class="whisker" x1="${n2(cx)}" y1="${n2(sy(lo))}" x2="${n2(cx)}" y2="${
        n2(sy(s.q1))
      }" stroke="#333333"/>`,
      `<line class="whisker" x1="${n2(cx)}" y1="${n2(sy(s.q3))}" x2="${n2(cx)}" y2="${
        n2(sy(hi))
      }" stroke="#333333"/>`,
      `<line class="cap" x1="${n2(cx - half / 2)}" y1="${n2(sy(lo))}" x2="${
        n2(cx + half / 2)
      }" y2="${n2(sy(lo))}" stroke="#333333"/>`,
      `<line class="cap" x1="${n2(cx - half / 2)}" y1="${n2(sy(hi))}" x2="${
        n2(cx + half / 2)
      }" y2="${n2(sy(hi))}" stroke="#333333"/>`,
      `<rect class="box" x="${n2(cx - half)}" y="${n2(sy(s.q3))}" width="${n2(2 * half)}" height="${
        n2(Math.max(0, sy(s.q1) - sy(s.q3)))
      }" fill="${color}" fill-opacity="0.35" stroke="${color}" stroke-width="1.5"/>`,
      `<line class="median" x1="${n2(cx - half)}" y1="${n2(sy(s.median))}" x2="${
        n2(cx + half)
      }" y2="${n2(sy(s.median))}" stroke="#000000" stroke-width="2"/>`,
      `<path class="mean" d="M${n2(cx)} ${n2(sy(s.mean) - 5)} L${n2(cx + 5)} ${n2(sy(s.mean))} L${
        n2(cx)
      } ${n2(sy(s.mean) + 5)} L${n2(cx - 5)} ${
        n2(sy(s.mean))
      } Z" fill="#ffffff" stroke="#000000"/>`,
    );
    for (const v of values) {
      if (v < lo || v > hi) {
        parts.push(
          `<circle class="outlier" cx="${n2(cx)}" cy="${
            n2(sy(v))
          }" r="2.5" fill="none" stroke="${color}"/>`,
        );
      }
    }
    parts.push(`</g>`);
    body.push(parts.join(""));
  });
  body.push(
    `<text x="${n2(f.right)}" y="${
      n2(height - 8)
    }" text-anchor="end" font-size="10" fill="#666666">box: quartiles, line: median, diamond: mean, whiskers: 1.5 IQR</text>`,
  );
  return svgDocument(width, height, body.join(""), options.title);
}

/** One marker series of the paired scatter. */
export interface ScatterSeries {
  /** Legend text (a method or run). */
  label: string;
  /** One value per image, the same images in the same order in every series. */
  values: ArrayLike<number>;
  /** Colour (default: by label). */
  color?: string;
}

/** Options of {@link pairedScatterSvg}. */
export interface PairedScatterOptions {
  /** The series whose values order the images (default 0). */
  sortBy?: number;
  /** Use the first this many images (default 120, the paper's count). */
  maxPoints?: number;
  /** Title. */
  title?: string;
  /** y axis title. */
  yLabel?: string;
  /** y range (default [0, 1] when every value lies there). */
  yDomain?: [number, number];
  /** Width (default 860). */
  width?: number;
  /** Height (default 400). */
  height?: number;
}

/**
 * The paper's Fig. 8 (right): each x position is one image, images sorted by the `sortBy`
 * series (ascending, ties by image order), with one marker per series at that image's value.
 * Series must have equal lengths (the same images).
 */
export function pairedScatterSvg(
  series: readonly ScatterSeries[],
  options: PairedScatterOptions = {},
): string {
  const len = series[0]?.values.length ?? 0;
  for (const s of series) {
    if (s.values.length !== len) {
      throw new RangeError(
        `paired scatter needs the same images in every series: "${s.label}" has ${s.values.length} values, "${
          series[0].label
        }" ${len}`,
      );
    }
  }
  const sortBy = options.sortBy ?? 0;
  if (series.length && !(sortBy >= 0 && sortBy < series.length)) {
    throw new RangeError(`sortBy ${sortBy} is not a series index (0..${series.length - 1})`);
  }
  const m = Math.min(len, options.maxPoints ?? 120);
  const order = Array.from({ length: m }, (_, i) => i);
  if (series.length) {
    const key = series[sortBy].values;
    order.sort((a, b) => key[a] - key[b] || a - b);
  }
  const width = Math.ceil(options.width ?? 860);
  const height = Math.ceil(options.height ?? 400);
  const items: LegendItem[] = series.map((s, i) => ({
    label: s.label,
    color: s.color ?? seriesColor(s.label, i),
    kind: "marker",
  }));
  const left = 64;
  const right = width - 20;
  const top0 = options.title ? 32 : 8;
  const lg = legend(items, left, top0, right - left);
  const f: Frame = { width, height, left, right, top: top0 + lg.height + 8, bottom: height - 46 };
  const vals = series.flatMap((s) => order.map((i) => s.values[i])).filter(Number.isFinite);
  const unit = vals.every((v) => v >= 0 && v <= 1);
  const [dMin, dMax] = options.yDomain ??
    (unit ? [0, 1] : [Math.min(...vals), Math.max(...vals)]);
  const yt = niceTicks(dMin, dMax, 5);
  const xt = niceTicks(1, Math.max(1, m), 10, { integer: true });
  const sx = linear(0.5, m + 0.5, f.left, f.right);
  const sy = linear(yt.lo, yt.hi, f.bottom, f.top);
  const sortName = series[sortBy]?.label ?? "";
  const body: string[] = [
    axes(
      f,
      {
        ...xt,
        ticks: xt.ticks.filter((t) => t >= 1 && t <= m),
        scale: sx,
        label: `image (sorted by ${sortName})`,
      },
      { ...yt, scale: sy, label: options.yLabel ?? "" },
    ),
  ];
  series.forEach((s, k) => {
    const color = s.color ?? seriesColor(s.label, k);
    const pts = order.map((img, rank) => {
      const v = s.values[img];
      return Number.isFinite(v)
        ? `<circle class="point" cx="${n2(sx(rank + 1))}" cy="${n2(sy(v))}" r="3.2"/>`
        : "";
    });
    body.push(
      `<g class="scatter-series" data-series="${
        esc(s.label)
      }" fill="${color}" fill-opacity="0.7" stroke="${color}" stroke-width="0.6">${
        pts.join("")
      }</g>`,
    );
  });
  body.push(lg.svg);
  return svgDocument(width, height, body.join(""), options.title);
}
