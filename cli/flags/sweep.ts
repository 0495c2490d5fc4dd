/**
 * `hlgm sweep`: its flags, help and examples. The action imports cli/commands/sweep.ts when it
 * runs, so `--help` loads no command code.
 *
 * @module
 */

import { type Command, Option } from "commander";
import {
  ATTRIBUTION_CHOICES,
  countOrAll,
  examples,
  positiveInt,
  SIB_N_HELP,
  sibCheckpointOption,
} from "./options.ts";
import { addTrainFlags, flagsToConfig } from "./settings.ts";
import { DEFAULT_SIB_N } from "../../src/runs/sib_defaults.ts";
import { SWEEP_WORKER_COMMAND } from "../self_command.ts";

/** Declares `hlgm sweep` on `cli`, and the hidden command of its workers. */
export function addSweepCommand(cli: Command): void {
  // one run of a sweep, in its own process: a CLI process like any other, so its messages name
  // flags (src/runs/sweep_worker.ts)
  cli.command(SWEEP_WORKER_COMMAND, { hidden: true })
    .description("train one run of a sweep (started by `hlgm sweep`)")
    .argument("<job>", "the job file the sweep wrote")
    .action(async (job: string) => {
      const { runSweepJob } = await import("../../src/runs/sweep_worker.ts");
      const { FLAG_VOCABULARY } = await import("../flag_vocabulary.ts");
      Deno.exitCode = await runSweepJob(job, FLAG_VOCABULARY);
    });
  addTrainFlags(
    cli.command("sweep").addHelpText(
      "after",
      examples(
        "hlgm sweep --method hlgm --grid k-top=0.1,0.2,0.3 --grid lambda=0.5,1,2 --seeds 0,1,2",
        "hlgm sweep --method hlgm --dataset cluttered-fmnist --grid k-top=0.1,0.3 --parallel 2 --sib-n 1000",
      ),
    )
      .description(
        "train a grid over training settings x seeds (finished runs reused, stopped ones " +
          "resumed), then per cell mean ± sd of max/final test accuracy and median SIB, as " +
          "Markdown, JSON and heat maps",
      )
      .option(
        "--grid <setting=values>",
        "a setting and its comma-separated values, e.g. k-top=0.1,0.2 (repeat for more settings)",
        (v: string, all: string[] = []) => [...all, v],
      )
      .option("--seeds <list>", "seeds", "0,1,2")
      .option(
        "--out <dir>",
        "folder of the runs and tables (default runs/sweep-<dataset>-<method>)",
      )
      .option(
        "--parallel <n>",
        "runs trained at once, each in its own process with its share of the threads",
        positiveInt("--parallel"),
        1,
      )
      .option(
        "--sib-n <n>",
        `test images for SIB (datasets with boxes; drawn among those with a box), ${SIB_N_HELP}`,
        countOrAll("--sib-n"),
        DEFAULT_SIB_N,
      )
      .addOption(sibCheckpointOption())
      .addOption(
        new Option("--sib-method <name>", "attribution method for SIB").choices(ATTRIBUTION_CHOICES)
          .default("saliency"),
      )
      .option("--config <file>", "JSON file of settings (flags override it)")
      .option(
        "--keep-going",
        "exit 0 even when a run diverged (NaN/Inf loss); without it such a run is recorded as " +
          "diverged, the other runs and the tables are finished, and sweep exits 1",
      ),
    ["seed"], // sweep takes --seeds
  ).action(async (opts) => {
    const { runSweep } = await import("../commands/sweep.ts");
    await runSweep(opts, flagsToConfig(opts));
  });
}
