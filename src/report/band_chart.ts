/**
 * Mean curves with their 95% bands, one per run, as SVG: the faithfulness report's deletion and
 * insertion curves (probability against the fraction of pixels changed) and the randomisation
 * check (rank correlation against the layers randomised, named under the axis).
 *
 * Marks carry classes for tests: `series` paths and `band` polygons (both with `data-series`).
 *
 * @module
 */

import {
  axes,
  esc,
  type Frame,
  legend,
  linear,
  n2,
  niceTicks,
  PALETTE,
  seriesColor,
  svgDocument,
  textWidth,
} from "./svg.ts";

/** One run's mean curve. */
export interface BandSeries {
  /** Legend text. */
  label: string;
  /** Mean per point. */
  mean: readonly number[];
  /** 95% interval per point (null: no band there). */
  ci95: readonly ([number, number] | null)[];
}

/** Options of {@link bandCurveSvg}. */
export interface BandCurveOptions {
  /** Title on top. */
  title?: string;
  /** The x values (numbers), or names of the points (drawn at 1, 2, ... under the axis). */
  x: readonly (number | string)[];
  /** X axis label. */
  xLabel: string;
  /** Y axis label. */
  yLabel: string;
  /** Width in pixels (default 640). */
  width?: number;
  /** Height in pixels (default 400). */
  height?: number;
}

/** Mean curves with shaded 95% bands (see the module). */
export function bandCurveSvg(series: readonly BandSeries[], options: BandCurveOptions): string {
  const named = options.x.some((v) => typeof v === "string");
  const xs = options.x.map((v, i) => (named ? i + 1 : Number(v)));
  const width = Math.ceil(
    Math.max(options.width ?? 640, options.title ? 40 + textWidth(options.title, 15) : 0),
  );
  const height = Math.ceil(options.height ?? 400);
  const left = 64;
  const right = width - 20;
  const titleH = options.title ? 32 : 8;
  // by method (baseline black, HLGM red...) unless two runs of one method would share a colour
  const byLabel = series.map((s, i) => seriesColor(s.label, i));
  const colors = new Set(byLabel).size === byLabel.length
    ? byLabel
    : series.map((_, i) => PALETTE[i % PALETTE.length]);
  const lg = legend(
    series.map((s, i) => ({ label: s.label, color: colors[i], kind: "line" as const })),
    left,
    titleH,
    right - left,
  );
  // the turned point names need about half their length in height
  const longest = Math.max(0, ...options.x.map((v) => String(v).length));
  const labelRows = named ? Math.min(90, 3.2 * longest) : 0;
  const f: Frame = {
    width,
    height,
    left,
    right,
    top: titleH + lg.height + 8,
    bottom: height - 46 - labelRows,
  };
  const values = series.flatMap((s) => [
    ...s.mean,
    ...s.ci95.flatMap((c) => (c ? [c[0], c[1]] : [])),
  ]).filter(Number.isFinite);
  const yt = niceTicks(
    values.length ? Math.min(...values) : 0,
    values.length ? Math.max(...values) : 1,
    6,
  );
  const xt = named
    ? { ticks: xs, lo: 1, hi: xs.length, step: 1 }
    : niceTicks(Math.min(...xs), Math.max(...xs), 8);
  const pad = named ? 0.5 : 0;
  const sx = linear(xt.lo - pad, xt.hi + pad, f.left, f.right);
  const sy = linear(yt.lo, yt.hi, f.bottom, f.top);
  const body: string[] = [
    axes(f, { ...xt, scale: sx, label: options.xLabel }, {
      ...yt,
      scale: sy,
      label: options.yLabel,
    }, {
      xTickLabels: !named,
      xLabelY: height - 8,
    }),
  ];
  if (named) {
    // the point names, turned so that long module paths fit
    body.push(`<g class="xnames" font-size="10" fill="#333333">`);
    options.x.forEach((name, i) => {
      const px = sx(i + 1);
      body.push(
        `<text class="xtick" transform="translate(${n2(px + 3)} ${
          n2(f.bottom + 12)
        }) rotate(-30)" ` +
          `text-anchor="end">${esc(String(name))}</text>`,
      );
    });
    body.push(`</g>`);
  }
  series.forEach((s, k) => {
    const key = esc(s.label);
    const upper: string[] = [];
    const lower: string[] = [];
    s.ci95.forEach((c, i) => {
      if (!c) return;
      upper.push(`${n2(sx(xs[i]))},${n2(sy(c[1]))}`);
      lower.unshift(`${n2(sx(xs[i]))},${n2(sy(c[0]))}`);
    });
    if (upper.length > 1) {
      body.push(
        `<polygon class="band" data-series="${key}" points="${[...upper, ...lower].join(" ")}" ` +
          `fill="${colors[k]}" fill-opacity="0.15" stroke="none"/>`,
      );
    }
    const d = s.mean.map((v, i) => `${i ? "L" : "M"}${n2(sx(xs[i]))} ${n2(sy(v))}`).join(" ");
    body.push(
      `<path class="series" data-series="${key}" d="${d}" fill="none" stroke="${colors[k]}" ` +
        `stroke-width="2" stroke-linejoin="round"/>`,
    );
  });
  body.push(lg.svg);
  return svgDocument(width, height, body.join(""), options.title);
}
