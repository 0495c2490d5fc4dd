/**
 * The report of run folders (`hlgm report`): reads each run's config, metrics, sib.json and
 * faith.json, computes the saliency figures from the best checkpoints and the first N test
 * images, and hands it all to report/report.ts, which renders the page.
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import type { Colormap } from "../report/colormap.ts";
import {
  type PngFigure,
  renderReport,
  type ReportFaith,
  type ReportRun,
  type ReportSweep,
} from "../report/report.ts";
import { loadRun } from "../train/load_run.ts";
import { loadTestSplit } from "../train/setup.ts";
import { drawSaliencyFigure, type RunSaliency, saliencyOfRun } from "./saliency.ts";
import { hasBoxes } from "./compare.ts";
import { readRunScoreFile, readSibFile } from "./sib_file.ts";
import { figureSignNote, trainedSign } from "./sib.ts";
import { LIBRARY_VOCABULARY, messageIn, type Vocabulary } from "../util/vocabulary.ts";
import type { CheckpointRule } from "../run_folder/mod.ts";
import type { TrainConfig } from "../train/config.ts";
import type { SweepResult } from "./sweep.ts";
import { hlgmCommand } from "../util/command.ts";
import { type RunSummary, summarizeRun, uniqueRunNames } from "./summary.ts";

/** Options of {@link writeReport}. */
export interface ReportOptions {
  /** Output folder (default: RUNDIR/report for one run, ./report for several). */
  out?: string;
  /** Test images in the saliency figures (default 8: the first N of the test split). */
  n?: number;
  /** Device for the saliency maps (default auto). */
  device?: string;
  /** Dataset root, when the data moved since training. */
  dataDir?: string;
  /** Heat-map colours (default blues). */
  colormap?: Colormap;
  /** The checkpoint the saliency figures show (default best). */
  checkpoint?: CheckpointRule;
  /** Skip the saliency figures (no weights or data needed). */
  noSaliency?: boolean;
  /** Progress messages. */
  onProgress?: (message: string) => void;
  /** The words of the notes (settings as the caller names them; default the library's). */
  vocabulary?: Vocabulary;
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

/** A sweep folder: sweep.json and no config.json. */
export function isSweepFolder(path: string): boolean {
  const has = (f: string) => {
    try {
      return Deno.statSync(`${path}/${f}`).isFile;
    } catch {
      return false;
    }
  };
  return has("sweep.json") && !has("config.json");
}

/** A sweep folder's sweep.json as the report shows it; an error names a malformed file. */
function readSweep(path: string): ReportSweep {
  const file = `${path.replace(/\/+$/, "")}/sweep.json`;
  let j: Partial<SweepResult>;
  try {
    j = JSON.parse(Deno.readTextFileSync(file));
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  if (!j.table || !Array.isArray(j.table.head) || !Array.isArray(j.heatmaps) || !j.axes) {
    throw new Error(`${file}: not a sweep.json (expected table, heatmaps and axes)`);
  }
  let caption = "";
  try {
    caption = Deno.readTextFileSync(`${path}/sweep.md`).split("\n\n")[1] ?? "";
  } catch {
    // sweep.md removed: the table says enough
  }
  return {
    path,
    caption,
    table: j.table,
    settings: j.axes.length,
    heatmaps: j.heatmaps,
  };
}

/**
 * Writes the report of the run folders `paths` (sweep folders get a section each) (see the module notes). Runs without sib.json
 * get no SIB plots; saliency figures need the run's checkpoint and its test data, and
 * are left out with a note when either is missing.
 */
export async function writeReport(
  all: readonly string[],
  options: ReportOptions = {},
): Promise<ReportResult> {
  let paths: readonly string[] = all;
  if (paths.length === 0) throw new RangeError("give at least one run folder");
  const n = options.n ?? 8;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const sweepPaths = all.filter(isSweepFolder);
  const sweeps = sweepPaths.map(readSweep);
  paths = all.filter((p) => !isSweepFolder(p));
  const names = uniqueRunNames(paths);
  const runs: ReportRun<TrainConfig>[] = paths.map((p, i) => ({
    ...summarizeRun(p, names[i]),
    sib: readSibFile(p),
    faith: readRunScoreFile(p, "faith.json") as ReportFaith | null,
  }));
  const out =
    (options.out ?? (all.length === 1 ? `${all[0].replace(/\/+$/, "")}/report` : "report"))
      .replace(/\/+$/, "") || ".";
  const notes: string[] = [];
  const words = options.vocabulary ?? LIBRARY_VOCABULARY;
  for (const r of runs.filter((r) => !r.sib)) {
    const { name, path, dataset } = r.summary;
    notes.push(
      hasBoxes(dataset)
        ? `${name}: no sib.json (\`${hlgmCommand()} sib ${path}\` scores it for SIB plots)`
        : `${name}: no SIB plots: ${dataset} has no object boxes (SIB needs a dataset with ` +
          `boxes, such as cluttered-fmnist or oxford-pet)`,
    );
  }
  const progress = options.onProgress ?? (() => {});
  let compareSaliency: PngFigure | undefined;
  if (!options.noSaliency) {
    // runs on the same test split share one figure; the first split's runs are compared
    const groups = new Map<string, { ds: ImageDataset; members: RunSaliency[]; names: string[] }>();
    for (const r of runs) {
      const c = r.info.config;
      const key = JSON.stringify([c.dataset, options.dataDir ?? c.dataDir ?? null, c.canvas]);
      let group = groups.get(key);
      try {
        if (!group) {
          progress(`loading the ${c.dataset} test split`);
          const ds = await loadTestSplit(c, { dataDir: options.dataDir });
          group = { ds, members: [], names: [] };
          groups.set(key, group);
        }
        const { ds } = group;
        const indices = Array.from({ length: Math.min(n, ds.n) }, (_, k) => k);
        progress(`${r.summary.name}: saliency of ${indices.length} test images`);
        const run = loadRun(r.summary.path, {
          which: options.checkpoint ?? "best",
          device: options.device,
        });
        const weights = `${run.checkpoint} checkpoint, epoch ${run.epoch}`;
        if (run.checkpointNote) notes.push(`${r.summary.name}: ${run.checkpointNote}`);
        if (trainedSign(c) === "signed") {
          notes.push(`${r.summary.name}: ${figureSignNote(words)}`);
        }
        let result: RunSaliency;
        try {
          result = saliencyOfRun(run, ds, indices);
        } finally {
          run.model.dispose();
        }
        const fig = drawSaliencyFigure([result], [r.summary.name], ds.classes, {
          colormap: options.colormap,
        });
        r.saliency = {
          png: fig.png,
          caption: `the first ${indices.length} test images: saliency of the true label, ` +
            `${weights} (Fig. 6)`,
        };
        group.members.push(result);
        group.names.push(r.summary.name);
      } catch (e) {
        notes.push(`${r.summary.name}: no saliency figure (${messageIn(e, words)})`);
      }
    }
    // runs on the same test split as the first are also shown side by side
    const first = [...groups.values()][0];
    if (runs.length > 1 && first && first.members.length > 1) {
      const fig = drawSaliencyFigure(first.members, first.names, first.ds.classes, {
        colormap: options.colormap,
        panels: ["heat_map", "blended_heat_map"],
      });
      compareSaliency = {
        png: fig.png,
        caption: "saliency of the same test images, side by side (Fig. 6)",
      };
    }
  }
  const page = await renderReport(out, {
    runs,
    sweeps,
    compareSaliency,
    notes,
    onProgress: progress,
  });
  return { ...page, runs: runs.map((r) => r.summary) };
}
