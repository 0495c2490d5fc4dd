/**
 * The HTML report of one or more runs, rendered from data handed to it (src/runs/report.ts
 * gathers it): DIR/index.html with, per run, a summary table, accuracy curves with the phases
 * shaded (Fig. 2), loss curves, its saliency figure (Fig. 6) and, with SIB scores, SIB box
 * plots (Fig. 8); with several runs also a comparison of test accuracy, a side-by-side
 * saliency figure and SIB box plots and paired scatter across runs. Charts are inline SVG in
 * the page, and every chart is also written as an SVG and a PNG file next to it.
 *
 * @module
 */

import type { EpochMetrics, RunInfo } from "../run_folder/mod.ts";
import {
  accuracyCurveSvg,
  type BoxGroup,
  boxPlotSvg,
  lossCurveSvg,
  pairedScatterSvg,
  testAccuracyComparisonSvg,
} from "./charts.ts";
import { svgToPng } from "./render.ts";
import { type HeatmapData, heatmapSvg } from "./heatmap_chart.ts";
import {
  checkpointLabel,
  htmlTable,
  type RunSummary,
  saliencySignLabel,
  sibTableHtml,
  slug,
  summaryTableHtml,
} from "./tables.ts";
import { esc, PALETTE } from "./svg.ts";
import { type FaithColumn, faithMeanRows } from "./faith_tables.ts";
import { type FaithPlotRun, faithPlots } from "./faith_plots.ts";

/** A run's SIB scores as the report needs them (a sib.json's fields). */
export interface ReportSib {
  /** The x values. */
  percents: number[];
  /** Values per image for each x (keys String(x)). */
  per_image: Record<string, number[]>;
  /** Attribution method. */
  method?: string;
  /** Number of images. */
  n?: number;
  /** Test indices of the images (when recorded). */
  indices?: number[];
  /** The checkpoint rule scored (when recorded). */
  checkpoint?: string;
  /** Epoch of the checkpoint scored (when recorded). */
  epoch?: number;
  /** What was ranked: |attribution| (abs; also when absent) or the signed attribution. */
  saliency_sign?: "abs" | "signed";
  /** What the run's masking ranked in training (absent: abs). */
  trained_saliency_sign?: "abs" | "signed";
}

/** A run's faithfulness scores as the report needs them (a faith.json's fields). */
export interface ReportFaith extends FaithColumn, Omit<FaithPlotRun, "name"> {
  /** Test indices of the images. */
  indices: number[];
  /** The checkpoint rule scored. */
  checkpoint: string;
  /** Epoch of the checkpoint scored. */
  epoch: number;
}

/** A raster figure already drawn (PNG bytes) and what it shows. */
export interface PngFigure {
  /** The PNG. */
  png: Uint8Array;
  /** Caption under it. */
  caption: string;
}

/** The settings of a run that its section of the page shows. */
export interface ReportedSettings {
  /** Optimizer name. */
  optimizer: string;
  /** Learning rate. */
  lr: number;
  /** Batch size. */
  batchSize: number;
}

/** One run of the report; `C`: its settings' type (at least what the page shows). */
export interface ReportRun<C extends ReportedSettings = ReportedSettings> {
  /** Its summary (name, path, accuracy, epochs). */
  summary: RunSummary;
  /** Its config.json. */
  info: RunInfo<C>;
  /** Its metrics.jsonl. */
  metrics: EpochMetrics[];
  /** Its SIB scores, or null without sib.json. */
  sib: ReportSib | null;
  /** Its faithfulness scores (faith.json), when scored. */
  faith?: ReportFaith | null;
  /** Its saliency figure, when one could be made. */
  saliency?: PngFigure;
}

/** A sweep as the report shows it (sweep.json's table and heat maps). */
export interface ReportSweep {
  /** Its folder. */
  path: string;
  /** What was swept, one line (sweep.md's first paragraph). */
  caption: string;
  /** The table: head and rows of text. */
  table: { head: string[]; rows: string[][] };
  /** Number of settings columns at the left of the table. */
  settings: number;
  /** The heat maps. */
  heatmaps: readonly HeatmapData[];
}

/** What the report shows besides the runs. */
export interface ReportPage {
  /** The runs, in order. */
  runs: readonly ReportRun[];
  /** Sweeps, each a section with its table and heat maps. */
  sweeps?: readonly ReportSweep[];
  /** The saliency figure of several runs side by side. */
  compareSaliency?: PngFigure;
  /** What was left out and why. */
  notes: readonly string[];
  /** Progress messages. */
  onProgress?: (message: string) => void;
}

/** What {@link renderReport} wrote. */
export interface ReportFiles {
  /** The output folder. */
  out: string;
  /** DIR/index.html. */
  index: string;
  /** Every file written (index.html included). */
  files: string[];
  /** What was left out and why (the page's notes and the renderer's). */
  notes: string[];
}

/** A figure written as SVG and PNG; returns the HTML that shows it. */
async function figure(
  out: string,
  base: string,
  svg: string,
  files: string[],
  options: { inline?: boolean; caption?: string } = {},
): Promise<string> {
  Deno.writeTextFileSync(`${out}/${base}.svg`, svg);
  Deno.writeFileSync(`${out}/${base}.png`, await svgToPng(svg));
  files.push(`${out}/${base}.svg`, `${out}/${base}.png`);
  const links = `<a href="${esc(base)}.png">PNG</a> · <a href="${esc(base)}.svg">SVG</a>`;
  const body = options.inline ?? true
    ? svg.trim()
    : `<img src="${esc(base)}.png" alt="${esc(options.caption ?? base)}">`;
  return `<figure>${body}<figcaption>${
    options.caption ? `${esc(options.caption)} · ` : ""
  }${links}</figcaption></figure>`;
}

/** A PNG figure written as it is; returns the HTML that shows it. */
function pngFigure(out: string, base: string, fig: PngFigure, files: string[]): string {
  Deno.writeFileSync(`${out}/${base}.png`, fig.png);
  files.push(`${out}/${base}.png`);
  return `<figure><img src="${esc(base)}.png" alt="${esc(fig.caption)}"><figcaption>${
    esc(fig.caption)
  } · <a href="${esc(base)}.png">PNG</a></figcaption></figure>`;
}

const STYLE =
  `body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ccc}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:8px 16px 16px 0;vertical-align:top}figcaption{font-size:12px;color:#555}
figure svg,figure img{max-width:100%;height:auto}.scroll{overflow-x:auto;max-width:100%}.note{color:#8a5300;font-size:13px}
code{background:#f3f3f3;padding:1px 4px}`;

/**
 * Writes the report page of `page.runs` into `out` (index.html, and each chart as SVG and PNG
 * beside it); returns what it wrote.
 */
export async function renderReport(out: string, page: ReportPage): Promise<ReportFiles> {
  const { runs } = page;
  const sweeps = page.sweeps ?? [];
  if (runs.length === 0 && sweeps.length === 0) {
    throw new RangeError("a report needs at least one run or sweep");
  }
  const names = [...runs.map((r) => r.summary.name), ...sweeps.map((s) => s.path)];
  const slugs = names.map(slug);
  slugs.forEach((s, i) => {
    if (slugs.indexOf(s) !== i) slugs[i] = `${s}-${i + 1}`;
  });
  Deno.mkdirSync(out, { recursive: true });
  const ctx: Sections = {
    out,
    files: [],
    notes: [...page.notes],
    progress: page.onProgress ?? (() => {}),
  };

  const html: string[] = [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>hlgm report: ${
      esc(names.join(", "))
    }</title><style>${STYLE}</style></head><body>`,
    `<h1>hlgm report: ${esc(names.join(", "))}</h1>`,
    ...(runs.length
      ? [
        summaryTableHtml(runs.map((r) => r.summary)),
        `<p>Max test accuracy is the highest over epochs, final the last epoch's (the paper's two numbers); the best checkpoint is chosen by validation accuracy and is the one the saliency maps use.</p>`,
      ]
      : []),
  ];
  for (const [i, sw] of sweeps.entries()) {
    html.push(...await sweepSection(ctx, sw, sweeps.length > 1 ? String(i + 1) : ""));
  }
  if (runs.length > 1) html.push(...await comparisonSection(ctx, runs, page.compareSaliency));
  for (const [i, r] of runs.entries()) html.push(...await runSection(ctx, r, slugs[i]));
  if (ctx.notes.length) {
    html.push(
      `<h2>Notes</h2><ul>${ctx.notes.map((t) => `<li class="note">${esc(t)}</li>`).join("")}</ul>`,
    );
  }
  html.push(`</body></html>\n`);
  const index = `${out}/index.html`;
  Deno.writeTextFileSync(index, html.join("\n"));
  ctx.files.push(index);
  return { out, index, files: ctx.files, notes: ctx.notes };
}

/** What the page's sections share: where figures go, what was written, the notes so far. */
interface Sections {
  out: string;
  files: string[];
  notes: string[];
  progress: (what: string) => void;
}

/** A sweep's table and heat maps. */
async function sweepSection(ctx: Sections, sw: ReportSweep, tag: string): Promise<string[]> {
  ctx.progress(`sweep ${sw.path}: heat maps`);
  const html = [
    `<h2>Sweep: <code>${esc(sw.path)}</code></h2>`,
    `<p>${esc(sw.caption)}</p>`,
    htmlTable("sweep", sw.table.head, sw.table.rows),
  ];
  for (const [j, h] of sw.heatmaps.entries()) {
    html.push(await figure(ctx.out, `sweep${tag}-heatmap-${j + 1}`, heatmapSvg(h), ctx.files));
  }
  return html;
}

/** The runs side by side: test accuracy, the saliency grid, and SIB when several have it. */
async function comparisonSection(
  ctx: Sections,
  runs: readonly ReportRun[],
  compareSaliency: ReportPage["compareSaliency"],
): Promise<string[]> {
  ctx.progress("comparison figures");
  const html = [
    `<h2>Comparison</h2>`,
    await figure(
      ctx.out,
      "compare-test-accuracy",
      testAccuracyComparisonSvg(
        runs.map((r) => ({ label: r.summary.name, metrics: r.metrics })),
        { title: "test accuracy per epoch" },
      ),
      ctx.files,
    ),
  ];
  if (compareSaliency) {
    html.push(pngFigure(ctx.out, "compare-saliency", compareSaliency, ctx.files));
  }
  const sibRuns = runs.filter((r) => r.sib);
  if (sibRuns.length > 1) html.push(...await sibComparison(ctx, sibRuns));
  const faithRuns = runs.filter((r) => r.faith);
  if (faithRuns.length > 0) html.push(...await faithComparison(ctx, faithRuns));
  return html;
}

/** Faithfulness of the runs that have faith.json: the means, and the curves on shared images. */
async function faithComparison(ctx: Sections, faithRuns: ReportRun[]): Promise<string[]> {
  const columns = faithRuns.map((r) => ({ ...r.faith!, name: r.summary.name }));
  const { head, rows } = faithMeanRows(columns);
  const f0 = columns[0];
  const html = [
    `<h3>Faithfulness of the saliency maps</h3>`,
    `<p>${esc(f0.method)} of the true label on ${f0.n} test images, ${
      esc(f0.checkpoint)
    } checkpoints (epochs ${
      esc(columns.map((c) => `${c.name} ${c.epoch}`).join(", "))
    }): mean [95% interval over the images].</p>`,
    htmlTable("faith", head, rows),
  ];
  const same = columns.every((c) => c.indices.join() === f0.indices.join());
  if (!same) {
    ctx.notes.push(
      "faithfulness curves left out: the runs' faith.json files score different images",
    );
    return html;
  }
  for (const [stem, svg] of faithPlots(columns, faithRuns[0].summary.dataset)) {
    html.push(await figure(ctx.out, `compare-${stem}`, svg, ctx.files));
  }
  return html;
}

/** SIB of several runs: the medians, a box plot per percent, paired scatters on shared images. */
async function sibComparison(ctx: Sections, sibRuns: ReportRun[]): Promise<string[]> {
  const percents = sibRuns[0].sib!.percents.filter((p) =>
    sibRuns.every((r) => r.sib!.per_image[String(p)])
  );
  const html = [
    `<h3>SIB: median per run</h3>`,
    sibTableHtml(percents, sibRuns.map((r) => ({ name: r.summary.name, ...r.sib! }))),
  ];
  for (const p of percents) {
    const groups: BoxGroup[] = sibRuns.map((r) => ({
      label: r.summary.name,
      values: r.sib!.per_image[String(p)],
    }));
    html.push(
      await figure(
        ctx.out,
        `compare-sib-${p}-box`,
        boxPlotSvg(groups, { title: `SIB(${p}) per image`, yLabel: `SIB(${p})` }),
        ctx.files,
      ),
    );
  }
  const paired = sibRuns.every((r) =>
    r.sib!.per_image[String(percents[0])]?.length ===
      sibRuns[0].sib!.per_image[String(percents[0])]?.length &&
    JSON.stringify(r.sib!.indices ?? null) === JSON.stringify(sibRuns[0].sib!.indices ?? null)
  );
  if (!paired) {
    ctx.notes.push("SIB scatter left out: the runs' sib.json files score different images");
    return html;
  }
  const shown = percents.filter((p) => p === 1 || p === 5);
  for (const p of shown.length ? shown : percents.slice(0, 1)) {
    html.push(
      await figure(
        ctx.out,
        `compare-sib-${p}-scatter`,
        pairedScatterSvg(
          sibRuns.map((r) => ({ label: r.summary.name, values: r.sib!.per_image[String(p)] })),
          {
            title: `SIB(${p}) per image, sorted by ${sibRuns[0].summary.name}`,
            yLabel: `SIB(${p})`,
          },
        ),
        ctx.files,
      ),
    );
  }
  return html;
}

/** One run: its settings, accuracy and loss curves, saliency maps and SIB box plot. */
async function runSection(ctx: Sections, r: ReportRun, id: string): Promise<string[]> {
  const s = r.summary;
  const { out, files } = ctx;
  ctx.progress(`${s.name}: figures`);
  const html = [
    `<h2 id="${esc(id)}">${esc(s.name)}</h2>`,
    `<p><code>${esc(s.path)}</code>: ${esc(s.method)}, ${esc(s.model)} on ${
      esc(s.dataset)
    }, seed ${s.seed}, ${
      esc(r.info.config.optimizer)
    } lr ${r.info.config.lr}, batch ${r.info.config.batchSize}, device ${esc(r.info.device)}</p>`,
  ];
  if (r.metrics.length) {
    html.push(
      await figure(
        out,
        `${id}-accuracy`,
        accuracyCurveSvg(r.metrics, { title: `${s.name}: accuracy (${s.method})` }),
        files,
      ),
      await figure(
        out,
        `${id}-loss`,
        lossCurveSvg(r.metrics, { title: `${s.name}: loss (${s.method})` }),
        files,
      ),
    );
  } else {
    ctx.notes.push(`${s.name}: no epochs in metrics.jsonl yet`);
  }
  if (r.saliency) html.push(pngFigure(out, `${id}-saliency`, r.saliency, files));
  if (r.sib) {
    const groups: BoxGroup[] = r.sib.percents.map((p, i) => ({
      label: `SIB(${p})`,
      values: r.sib!.per_image[String(p)],
      color: PALETTE[i % PALETTE.length],
    }));
    html.push(
      await figure(
        out,
        `${id}-sib-box`,
        boxPlotSvg(groups, {
          title: `${s.name}: SIB per image (${r.sib.method ?? "saliency"}${
            saliencySignLabel(r.sib) === "abs" ? "" : `, ${saliencySignLabel(r.sib)}`
          }, n = ${r.sib.n ?? groups[0]?.values.length ?? 0}, ${checkpointLabel(r.sib)})`,
          yLabel: "SIB",
          xLabel: "top x% of pixels",
        }),
        files,
      ),
    );
  }
  return html;
}
