/**
 * `hlgm demo`: the quick-start job. Prints `info`, then trains baseline and HLGM on cluttered
 * Fashion-MNIST (the real items on a 40x40 canvas with clutter, exact boxes) with a compressed
 * schedule that shows every phase (plain, regularize, denoise), then scores both with SIB and
 * writes the report. Finished runs are reused, so running it again only redoes SIB and report;
 * a run folder holding a run with other settings (the demo's flags changed) is refused, naming
 * the differences.
 *
 * @module
 */

import { runInfo } from "./info.ts";
import { resolveConfig } from "../train_config.ts";
import { epochLine, runTraining } from "../training.ts";

import { planRun } from "../../src/train/run_plan.ts";
import type { TrainConfig } from "../../src/train/config.ts";
import { withRunFolderLock } from "../../src/run_folder/run_lock.ts";
import { checkOutFolder } from "../paths.ts";
import { locateDataset } from "../../src/data/registry.ts";
import { DEFAULT_SIB_CHECKPOINT } from "../../src/runs/sib_defaults.ts";
import { openRunDir } from "../../src/train/run_records.ts";

/** Runs the demo into `opts.out` (default runs/demo); finished runs are reused, stopped ones resumed. */
export async function runDemo(
  opts: Record<string, unknown>,
  flags: Record<string, unknown>,
): Promise<void> {
  const out = (opts.out as string | undefined) ?? "runs/demo";
  checkOutFolder("--out", out);
  // one demo per folder: a second one over it is refused (its runs, sib/ and report/ are one job)
  await withRunFolderLock(out, "demo", () => demo(out, flags));
}

/**
 * One of the demo's runs, planned under its folder's lock: a finished run with these settings is
 * reused, a stopped one resumed; other settings in the folder are refused (the demo's flags
 * changed: choose another --out).
 */
async function trainDemoRun(dir: string, config: TrainConfig): Promise<void> {
  const plan = planRun(dir, { intent: "reuse", config });
  if (plan.action === "reuse") {
    console.log(`${dir}: already trained (${plan.epoch} epochs), reused`);
    for (const m of openRunDir(dir).readMetrics()) console.log(epochLine(m, config.epochs));
    return;
  }
  if (plan.note) console.error(`warning: ${plan.note}`);
  console.log(
    `\n${config.method}: ${config.model} on ${config.dataset}, ${config.epochs} epochs -> ${dir}`,
  );
  const r = await runTraining(plan);
  if (r.status !== "completed") throw new Error(r.message);
}

async function demo(out: string, flags: Record<string, unknown>): Promise<void> {
  runInfo({});
  const hasFmnist =
    locateDataset("fashion-mnist", flags.dataDir as string | undefined) !== undefined;
  const base = {
    dataset: hasFmnist ? "cluttered-fmnist" : "synthetic",
    canvas: 40,
    lr: 1.0, // Adadelta's own default, as the SGT code: learns far faster than Table I's 0.1 here
    subset: 6000,
    epochs: 8,
    switchEpoch: 2,
    episodeSize: 3,
    batchSize: 128,
    valFraction: 0.1,
    ...flags,
  };
  if (!hasFmnist) {
    console.log("Fashion-MNIST not found: the demo trains on generated images and skips SIB");
  }
  const runs: string[] = [];
  for (const method of ["baseline", "hlgm"] as const) {
    const config = resolveConfig({ ...base, method });
    const dir = `${out}/${method}`;
    await withRunFolderLock(dir, "train", () => trainDemoRun(dir, config));
    runs.push(dir);
  }
  if (hasFmnist) {
    console.log("\nSIB on cluttered Fashion-MNIST test images (Saliency of the true label):");
    const { runSib } = await import("./sib.ts");
    // 1,000 of the 10,000 test images keep the quick start quick (`hlgm sib` scores all)
    await runSib(runs, { out: `${out}/sib`, n: 1000, device: flags.device as string | undefined });
  }
  const { runReport } = await import("./report.ts");
  const report = await runReport(runs, {
    out: `${out}/report`,
    device: flags.device as string | undefined,
    checkpoint: DEFAULT_SIB_CHECKPOINT, // the saliency figures show the weights SIB scored
  });
  console.log(`\nreport: ${report.index}`);
}
