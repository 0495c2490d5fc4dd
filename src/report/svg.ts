/**
 * Small building blocks of the report's SVG charts: escaping, deterministic number formatting,
 * "nice" axis ticks, linear scales, axes with labels, legends and the colours of methods and
 * training phases. Everything is a pure function of its arguments, so the same data always gives
 * byte-identical SVG.
 *
 * @module
 */

/** Fonts named by every chart: DejaVu Sans is what {@link svgToPng} renders with. */
const FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif";

/** Background of each training mode's band (the paper's Fig. 2 colours). */
export const PHASE_COLORS: Readonly<Record<string, string>> = {
  plain: "#e3e3e3",
  regularize: "#dccbf2",
  denoise: "#fff1a6",
  sgt: "#fff1a6",
};

/** Legend text of each training mode. */
export const PHASE_LABELS: Readonly<Record<string, string>> = {
  plain: "plain training (phase 1)",
  regularize: "regularize (mask top k)",
  denoise: "denoise (mask bottom k)",
  sgt: "SGT (mask bottom k)",
};

/** Series colours, in order (matplotlib's tab10). */
export const PALETTE: readonly string[] = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

/** The colour of a method or run label: baseline black, SGT blue, HLGM red, else the palette. */
export function seriesColor(label: string, index: number): string {
  const l = label.toLowerCase();
  if (/^baseline\b/.test(l)) return "#222222";
  if (/^sgt\b/.test(l)) return "#1f77b4";
  if (/^hlgm\b/.test(l)) return "#d62728";
  return PALETTE[index % PALETTE.length];
}

/** Escapes text for SVG/HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** A coordinate with at most 2 decimals and no trailing zeros (deterministic, compact). */
export function n2(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

/** A tick label: as few decimals as the step needs. */
export function tickLabel(v: number, step: number): string {
  let decimals = 0;
  while (
    decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6
  ) {
    decimals++;
  }
  const s = v.toFixed(decimals);
  return s === "-0" || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** Ticks on a "nice" step (1, 2, 2.5, 5 x 10^k) covering [min, max], and the expanded domain. */
export function niceTicks(
  min: number,
  max: number,
  target = 5,
  options: { integer?: boolean } = {},
): { ticks: number[]; lo: number; hi: number; step: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    min = 0;
    max = 1;
  }
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (options.integer) step = Math.max(1, Math.ceil(step));
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) {
    ticks.push(Math.round((lo + i * step) * 1e9) / 1e9);
  }
  return { ticks, lo, hi, step };
}

/** A linear map from [d0, d1] to [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** The plot area of a chart, in pixels. */
export interface Frame {
  /** Whole width. */
  width: number;
  /** Whole height. */
  height: number;
  /** Plot area left edge. */
  left: number;
  /** Plot area right edge. */
  right: number;
  /** Plot area top edge. */
  top: number;
  /** Plot area bottom edge. */
  bottom: number;
}

/** Approximate width of a text in DejaVu Sans (0.6 em per character). */
export function textWidth(text: string, size: number): number {
  return text.length * size * 0.6;
}

/** One legend entry: a line, a marker or a filled swatch. */
export interface LegendItem {
  /** Text. */
  label: string;
  /** Colour. */
  color: string;
  /** How the sample is drawn (default "line"). */
  kind?: "line" | "dashed" | "marker" | "swatch";
}

/**
 * Legend rows laid out left to right from (x, y), wrapping at `maxWidth`; returns the SVG and
 * the height used.
 */
export function legend(
  items: readonly LegendItem[],
  x: number,
  y: number,
  maxWidth: number,
): { svg: string; height: number } {
  const size = 12;
  const rowHeight = 18;
  let cx = x;
  let cy = y;
  const parts: string[] = [];
  for (const item of items) {
    const w = 26 + textWidth(item.label, size) + 16;
    if (cx > x && cx + w > x + maxWidth) {
      cx = x;
      cy += rowHeight;
    }
    const mid = cy + rowHeight / 2;
    let sample: string;
    switch (item.kind ?? "line") {
      case "swatch":
        sample = `<rect x="${n2(cx)}" y="${n2(mid - 6)}" width="20" height="12" fill="${
          esc(item.color)
        }" stroke="#999999" stroke-width="0.5"/>`;
        break;
      case "marker":
        sample = `<circle cx="${n2(cx + 10)}" cy="${n2(mid)}" r="4" fill="${
          esc(item.color)
        }" fill-opacity="0.75"/>`;
        break;
      default:
        sample = `<line x1="${n2(cx)}" y1="${n2(mid)}" x2="${n2(cx + 20)}" y2="${
          n2(mid)
        }" stroke="${esc(item.color)}" stroke-width="2"${
          item.kind === "dashed" ? ' stroke-dasharray="6 3"' : ""
        }/>`;
    }
    parts.push(
      `<g class="legend-item">${sample}<text x="${n2(cx + 26)}" y="${
        n2(mid + 4)
      }" font-size="${size}">${esc(item.label)}</text></g>`,
    );
    cx += w;
  }
  return {
    svg: `<g class="legend">${parts.join("")}</g>`,
    height: items.length ? cy - y + rowHeight : 0,
  };
}

/** Axes with grid lines, ticks, tick labels and axis titles around a frame. */
export function axes(
  f: Frame,
  x: { ticks: number[]; step: number; scale: (v: number) => number; label: string },
  y: { ticks: number[]; step: number; scale: (v: number) => number; label: string },
  options: { xTickLabels?: boolean; grid?: boolean; xLabelY?: number } = {},
): string {
  const out: string[] = [`<g class="axes" font-size="11" fill="#333333">`];
  for (const t of y.ticks) {
    const py = n2(y.scale(t));
    if (options.grid ?? true) {
      out.push(
        `<line class="grid" x1="${n2(f.left)}" y1="${py}" x2="${
          n2(f.right)
        }" y2="${py}" stroke="#000000" stroke-opacity="0.12" stroke-width="1"/>`,
      );
    }
    out.push(
      `<text class="ytick" x="${n2(f.left - 6)}" y="${n2(y.scale(t) + 4)}" text-anchor="end">${
        tickLabel(t, y.step)
      }</text>`,
    );
  }
  if (options.xTickLabels ?? true) {
    for (const t of x.ticks) {
      const px = n2(x.scale(t));
      out.push(
        `<line x1="${px}" y1="${n2(f.bottom)}" x2="${px}" y2="${
          n2(f.bottom + 4)
        }" stroke="#333333" stroke-width="1"/>`,
        `<text class="xtick" x="${px}" y="${n2(f.bottom + 17)}" text-anchor="middle">${
          tickLabel(t, x.step)
        }</text>`,
      );
    }
  }
  out.push(
    `<rect x="${n2(f.left)}" y="${n2(f.top)}" width="${n2(f.right - f.left)}" height="${
      n2(f.bottom - f.top)
    }" fill="none" stroke="#333333" stroke-width="1"/>`,
    `<text class="xlabel" x="${n2((f.left + f.right) / 2)}" y="${
      n2(options.xLabelY ?? f.height - 8)
    }" text-anchor="middle" font-size="12">${esc(x.label)}</text>`,
    `<text class="ylabel" transform="translate(${n2(14)} ${
      n2((f.top + f.bottom) / 2)
    }) rotate(-90)" text-anchor="middle" font-size="12">${esc(y.label)}</text>`,
    `</g>`,
  );
  return out.join("");
}

/** The opening tag (white background included) and closing of a chart. */
export function svgDocument(w: number, h: number, body: string, title?: string): string {
  const width = Math.ceil(w);
  const height = Math.ceil(h);
  const head =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${
      esc(FONT_FAMILY)
    }">`;
  const t = title
    ? `<text class="title" x="${
      n2(width / 2)
    }" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`
    : "";
  return `${head}<rect width="${width}" height="${height}" fill="#ffffff"/>${t}${body}</svg>\n`;
}

/** Mean and sample standard deviation (n - 1; null for fewer than 2 values). */
export function meanSd(values: readonly number[]): { mean: number; sd: number | null } {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: null };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: null };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, sd: Math.sqrt(v) };
}
