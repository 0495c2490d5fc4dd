/**
 * A heat map of a value over a two-way grid (a sweep's rows x columns): each cell coloured by
 * its value on the viridis scale between the grid's min and max, the value written in it, and
 * a colour bar. Cells without a value are grey with "-".
 *
 * @module
 */

import { colormap } from "./colormap.ts";
import { esc, n2, svgDocument, textWidth } from "./svg.ts";

/** What {@link heatmapSvg} draws. */
export interface HeatmapData {
  /** Title over the map. */
  title: string;
  /** Name of the row axis (e.g. "k-top"). */
  rowName: string;
  /** Row labels, top to bottom. */
  rows: readonly string[];
  /** Name of the column axis (e.g. "lambda"; "" for a single column). */
  colName: string;
  /** Column labels, left to right. */
  cols: readonly string[];
  /** values[r][c]; null where the cell has no value. */
  values: readonly (readonly (number | null)[])[];
  /** Decimals of the values written (default 3). */
  decimals?: number;
}

/** The heat map as SVG (deterministic: the same data gives the same bytes). */
export function heatmapSvg(d: HeatmapData): string {
  const fmt = (v: number) => v.toFixed(d.decimals ?? 3);
  const cell = { w: 88, h: 40 };
  const labelW = Math.max(
    40,
    textWidth(d.rowName, 12) + 8,
    ...d.rows.map((r) => textWidth(r, 12) + 12),
  );
  const left = 20 + labelW;
  const top = 70;
  const gridW = cell.w * d.cols.length;
  const gridH = cell.h * d.rows.length;
  const barX = left + gridW + 24;
  const width = Math.max(barX + 80, textWidth(d.title, 15) + 40);
  const height = top + gridH + 24;
  const finite = d.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const unit = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const rgb = (c: [number, number, number]) => `rgb(${c.join(",")})`;
  const out: string[] = [];
  // column axis name and labels
  out.push(
    `<text x="${n2(left + gridW / 2)}" y="${
      top - 28
    }" text-anchor="middle" font-size="12" font-weight="bold">${esc(d.colName)}</text>`,
  );
  d.cols.forEach((c, j) =>
    out.push(
      `<text x="${n2(left + cell.w * (j + 0.5))}" y="${
        top - 8
      }" text-anchor="middle" font-size="12">${esc(c)}</text>`,
    )
  );
  out.push(
    `<text x="${n2(left - 8)}" y="${top - 8}" text-anchor="end" font-size="12" font-weight="bold">${
      esc(d.rowName)
    }</text>`,
  );
  d.rows.forEach((r, i) => {
    const y = top + cell.h * i;
    out.push(
      `<text x="${n2(left - 8)}" y="${n2(y + cell.h / 2 + 4)}" text-anchor="end" font-size="12">${
        esc(r)
      }</text>`,
    );
    d.cols.forEach((_, j) => {
      const v = d.values[i]?.[j] ?? null;
      const x = left + cell.w * j;
      const has = v !== null && Number.isFinite(v);
      const c = has ? colormap(unit(v), "viridis") : [200, 200, 200] as [number, number, number];
      // dark text on light cells, white on dark ones
      const light = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140;
      out.push(
        `<rect class="cell" x="${x}" y="${y}" width="${cell.w}" height="${cell.h}" fill="${
          rgb(c)
        }" stroke="#ffffff"/>`,
        `<text x="${n2(x + cell.w / 2)}" y="${n2(y + cell.h / 2 + 4)}" text-anchor="middle" ` +
          `font-size="12" fill="${light ? "#000000" : "#ffffff"}">${
            has ? esc(fmt(v)) : "-"
          }</text>`,
      );
    });
  });
  // colour bar: lo at the bottom, hi at the top
  const steps = 20;
  for (let k = 0; k < steps; k++) {
    const c = colormap(1 - (k + 0.5) / steps, "viridis");
    out.push(
      `<rect x="${barX}" y="${n2(top + (gridH * k) / steps)}" width="14" height="${
        n2(gridH / steps + 0.5)
      }" fill="${rgb(c)}"/>`,
    );
  }
  out.push(
    `<text x="${barX + 20}" y="${top + 10}" font-size="11">${esc(fmt(hi))}</text>`,
    `<text x="${barX + 20}" y="${top + gridH}" font-size="11">${esc(fmt(lo))}</text>`,
  );
  return svgDocument(width, height, out.join(""), d.title);
}
