/**
 * `hlgm report RUNDIR...`: the HTML report of run folders (src/runs/report.ts, rendered by src/report/report.ts): summary
 * tables, accuracy and loss curves with the phases shaded, saliency figures, SIB plots where a
 * sib.json exists. Prints where the report is.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { FLAG_VOCABULARY } from "../flag_vocabulary.ts";
import { readRunInfos } from "../run_args.ts";
import { checkInputFolder, checkOutFolder } from "../paths.ts";
import type { CheckpointRule } from "../../src/run_folder/mod.ts";
import type { Colormap } from "../../src/report/colormap.ts";
import { isSweepFolder, type ReportResult, writeReport } from "../../src/runs/report.ts";
import { openRunDir } from "../../src/train/run_records.ts";

/** Flags of `report`. */
export interface ReportFlags {
  /** Output folder. */
  out?: string;
  /** Images in the saliency figures. */
  n?: number;
  /** Device for the saliency maps. */
  device?: string;
  /** Dataset root. */
  dataDir?: string;
  /** Heat-map colours. */
  colormap?: Colormap;
  /** The checkpoint of the saliency figures. */
  checkpoint?: CheckpointRule;
  /** Leave the saliency figures out. */
  saliency?: boolean;
}

/** `report` command. */
export async function runReport(paths: string[], opts: ReportFlags = {}): Promise<ReportResult> {
  if (paths.length === 0) throw new UsageError("give at least one run folder");
  for (const p of paths) {
    const dir = openRunDir(p);
    if (!dir.exists() && !isSweepFolder(p)) {
      throw new UsageError(`${p}: not a run folder (no config.json) nor a sweep (no sweep.json)`);
    }
    if (dir.exists()) readRunInfos([p]); // a config.json that is not a run's: exit 2
  }
  if (opts.out !== undefined) checkOutFolder("--out", opts.out);
  if (opts.dataDir !== undefined) checkInputFolder("--data-dir", opts.dataDir);
  const result = await writeReport(paths, {
    out: opts.out,
    n: opts.n,
    device: opts.device,
    dataDir: opts.dataDir,
    colormap: opts.colormap,
    checkpoint: opts.checkpoint,
    noSaliency: opts.saliency === false,
    onProgress: (m) => console.error(m),
    vocabulary: FLAG_VOCABULARY,
  });
  for (const note of result.notes) console.error(`note: ${note}`);
  const count = (ext: string) => result.files.filter((f) => f.endsWith(ext)).length;
  console.log(
    `report: ${result.index} (${count(".png")} PNG and ${
      count(".svg")
    } SVG files in ${result.out})`,
  );
  return result;
}
