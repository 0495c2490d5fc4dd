/**
 * `hlgm sib`: its flags, help and examples. The action imports cli/commands/sib.ts when it runs,
 * so `--help` loads no command code.
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
  SIB_N_HELP,
  sibCheckpointOption,
} from "./options.ts";
import { DEFAULT_SIB_PERCENTS } from "../../src/metrics/sib.ts";
import { DEFAULT_SIB_N } from "../../src/runs/sib_defaults.ts";
import { SALIENCY_SIGNS } from "../../src/train/config_fields.ts";

/** Declares `hlgm sib` on `cli`. */
export function addSibCommand(cli: Command): void {
  cli.command("sib").addHelpText(
    "after",
    examples(
      "hlgm sib runs/demo/baseline runs/demo/hlgm",
      "hlgm sib runs/demo/hlgm --method integrated_gradients --n 200 --percents 1,5",
      "hlgm sib runs/demo/baseline runs/demo/hlgm --checkpoint last",
    ),
  )
    .description(
      "Saliency-In-the-Box of runs on the same test images: Table III, sib.json, box plots and " +
        "paired scatter (Fig. 8)",
    )
    .argument("<rundir...>", "run folders")
    .option(
      "--dataset <name>",
      "dataset with boxes: cluttered-fmnist or oxford-pet (default the run's)",
    )
    .option(
      "--data-dir <dir>",
      "dataset root (default the run's, else $HLGM_DATA, ~/.cache/hlgm/datasets)",
    )
    .addOption(
      new Option("--method <name>", "attribution method").choices(ATTRIBUTION_CHOICES).default(
        "saliency",
      ),
    )
    .option("--layer <name>", "gradcam layer (default conv2 for shallow-cnn, layer4 for resnet18)")
    .option("--percents <list>", "x values of SIB(x), in (0, 100]", DEFAULT_SIB_PERCENTS.join(","))
    .option(
      "--n <n>",
      `test images (drawn among those with a box), ${SIB_N_HELP}`,
      countOrAll("--n"),
      DEFAULT_SIB_N,
    )
    .option(
      "--seed <n>",
      "seed of the image draw (and SmoothGrad's noise)",
      nonNegativeInt("--seed"),
      0,
    )
    .addOption(sibCheckpointOption())
    .addOption(
      new Option(
        "--saliency-sign <how>",
        "what SIB ranks: as each run was trained (run: its --saliency-sign; a signed run's top " +
          "x% are its most positive pixels), or every run by |attribution| (abs, Captum's " +
          "Saliency default) or by the signed attribution (signed); the output names a run " +
          "not scored as trained",
      ).choices(["run", ...SALIENCY_SIGNS]).default("run"),
    )
    .option("--device <name>", "auto, cpu, cuda or cuda:N", device, "auto")
    .option("--out <dir>", "output folder (default ./sib-<timestamp>)")
    .addOption(reductionOption())
    .option("--batch-size <n>", "images per batch", positiveInt("--batch-size"), 100)
    .option("--scatter-n <n>", "images in the paired scatter", positiveInt("--scatter-n"), 120)
    .action(async (runDirs: string[], opts) => {
      const { runSib } = await import("../commands/sib.ts");
      await runSib(runDirs, opts);
    });
}
