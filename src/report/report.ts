/**
 * The report of one or more run folders: DIR/index.html with, per run, a summary table,
 * accuracy curves with the phases shaded (Fig. 2), loss curves, a saliency grid of the first N
 * test images (Fig. 6) and, when the run folder has a sib.json, SIB box plots (Fig. 8); with
 * several runs also a comparison of test accuracy, a side-by-side saliency grid and SIB box
 * plots and paired scatter across runs. Charts are inline SVG in the page, and every figure is
 * also written as an SVG and a PNG file next to it.
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import { loadTestSplit } from "../runs/sib.ts";
import { loadRun } from "../train/load_run.ts";
import type { EpochMetrics, RunInfo } from "../train/run_dir.ts";
import {
  accuracyCurveSvg,
  type BoxGroup,
  boxPlotSvg,
  lossCurveSvg,
  pairedScatterSvg,
  testAccuracyComparisonSvg,
} from "./charts.ts";
import type { Colormap } from "./images.ts";
import { svgToPng } from "./render.ts";
import { saliencyGridSvg, type SaliencyPanel, saliencyPanels } from "./saliency_grid.ts";
import { pct, type RunSummary, slug, summarizeRun, uniqueRunNames } from "./summary.ts";
import { esc, PALETTE } from "./svg.ts";
import { readSibFile, type SibFile } from "../runs/sib_file.ts";

/** Options of {@link writeReport}. */
export interface ReportOptions {
  /** Output folder (default: RUNDIR/report for one run, ./report for several). */
  out?: string;
  /** Test images in the saliency grids (default 8: the first N of the test split). */
  n?: number;
  /** Device for the saliency maps (default auto). */
  device?: string;
  /** Dataset root, when the data moved since training. */
  dataDir?: string;
  /** Heat-map colours (default "hot"). */
  colormap?: Colormap;
  /** Skip the saliency grids (no weights or data needed). */
  noSaliency?: boolean;
  /** Progress messages. */
  onProgress?: (message: string) => void;
}

/** What {@link writeReport} wrote. */
export interface ReportResult {
  /** The output folder. */
  out: string;
  /** DIR/index.html. */
  index: string;
  /** Every file written (index.html included). */
  files: string[];
  /** What was left out and why (e.g. no sib.json, dataset not found). */
  notes: string[];
  /** The runs' summaries. */
  runs: RunSummary[];
}

interface RunEntry {
  summary: RunSummary;
  info: RunInfo;
  metrics: EpochMetrics[];
  slug: string;
  sib: SibFile | null;
  panels?: SaliencyPanel[];
  split?: ImageDataset;
  splitKey?: string;
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

function summaryTable(runs: readonly RunSummary[]): string {
  const head = [
    "run",
    "method",
    "model",
    "dataset",
    "seed",
    "epochs",
    "max test acc (%)",
    "epoch of max",
    "final test acc (%)",
    "best checkpoint",
    "SGT phase from",
    "training time",
  ];
  const rows = runs.map((r) => [
    r.name,
    r.method,
    r.model,
    r.dataset,
    String(r.seed),
    r.complete ? String(r.epochs) : `${r.epochs} of ${r.configuredEpochs}`,
    pct(r.maxTestAcc),
    r.maxTestEpoch === null ? "-" : String(r.maxTestEpoch),
    pct(r.finalTestAcc),
    r.bestEpoch === null ? "-" : `epoch ${r.bestEpoch}${r.bestMetric ? ` (${r.bestMetric})` : ""}`,
    r.switchEpoch === null ? "-" : `epoch ${r.switchEpoch}`,
    `${r.seconds.toFixed(1)} s`,
  ]);
  return `<table class="summary"><thead><tr>${
    head.map((h) => `<th>${esc(h)}</th>`).join("")
  }</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`;
}

function sibTable(percents: readonly number[], runs: readonly RunEntry[]): string {
  const median = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    if (!s.length) return NaN;
    const m = (s.length - 1) / 2;
    return (s[Math.floor(m)] + s[Math.ceil(m)]) / 2;
  };
  return `<table class="sib"><thead><tr><th>x (%)</th>${
    runs.map((r) => `<th>${esc(r.summary.name)}</th>`).join("")
  }</tr></thead><tbody>${
    percents.map((p) =>
      `<tr><td>${p}</td>${
        runs.map((r) => {
          const v = r.sib?.per_image[String(p)];
          return `<td>${v ? median(v).toFixed(3) : "-"}</td>`;
        }).join("")
      }</tr>`
    ).join("")
  }</tbody></table>`;
}

const STYLE =
  `body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ccc}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:8px 16px 16px 0;vertical-align:top}figcaption{font-size:12px;color:#555}
figure svg,figure img{max-width:100%;height:auto}.note{color:#8a5300;font-size:13px}
code{background:#f3f3f3;padding:1px 4px}`;

/**
 * Writes the report of the run folders `paths` (see the module notes) and returns what it
 * wrote. Runs without sib.json get no SIB plots; saliency grids need the run's best checkpoint
 * and its test data, and are left out with a note when either is missing.
 */
export async function writeReport(
  paths: readonly string[],
  options: ReportOptions = {},
): Promise<ReportResult> {
  if (paths.length === 0) throw new RangeError("give at least one run folder");
  const n = options.n ?? 8;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const names = uniqueRunNames(paths);
  const slugs = names.map(slug);
  slugs.forEach((s, i) => {
    if (slugs.indexOf(s) !== i) slugs[i] = `${s}-${i + 1}`;
  });
  const runs: RunEntry[] = paths.map((p, i) => {
    const r = summarizeRun(p, names[i]);
    return { ...r, slug: slugs[i], sib: readSibFile(p) };
  });
  const out =
    (options.out ?? (paths.length === 1 ? `${paths[0].replace(/\/+$/, "")}/report` : "report"))
      .replace(/\/+$/, "") || ".";
  Deno.mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const notes: string[] = [];
  const progress = options.onProgress ?? (() => {});

  // ---- saliency panels (weights + the first N test images)
  const splits = new Map<string, ImageDataset>();
  if (!options.noSaliency) {
    for (const r of runs) {
      const c = r.info.config;
      const key = JSON.stringify([c.dataset, options.dataDir ?? c.dataDir ?? null, c.seed]);
      try {
        let ds = splits.get(key);
        if (!ds) {
          progress(`loading the ${c.dataset} test split`);
          ds = await loadTestSplit(c, { dataDir: options.dataDir });
          splits.set(key, ds);
        }
        const indices = Array.from({ length: Math.min(n, ds.n) }, (_, i) => i);
        progress(`${r.summary.name}: saliency of ${indices.length} test images`);
        const run = loadRun(r.summary.path, { which: "best", device: options.device });
        try {
          r.panels = saliencyPanels(run, ds, indices);
        } finally {
          run.model.dispose();
        }
        r.split = ds;
        r.splitKey = key;
      } catch (e) {
        notes.push(`${r.summary.name}: no saliency grid (${(e as Error).message})`);
      }
    }
  }

  // ---- the page
  const html: string[] = [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>hlgm report: ${
      esc(names.join(", "))
    }</title><style>${STYLE}</style></head><body>`,
    `<h1>hlgm report: ${esc(names.join(", "))}</h1>`,
    summaryTable(runs.map((r) => r.summary)),
    `<p>Max test accuracy is the highest over epochs, final the last epoch's (the paper's two numbers); the best checkpoint is chosen by validation accuracy and is the one the saliency maps use.</p>`,
  ];

  if (runs.length > 1) {
    progress("comparison figures");
    html.push(`<h2>Comparison</h2>`);
    html.push(
      await figure(
        out,
        "compare-test-accuracy",
        testAccuracyComparisonSvg(
          runs.map((r) => ({ label: r.summary.name, metrics: r.metrics })),
          { title: "test accuracy per epoch" },
        ),
        files,
      ),
    );
    const withPanels = runs.filter((r) => r.panels);
    const key = withPanels[0]?.splitKey;
    const same = withPanels.filter((r) => r.splitKey === key);
    if (same.length > 1) {
      html.push(
        await figure(
          out,
          "compare-saliency",
          saliencyGridSvg(
            same[0].split!,
            same.map((r) => ({ label: r.summary.name, panels: r.panels! })),
            { title: "saliency of the same test images", colormap: options.colormap },
          ),
          files,
          { inline: false, caption: "saliency maps side by side (Fig. 6)" },
        ),
      );
    }
    const sibRuns = runs.filter((r) => r.sib);
    if (sibRuns.length > 1) {
      const percents = sibRuns[0].sib!.percents.filter((p) =>
        sibRuns.every((r) => r.sib!.per_image[String(p)])
      );
      html.push(`<h3>SIB: median per run</h3>`, sibTable(percents, sibRuns));
      for (const p of percents) {
        const groups: BoxGroup[] = sibRuns.map((r) => ({
          label: r.summary.name,
          values: r.sib!.per_image[String(p)],
        }));
        html.push(
          await figure(
            out,
            `compare-sib-${p}-box`,
            boxPlotSvg(groups, { title: `SIB(${p}) per image`, yLabel: `SIB(${p})` }),
            files,
          ),
        );
      }
      const paired = sibRuns.every((r) =>
        r.sib!.per_image[String(percents[0])]?.length ===
          sibRuns[0].sib!.per_image[String(percents[0])]?.length &&
        JSON.stringify(r.sib!.indices ?? null) === JSON.stringify(sibRuns[0].sib!.indices ?? null)
      );
      if (paired) {
        const shown = percents.filter((p) => p === 1 || p === 5);
        for (const p of shown.length ? shown : percents.slice(0, 1)) {
          html.push(
            await figure(
              out,
              `compare-sib-${p}-scatter`,
              pairedScatterSvg(
                sibRuns.map((r) => ({
                  label: r.summary.name,
                  values: r.sib!.per_image[String(p)],
                })),
                {
                  title: `SIB(${p}) per image, sorted by ${sibRuns[0].summary.name}`,
                  yLabel: `SIB(${p})`,
                },
              ),
              files,
            ),
          );
        }
      } else {
        notes.push("SIB scatter left out: the runs' sib.json files score different images");
      }
    }
  }

  for (const r of runs) {
    const s = r.summary;
    progress(`${s.name}: figures`);
    html.push(`<h2 id="${esc(r.slug)}">${esc(s.name)}</h2>`);
    html.push(
      `<p><code>${esc(s.path)}</code>: ${esc(s.method)}, ${esc(s.model)} on ${
        esc(s.dataset)
      }, seed ${s.seed}, ${
        esc(r.info.config.optimizer)
      } lr ${r.info.config.lr}, batch ${r.info.config.batchSize}, device ${esc(r.info.device)}</p>`,
    );
    if (r.metrics.length) {
      html.push(
        await figure(
          out,
          `${r.slug}-accuracy`,
          accuracyCurveSvg(r.metrics, { title: `${s.name}: accuracy (${s.method})` }),
          files,
        ),
        await figure(
          out,
          `${r.slug}-loss`,
          lossCurveSvg(r.metrics, { title: `${s.name}: loss (${s.method})` }),
          files,
        ),
      );
    } else {
      notes.push(`${s.name}: no epochs in metrics.jsonl yet`);
    }
    if (r.panels && r.split) {
      html.push(
        await figure(
          out,
          `${r.slug}-saliency`,
          saliencyGridSvg(r.split, [{ label: s.name, panels: r.panels }], {
            title: `${s.name}: saliency of the first ${r.panels.length} test images`,
            colormap: options.colormap,
          }),
          files,
          { inline: false, caption: "image, saliency of the true label, overlay (Fig. 6)" },
        ),
      );
    }
    if (r.sib) {
      const groups: BoxGroup[] = r.sib.percents.map((p, i) => ({
        label: `SIB(${p})`,
        values: r.sib!.per_image[String(p)],
        color: PALETTE[i % PALETTE.length],
      }));
      html.push(
        await figure(
          out,
          `${r.slug}-sib-box`,
          boxPlotSvg(groups, {
            title: `${s.name}: SIB per image (${r.sib.method ?? "saliency"}, n = ${
              r.sib.n ?? groups[0]?.values.length ?? 0
            })`,
            yLabel: "SIB",
            xLabel: "top x% of pixels",
          }),
          files,
        ),
      );
    } else {
      notes.push(`${s.name}: no sib.json (run \`hlgm sib ${s.path}\` for SIB plots)`);
    }
  }
  if (notes.length) {
    html.push(
      `<h2>Notes</h2><ul>${notes.map((t) => `<li class="note">${esc(t)}</li>`).join("")}</ul>`,
    );
  }
  html.push(`</body></html>\n`);
  const index = `${out}/index.html`;
  Deno.writeTextFileSync(index, html.join("\n"));
  files.push(index);
  return { out, index, files, notes, runs: runs.map((r) => r.summary) };
}
