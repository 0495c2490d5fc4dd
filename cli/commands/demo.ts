/**
 * `hlgm demo`: the quick-start job. Prints `info`, then trains baseline and HLGM on the same
 * data with a compressed schedule that shows every phase (plain, regularize, denoise), then
 * scores both with SIB on cluttered Fashion-MNIST and writes the report.
 *
 * @module
 */

import { runInfo } from "./info.ts";
import { epochLine, resolveConfig, runTraining } from "./train.ts";
import { RunDir } from "../../src/train/run_dir.ts";
import { locateDataset } from "../../src/data/registry.ts";

/** Runs the demo into `opts.out` (default runs/demo); finished runs are reused, stopped ones resumed. */
export async function runDemo(
  opts: Record<string, unknown>,
  flags: Record<string, unknown>,
): Promise<void> {
  runInfo({});
  const out = (opts.out as string | undefined) ?? "runs/demo";
  const hasFmnist =
    locateDataset("fashion-mnist", flags.dataDir as string | undefined) !== undefined;
  const base = {
    dataset: hasFmnist ? "cluttered-fmnist" : "synthetic",
    canvas: 40,
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
    const run = new RunDir(dir);
    const last = run.readLast();
    if (last && last.epoch >= config.epochs) {
      console.log(`${dir}: already trained (${last.epoch} epochs), reused`);
      for (const m of run.readMetrics()) console.log(epochLine(m, config.epochs));
    } else {
      console.log(
        `\\n${method}: ${config.model} on ${config.dataset}, ${config.epochs} epochs -> ${dir}`,
      );
      const r = await runTraining(config, dir, last !== null);
      if (r.status !== "completed") throw new Error(r.message);
    }
    runs.push(dir);
  }
  console.log(`\\nruns: ${runs.join(", ")}`);
}
