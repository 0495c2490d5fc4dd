/**
 * The tables of runs, as text and HTML: the run summary (the paper's max and final test
 * accuracy) and Table III (median SIB(x) per run).
 *
 * @module
 */

import { summarize } from "../metrics/sib.ts";
import { esc } from "./svg.ts";
import { withInterval } from "./faith_tables.ts";
import type { MeanInterval } from "../util/stats.ts";

/** One run's numbers for the summary tables. */
export interface RunSummary {
  /** Short unique name (folder name). */
  name: string;
  /** The folder. */
  path: string;
  /** baseline, sgt or hlgm. */
  method: string;
  /** Model name. */
  model: string;
  /** Dataset name. */
  dataset: string;
  /** Seed. */
  seed: number;
  /** Epochs in metrics.jsonl. */
  epochs: number;
  /** Epochs configured. */
  configuredEpochs: number;
  /** True when every configured epoch is logged. */
  complete: boolean;
  /** Maximum test accuracy over epochs (fraction), or null without epochs. */
  maxTestAcc: number | null;
  /** Epoch of the maximum (the first, on ties). */
  maxTestEpoch: number | null;
  /** Test accuracy of the last epoch. */
  finalTestAcc: number | null;
  /** Epoch of the best checkpoint (best.json; chosen by validation accuracy). */
  bestEpoch: number | null;
  /** Metric that chose the best checkpoint. */
  bestMetric: string | null;
  /** Epoch HLGM switched to its SGT phase (first non-plain epoch), if any. */
  switchEpoch: number | null;
  /** Training seconds over all epochs. */
  seconds: number;
}

/** Per-image SIB values of a run, as sib.json holds them. */
export interface SibColumn {
  /** Column title. */
  name: string;
  /** Values per image for each x (keys String(x)). */
  per_image: Readonly<Record<string, readonly number[]>>;
  /** The checkpoint rule scored (absent in sib.json files written before it was recorded). */
  checkpoint?: string;
  /** Epoch of the checkpoint scored. */
  epoch?: number;
  /** What was ranked: |attribution| (abs; also when absent) or the signed attribution. */
  saliency_sign?: "abs" | "signed";
  /** What the run's masking ranked in training (absent: abs). */
  trained_saliency_sign?: "abs" | "signed";
}

/**
 * "signed", "abs", or "abs (trained signed)" when a run was not scored as it was trained:
 * what a SIB column ranked.
 */
export function saliencySignLabel(
  r: { saliency_sign?: "abs" | "signed"; trained_saliency_sign?: "abs" | "signed" },
): string {
  const scored = r.saliency_sign ?? "abs";
  const trained = r.trained_saliency_sign ?? "abs";
  return scored === trained ? scored : `${scored} (trained ${trained})`;
}

/** "best-after-switch, epoch 12": which weights a SIB column scored ("-" when not recorded). */
export function checkpointLabel(r: { checkpoint?: string; epoch?: number }): string {
  if (r.checkpoint === undefined && r.epoch === undefined) return "-";
  return [r.checkpoint, r.epoch === undefined ? undefined : `epoch ${r.epoch}`]
    .filter((x) => x !== undefined).join(", ");
}

/** A percentage with 2 decimals ("85.21"), or "-" for null. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "-" : (100 * v).toFixed(2);
}

/** A file-name-safe version of a run name. */
export function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "") || "run";
}

/**
 * Table III's cells: per x, the median SIB(x) of each run (3 decimals, "-" when missing), then
 * a row naming the checkpoint each run was scored on, and, when some run ranked the signed
 * saliency or was not scored as it was trained, a row saying what each ranked.
 */
export function sibMedianRows(
  percents: readonly number[],
  runs: readonly SibColumn[],
): string[][] {
  return [
    ...percents.map((p) => [
      String(p),
      ...runs.map((r) => {
        const v = r.per_image[String(p)];
        return v ? summarize(v).median.toFixed(3) : "-";
      }),
    ]),
    ["checkpoint", ...runs.map(checkpointLabel)],
    ...(runs.some((r) => saliencySignLabel(r) !== "abs")
      ? [["saliency", ...runs.map(saliencySignLabel)]]
      : []),
  ];
}

/**
 * An aligned text table: columns two spaces apart, the columns in `right` right-aligned
 * (numbers), the others left-aligned; no trailing spaces.
 */
export function textTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  right: (column: number) => boolean,
): string {
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, j) => (right(j) ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

/**
 * A Markdown table: the columns in `right` right-aligned (numbers), the others left-aligned.
 */
export function markdownTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  right: (column: number) => boolean,
): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, j) => (right(j) ? " ---: " : " --- ")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** Table III as aligned text: rows x, columns runs, cells median SIB. */
export function formatSibTable(percents: readonly number[], runs: readonly SibColumn[]): string {
  return textTable(
    ["top x%", ...runs.map((r) => r.name)],
    sibMedianRows(percents, runs),
    (j) => j > 0,
  );
}

/** Run folders as listed by `hlgm runs`: a row each, or its status when it is unreadable. */
export function runsTable(
  runs: readonly { name: string; summary: RunSummary | null; status: string }[],
): string {
  const head = ["run", "method", "model", "dataset", "seed", "epochs", "max test %", "final %"];
  const rows = runs.map(({ name, summary: s, status }) => [
    ...(s
      ? [
        name,
        s.method,
        s.model,
        s.dataset,
        String(s.seed),
        `${s.epochs}/${s.configuredEpochs}`,
        pct(s.maxTestAcc),
        pct(s.finalTestAcc),
      ]
      : [name, "-", "-", "-", "-", "-", "-", "-"]),
    status,
  ]);
  return textTable([...head, "status"], rows, (j) => j >= 4 && j <= 7);
}

/** An HTML table (escaped cells) in a horizontally scrolling box. */
export function htmlTable(cls: string, head: readonly string[], rows: readonly string[][]): string {
  return `<div class="scroll"><table class="${cls}"><thead><tr>${
    head.map((h) => `<th>${esc(h)}</th>`).join("")
  }</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")
  }</tbody></table></div>`;
}

/** A run's localisation scores, as the table needs them (sib.json's `localisation`). */
export interface LocalisationColumn {
  /** Column name. */
  name: string;
  /** The means with their intervals (absent in older sib.json files). */
  localisation?: { summary: { pointing_game: MeanInterval; relevance_mass: MeanInterval } };
}

/** Rows (pointing game, relevance mass accuracy) x runs: mean [95% interval] over the images. */
export function localisationRows(runs: readonly LocalisationColumn[]): string[][] {
  const cell = (r: LocalisationColumn, key: "pointing_game" | "relevance_mass") => {
    const s = r.localisation?.summary[key];
    return s && Number.isFinite(s.mean) ? withInterval(s.mean, s.ci95) : "-";
  };
  return [
    ["pointing game (hit rate)", ...runs.map((r) => cell(r, "pointing_game"))],
    ["relevance mass accuracy", ...runs.map((r) => cell(r, "relevance_mass"))],
  ];
}

/** Table III as HTML. */
export function sibTableHtml(percents: readonly number[], runs: readonly SibColumn[]): string {
  return htmlTable("sib", ["x (%)", ...runs.map((r) => r.name)], sibMedianRows(percents, runs));
}

/** The summary of runs as HTML: configuration, epochs, max and final test accuracy, time. */
export function summaryTableHtml(runs: readonly RunSummary[]): string {
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
  return htmlTable("summary", head, rows);
}
