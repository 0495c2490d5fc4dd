/**
 * `hlgm sweep`: a grid over training settings x seeds (src/runs/sweep.ts). Parses the grid and
 * the flags, checks every cell's settings before anything trains, prints each run as it starts
 * and ends with a progress line of the runs in training, then the table.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { cliMessage, FLAG_VOCABULARY } from "../flag_vocabulary.ts";
import { selfCommand, SWEEP_WORKER_COMMAND } from "../self_command.ts";
import { withInterrupt } from "../interrupt.ts";
import { ProgressLine } from "../progress.ts";
import { resolveConfig } from "../train_config.ts";
import { parseSeeds } from "../run_args.ts";
import { checkOutFolder } from "../paths.ts";
import type { SibMethod } from "../../src/runs/sib.ts";
import { sweep, type SweepAxis, type SweepResult } from "../../src/runs/sweep.ts";
import { parseGridArg } from "../flags/grid.ts";
import { flagName } from "../../src/train/setting_rows.ts";
import type { CheckpointRule } from "../../src/run_folder/mod.ts";
import type { TrainConfig } from "../../src/train/config.ts";
import { scheduleOf } from "../../src/train/config.ts";
import { unreachableSwitch } from "../../src/train/schedule.ts";
import { presetWeightsWarning } from "../../src/train/presets.ts";
import { textTable } from "../../src/report/tables.ts";

/** Flags of `sweep` besides the training flags. */
export interface SweepFlags {
  /** `--grid` arguments, "k-top=0.1,0.2". */
  grid?: string[];
  /** Comma-separated seeds (default 0,1,2). */
  seeds?: string;
  /** Output folder. */
  out?: string;
  /** Runs at once. */
  parallel?: number;
  /** SIB test images, or "all". */
  sibN?: number | "all";
  /** SIB attribution method. */
  sibMethod?: string;
  /** Checkpoint rule. */
  checkpoint?: CheckpointRule;
  /** JSON settings file. */
  config?: string;
  /** Exit 0 even when a run diverged (a run that failed still exits 1). */
  keepGoing?: boolean;
}

/** `sweep` command: returns what it computed (after printing the table). */
export async function runSweep(
  opts: SweepFlags,
  flags: Record<string, unknown>,
): Promise<SweepResult> {
  if (!opts.grid?.length) {
    throw new UsageError("give at least one --grid SETTING=V1,V2 (e.g. --grid k-top=0.1,0.2)");
  }
  let axes: SweepAxis[];
  try {
    axes = opts.grid.map(parseGridArg);
  } catch (e) {
    throw new UsageError(cliMessage(e));
  }
  const repeated = axes.find((a, i) => axes.findIndex((b) => b.key === a.key) !== i);
  if (repeated) throw new UsageError(`--grid: ${flagName(repeated.key)} is given twice`);
  const seeds = parseSeeds(opts.seeds ?? "0,1,2");
  const { seed: _s, ...shared } = flags;
  const base = resolveConfig({ ...shared, seed: seeds[0] }, opts.config);
  const gridKeys = new Set(axes.map((a) => a.key));
  const given = Object.keys(shared).filter((k) => gridKeys.has(k));
  if (given.length) {
    const names = given.map(flagName);
    throw new UsageError(
      `--grid sweeps ${names.join(", ")}: do not also give ${
        names.map((n) => `--${n}`).join(", ")
      }`,
    );
  }
  // every cell's settings are checked here (usage errors exit 2) before anything trains
  const resolve = (s: Partial<TrainConfig>) => resolveConfig({ ...shared, ...s }, opts.config);
  const out = opts.out ?? `runs/sweep-${base.dataset}-${base.method}`;
  checkOutFolder("--out", out);
  const weights = presetWeightsWarning(base, FLAG_VOCABULARY);
  if (weights) console.error(`warning: ${weights}`);
  let warned = false;
  const progress = new ProgressLine();
  const result = await withInterrupt(progress, ({ stopping }) =>
    sweep({
      base: {},
      grid: axes,
      seeds,
      out,
      parallel: opts.parallel,
      resolve: (s) => {
        const c = resolve(s);
        const why = c.method === "hlgm"
          ? unreachableSwitch(scheduleOf(c), c.epochs, FLAG_VOCABULARY)
          : null;
        if (why && !warned) {
          warned = true;
          console.error(`warning: hlgm: ${why}`);
        }
        return c;
      },
      sibN: opts.sibN,
      sibMethod: opts.sibMethod as SibMethod | undefined,
      checkpoint: opts.checkpoint,
      // each run trains in a worker that is this CLI (its messages name flags)
      worker: [...selfCommand(), SWEEP_WORKER_COMMAND],
      shouldStop: stopping,
      onMessage: (m) => {
        progress.done();
        console.log(m);
      },
      onProgress: (running) =>
        progress.update(
          running.map((r) => `${r.cell} seed ${r.seed}: epoch ${r.epoch}/${r.epochs}`).join(" | "),
          running.reduce((a, r) => a + r.epoch / r.epochs, 0) / Math.max(1, running.length),
        ),
    }));
  console.log("");
  console.log(textTable(result.table.head, result.table.rows, (j) => j >= axes.length));
  console.log("");
  console.log(`wrote ${out}/sweep.json, ${out}/sweep.md and the heat maps in ${out}`);
  const bad = result.runs.filter((r) => r.status === "failed" || r.status === "diverged");
  if (bad.length) {
    // diverged runs are recorded in sweep.json; --keep-going lets them pass, failed runs not
    const fails = !opts.keepGoing || bad.some((r) => r.status === "failed");
    console.error(
      `${fails ? "" : "warning: "}${bad.length} run(s) did not finish: ${
        bad.map((r) => `${r.cell} seed ${r.seed} ${r.status}${r.error ? ` (${r.error})` : ""}`)
          .join("; ")
      }; recorded in ${out}/sweep.json` +
        (fails && bad.every((r) => r.status === "diverged") ? " (--keep-going exits 0)" : ""),
    );
    if (fails) Deno.exitCode = 1;
  }
  return result;
}
