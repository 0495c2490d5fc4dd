/**
 * `hlgm sib RUNDIR...`: the paper's Saliency-In-the-Box evaluation (Section V, Table III,
 * Fig. 8). For each run, the saliency of the true label is computed for the same N test images
 * (drawn with a seed among the images that have a box), reduced to pixel maps and scored with
 * SIB(x) for every x, batched on the device (src/runs/sib.ts). Prints Table III
 * (median SIB per x and run), writes DIR/sib.json with every per-image value, RUNDIR/sib.json
 * per run (read by the report), and per x a box plot and a paired scatter, as SVG and PNG.
 *
 * The argument checks (run folders, dataset choice, method names) are shared with
 * `hlgm saliency`.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { ProgressLine } from "../progress.ts";
import type { ImageDataset } from "../../src/data/dataset.ts";
import { datasetSpec } from "../../src/data/registry.ts";
import {
  DEFAULT_GRADCAM_LAYER,
  drawIndices,
  evalTransforms,
  evaluateSib,
  imagesWithBoxes,
  loadTestSplit,
  SIB_METHOD_SETTINGS,
  SIB_METHODS,
  type SibEvaluation,
  type SibMethod,
} from "../../src/runs/sib.ts";
import { DEFAULT_SIB_PERCENTS } from "../../src/metrics/sib.ts";
import { writeJsonAtomic, writeSibFile } from "../../src/runs/sib_file.ts";
import { boxPlotSvg, pairedScatterSvg } from "../../src/report/charts.ts";
import { svgToPng } from "../../src/report/render.ts";
import type { Transforms } from "../../src/data/loader.ts";
import { RunDir, type RunInfo } from "../../src/train/run_dir.ts";

/** Parses "--percents 0.5,1,2,5,10": numbers in (0, 100], no repeats; UsageError otherwise. */
export function parsePercents(text: string | undefined): number[] {
  if (text === undefined) return [...DEFAULT_SIB_PERCENTS];
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  const bad = parts.findIndex((s, i) => s === "" || !(values[i] > 0 && values[i] <= 100));
  if (bad >= 0) {
    throw new UsageError(
      `--percents: "${parts[bad]}" is not a percentage in (0, 100] (got "${text}")`,
    );
  }
  if (new Set(values).size !== values.length) {
    throw new UsageError(`--percents: repeated value in "${text}"`);
  }
  return values;
}

/** Checks a method name (UsageError listing the choices). */
export function checkMethod(method: string | undefined): SibMethod {
  const m = method ?? "saliency";
  if (!(SIB_METHODS as readonly string[]).includes(m)) {
    throw new UsageError(`unknown method "${m}"; expected one of ${SIB_METHODS.join(", ")}`);
  }
  return m as SibMethod;
}

/** Checks that Grad-CAM has a layer for the model (UsageError otherwise). */
export function checkLayer(method: SibMethod, model: string, layer: string | undefined): void {
  if (method === "gradcam" && layer === undefined && !DEFAULT_GRADCAM_LAYER[model]) {
    throw new UsageError(`gradcam on ${model} needs --layer (a layer with (B, C, h, w) output)`);
  }
}

/** A run folder's name for tables and plots: its last path component (made unique). */
export function runNames(paths: readonly string[]): string[] {
  const parts = paths.map((p) => p.replace(/\/+$/, "").split("/").filter((s) => s));
  const names = parts.map((p) => p.at(-1) ?? "/");
  for (let depth = 2; new Set(names).size < names.length && depth <= 8; depth++) {
    for (let i = 0; i < names.length; i++) {
      if (names.filter((n) => n === names[i]).length > 1) {
        names[i] = parts[i].slice(-depth).join("/");
      }
    }
  }
  return names;
}

/** Reads every run's config.json; a folder without one is a usage error. */
export function readRunInfos(paths: readonly string[]): RunInfo[] {
  return paths.map((p) => {
    const dir = new RunDir(p.replace(/\/+$/, "") || "/");
    if (!dir.exists()) throw new UsageError(`${p}: not a run folder (no config.json)`);
    return dir.readInfo();
  });
}

/** Dataset to evaluate on: --dataset, else the first run's; with boxes when `needBoxes`. */
export function chooseDataset(
  name: string | undefined,
  infos: readonly RunInfo[],
  needBoxes: boolean,
): string {
  const chosen = name ?? infos[0].config.dataset;
  const noBoxes = () =>
    new UsageError(
      `dataset ${chosen} has no object boxes; SIB needs one with boxes (cluttered-fmnist, ` +
        `oxford-pet)${name === undefined ? ": pass --dataset" : ""}`,
    );
  if (chosen === "synthetic") {
    if (needBoxes) throw noBoxes();
    return chosen;
  }
  let spec;
  try {
    spec = datasetSpec(chosen);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (needBoxes && !spec.hasBoxes) throw noBoxes();
  return chosen;
}

/**
 * The test split of `name` as the trainer made it for the run (its data dir and seed), with
 * --data-dir checked to be a folder.
 */
export async function loadSplitFor(
  name: string,
  info: RunInfo,
  dataDir: string | undefined,
): Promise<ImageDataset> {
  if (dataDir !== undefined) {
    let isDir = false;
    try {
      isDir = Deno.statSync(dataDir).isDirectory;
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`--data-dir ${dataDir} is not a folder`);
  }
  return await loadTestSplit({ ...info.config, dataset: name }, { dataDir });
}

/** The eval transforms of a run on `ds`; a run that cannot take the images is a usage error. */
export function transformsFor(path: string, info: RunInfo, ds: ImageDataset): Transforms {
  try {
    return evalTransforms(info, ds, path);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/ images are /, " test images are "));
  }
}

/** Options of `hlgm sib`. */
export interface SibOptions {
  /** Dataset with boxes (default: the first run's). */
  dataset?: string;
  /** Dataset root (default: the first run's, else the usual places). */
  dataDir?: string;
  /** Attribution method (default saliency). */
  method?: string;
  /** Grad-CAM layer. */
  layer?: string;
  /** Comma-separated x values (default 0.5,1,2,5,10). */
  percents?: string;
  /** Number of test images (default 1000). */
  n?: number;
  /** Seed of the image draw and of SmoothGrad's noise (default 0). */
  seed?: number;
  /** Which checkpoint (default best). */
  checkpoint?: "best" | "last";
  /** Device (default auto). */
  device?: string;
  /** Output folder (default ./sib-<timestamp>). */
  out?: string;
  /** Channel reduction (default mean). */
  reduction?: "mean" | "sum" | "max";
  /** Images per batch (default 100). */
  batchSize?: number;
  /** Images in the paired scatter (default 120, as the paper). */
  scatterN?: number;
  /** No notes on stderr (default false). */
  quiet?: boolean;
}

/** One run's column. */
export interface SibRunResult extends SibEvaluation {
  /** Column name (folder name). */
  name: string;
  /** Run folder. */
  path: string;
}

/** What `hlgm sib` computed and wrote. */
export interface SibResult {
  /** The x values. */
  percents: number[];
  /** Test-set indices of the images, ascending. */
  indices: number[];
  /** Per run. */
  runs: SibRunResult[];
  /** Output folder. */
  out: string;
  /** Files written. */
  files: string[];
  /** The printed table (without its title line). */
  table: string;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
}

/** Table III: rows x, columns runs, cells median SIB (3 decimals). */
export function formatTable(
  percents: readonly number[],
  runs: readonly { name: string; summary: SibEvaluation["summary"] }[],
): string {
  const head = ["top x%", ...runs.map((r) => r.name)];
  const rows = percents.map((p) => [
    String(p),
    ...runs.map((r) => r.summary[String(p)].median.toFixed(3)),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

/** `hlgm sib RUNDIR...`: computes, prints and writes everything; returns the results. */
export async function runSib(paths: string[], opts: SibOptions = {}): Promise<SibResult> {
  // ---- arguments: usage errors before any heavy work
  if (paths.length === 0) throw new UsageError("give at least one run folder");
  const method = checkMethod(opts.method);
  const percents = parsePercents(opts.percents);
  const n = opts.n ?? 1000;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--n must be a positive integer`);
  const seed = opts.seed ?? 0;
  const which = opts.checkpoint ?? "best";
  const infos = readRunInfos(paths);
  const names = runNames(paths);
  for (const info of infos) checkLayer(method, info.config.model, opts.layer);
  const datasetName = chooseDataset(opts.dataset, infos, true);
  const log = (s: string) => {
    if (!opts.quiet) console.error(s);
  };

  // ---- the data, loaded once: every run sees the same images
  const ds = await loadSplitFor(datasetName, infos[0], opts.dataDir);
  infos.forEach((info, i) => transformsFor(paths[i], info, ds));
  infos.forEach((info, i) => {
    if (info.config.dataset !== datasetName) {
      log(`note: ${paths[i]} was trained on ${info.config.dataset}, scored on ${datasetName}`);
    }
  });
  const withBox = imagesWithBoxes(ds).length;
  if (withBox === 0) throw new Error(`${datasetName}: no test image has a box`);
  if (withBox < n) log(`note: ${withBox} ${datasetName} test images have a box; using all`);

  // ---- SIB per run
  const progress = new ProgressLine();
  const runs: SibRunResult[] = [];
  for (const [r, path] of paths.entries()) {
    const t0 = performance.now();
    let e: SibEvaluation;
    try {
      e = await evaluateSib(path, ds, {
        method,
        layer: opts.layer,
        reduction: opts.reduction,
        percents,
        n,
        seed,
        which,
        device: opts.device,
        batchSize: opts.batchSize,
        onProgress: (done, total) =>
          progress.update(`${names[r]}: ${done}/${total} images`, done / total),
      });
    } finally {
      progress.done();
    }
    log(
      `${names[r]}: ${which} checkpoint (epoch ${e.epoch}), ${e.n} images in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
    runs.push({ ...e, name: names[r], path });
  }
  const indices = runs[0].indices;

  // ---- Table III
  const table = formatTable(percents, runs);
  console.log(
    `Median SIB (${method}, ${indices.length} ${datasetName} test images, ${which} checkpoints)`,
  );
  console.log(table);

  // ---- sib.json: combined, and per run
  const out = opts.out ?? `sib-${stamp()}`;
  Deno.mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const { per_image: _p, summary: _s, epoch: _e, name: _n, path: _path, ...common } = runs[0];
  writeJsonAtomic(`${out}/sib.json`, {
    ...common,
    created: new Date().toISOString(),
    method_settings: SIB_METHOD_SETTINGS[method],
    runs: runs.map((r) => ({
      name: r.name,
      path: r.path,
      epoch: r.epoch,
      summary: r.summary,
      per_image: r.per_image,
    })),
  });
  files.push(`${out}/sib.json`);
  for (const r of runs) {
    const { name: _name, path, ...own } = r;
    files.push(writeSibFile(path, own));
  }

  // ---- plots per x: box plot (one box per run) and the paired scatter (Fig. 8)
  const boxTitle = (key: string) =>
    `SIB(${key}), ${method}, ${indices.length} ${datasetName} test images`;
  const scatterN = Math.min(opts.scatterN ?? 120, indices.length);
  const scatterIdx = drawIndices(indices.map((_, i) => i), scatterN, seed + 1);
  for (const p of percents) {
    const key = String(p);
    const svgs: [string, string][] = [
      [
        `sib_box_${key}`,
        boxPlotSvg(runs.map((r) => ({ label: r.name, values: r.per_image[key] })), {
          title: boxTitle(key),
          yLabel: `SIB(${key})`,
          width: Math.max(360, 100 + 120 * runs.length, 40 + 8.5 * boxTitle(key).length),
        }),
      ],
      [
        `sib_scatter_${key}`,
        pairedScatterSvg(
          runs.map((r) => ({ label: r.name, values: scatterIdx.map((i) => r.per_image[key][i]) })),
          {
            title: `SIB(${key}), ${method}, ${scatterN} random ${datasetName} test images`,
            yLabel: `SIB(${key})`,
            maxPoints: scatterN,
          },
        ),
      ],
    ];
    for (const [base, svg] of svgs) {
      Deno.writeTextFileSync(`${out}/${base}.svg`, svg);
      Deno.writeFileSync(`${out}/${base}.png`, await svgToPng(svg));
      files.push(`${out}/${base}.svg`, `${out}/${base}.png`);
    }
  }
  log(
    `wrote ${out}/sib.json, sib.json in ${runs.length} run folder(s), ${
      percents.length * 4
    } plot files in ${out}`,
  );
  return { percents, indices, runs, out, files, table };
}
