/**
 * `hlgm compare`: its flags, help and examples. The action imports cli/commands/compare.ts when it
 * runs, so `--help` loads no command code.
 *
 * @module
 */

import { type Command, Option } from "commander";
import {
  ATTRIBUTION_CHOICES,
  countOrAll,
  examples,
  SIB_N_HELP,
  sibCheckpointOption,
} from "./options.ts";
import { addTrainFlags, flagsToConfig } from "./settings.ts";
import { DEFAULT_SIB_N } from "../../src/runs/sib_defaults.ts";
import { DEFAULT_FAITH_N } from "../../src/runs/faith_defaults.ts";
import { METHODS } from "../../src/train/config_fields.ts";

/** Declares `hlgm compare` on `cli`. */
export function addCompareCommand(cli: Command): void {
  addTrainFlags(
    cli.command("compare").addHelpText(
      "after",
      examples(
        "hlgm compare --dataset cluttered-fmnist --subset 6000 --epochs 8 --switch-epoch 2 --seeds 0,1",
        "hlgm compare --methods baseline,hlgm --epochs 30 --out runs/compare-fmnist",
        "hlgm compare --sgt-from switch --epochs 60 --patience 10",
      ),
    )
      .description(
        "train every method x seed with the same settings, then Table II (max/final test " +
          "accuracy, mean ± sd), Table III (median SIB, datasets with boxes) and the saliency " +
          "maps' faithfulness (as hlgm faith)",
      )
      .option("--methods <list>", "methods to compare", METHODS.join(","))
      .option("--seeds <list>", "seeds", "0,1,2")
      .option(
        "--out <dir>",
        "folder of the runs and tables (default runs/compare-<dataset>-<model>)",
      )
      .option(
        "--sib-n <n>",
        `test images for Table III (drawn among those with a box), ${SIB_N_HELP}`,
        countOrAll("--sib-n"),
        DEFAULT_SIB_N,
      )
      .addOption(sibCheckpointOption())
      .addOption(
        new Option("--sib-method <name>", "attribution method for Table III").choices(
          ATTRIBUTION_CHOICES,
        )
          .default("saliency"),
      )
      .option(
        "--faith-n <n>",
        "test images for the faithfulness table (drawn with seed 0), or all",
        countOrAll("--faith-n"),
        DEFAULT_FAITH_N,
      )
      .option("--no-faith", "skip the faithfulness table")
      .option(
        "--no-share",
        "train every baseline from scratch; by default, with hlgm among the methods, each " +
          "seed's baseline is forked from its HLGM run at the switch (the same results, the " +
          "plain phase trained once)",
      )
      .addOption(
        new Option(
          "--sgt-from <where>",
          "where SGT starts: from scratch (as Table II), or forked from each seed's HLGM run " +
            "at its switch (SGT from the plateau, without HLGM's regularize epochs)",
        ).choices(["start", "switch"]).default("start"),
      )
      .option("--config <file>", "JSON file of settings (flags override it)")
      .option(
        "--keep-going",
        "exit 0 even when a run diverged (NaN/Inf loss); without it such a run is recorded as " +
          "diverged, the other runs and the tables are finished, and compare exits 1",
      ),
    ["method", "seed"], // compare takes --methods and --seeds
  ).action(async (opts) => {
    const { runCompare } = await import("../commands/compare.ts");
    await runCompare(opts, flagsToConfig(opts));
  });
}
