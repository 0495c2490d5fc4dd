/**
 * `hlgm faith`: its flags, help and examples. The action imports cli/commands/faith.ts when it
 * runs, so `--help` loads no command code.
 *
 * @module
 */

import { type Command, Option } from "commander";
import {
  ATTRIBUTION_CHOICES,
  countOrAll,
  device,
  examples,
  nonNegativeInt,
  positiveInt,
  reductionOption,
  sibCheckpointOption,
} from "./options.ts";
import {
  DEFAULT_FAITH_METRICS,
  DEFAULT_FAITH_N,
  FAITH_METRICS,
} from "../../src/runs/faith_defaults.ts";
import { SALIENCY_SIGNS } from "../../src/train/config_fields.ts";

/** Declares `hlgm faith` on `cli`. */
export function addFaithCommand(cli: Command): void {
  cli.command("faith").addHelpText(
    "after",
    examples(
      "hlgm faith runs/demo/baseline runs/demo/hlgm",
      "hlgm faith runs/c10/baseline runs/c10/hlgm --metrics deletion,insertion --n all",
      "hlgm faith runs/demo/hlgm --method integrated_gradients --n 200",
    ),
  )
    .description(
      "faithfulness of runs' saliency maps on the same test images (no boxes needed): deletion " +
        "and insertion AUC, AOPC (MoRF, LeRF), infidelity, max-sensitivity and the model-" +
        "randomisation check; a table of means with 95% intervals and paired differences from " +
        "the first run, faith.json, curve plots",
    )
    .argument("<rundir...>", "run folders (the first is the one the others are compared with)")
    .option("--dataset <name>", "dataset to score on (default the first run's)")
    .option(
      "--data-dir <dir>",
      "dataset root (default the run's, else $HLGM_DATA, ~/.cache/hlgm/datasets)",
    )
    .addOption(
      new Option("--metrics <list>", `comma-separated scores: ${FAITH_METRICS.join(", ")}`)
        .default(DEFAULT_FAITH_METRICS.join(",")),
    )
    .addOption(
      new Option("--method <name>", "attribution method").choices(ATTRIBUTION_CHOICES).default(
        "saliency",
      ),
    )
    .option("--layer <name>", "gradcam layer (default conv2 for shallow-cnn, layer4 for resnet18)")
    .option(
      "--n <n>",
      "test images, drawn with the seed, or all",
      countOrAll("--n"),
      DEFAULT_FAITH_N,
    )
    .option("--seed <n>", "seed of the image draw and of every noise", nonNegativeInt("--seed"), 0)
    .addOption(sibCheckpointOption())
    .addOption(
      new Option(
        "--saliency-sign <how>",
        "what is ranked: as each run was trained (run), or every run by |attribution| (abs) or " +
          "by the signed attribution (signed)",
      ).choices(["run", ...SALIENCY_SIGNS]).default("run"),
    )
    .option("--device <name>", "auto, cpu, cuda or cuda:N", device, "auto")
    .option("--out <dir>", "output folder (default ./faith-<timestamp>)")
    .addOption(reductionOption())
    .option("--batch-size <n>", "images per batch", positiveInt("--batch-size"), 100)
    .action(async (runDirs: string[], opts) => {
      const { runFaith } = await import("../commands/faith.ts");
      await runFaith(runDirs, opts);
    });
}
