/**
 * `hlgm saliency`: its flags, help and examples. The action imports cli/commands/saliency.ts when
 * it runs, so `--help` loads no command code.
 *
 * @module
 */

import { type Command, Option } from "commander";
import {
  ATTRIBUTION_CHOICES,
  checkpointOption,
  colormapOption,
  device,
  examples,
  nonNegativeInt,
  positiveInt,
  reductionOption,
} from "./options.ts";

/** Declares `hlgm saliency` on `cli`. */
export function addSaliencyCommand(cli: Command): void {
  cli.command("saliency").addHelpText(
    "after",
    examples(
      "hlgm saliency runs/demo/hlgm --indices 0,1,2",
      "hlgm saliency runs/demo/hlgm --n 6 --method gradcam --colormap hot --out gradcam.png",
    ),
  )
    .description(
      "the saliency figure (PNG): image, heat map, blended and top-x% mask for each test image, " +
        "with the object's box",
    )
    .argument("<rundir>", "run folder")
    .option("--dataset <name>", "dataset (default the run's)")
    .option(
      "--data-dir <dir>",
      "dataset root (default the run's, else $HLGM_DATA, ~/.cache/hlgm/datasets)",
    )
    .option("--indices <list>", "test images to show, e.g. 0,1,2")
    .option(
      "--n <n>",
      "random test images to show (when --indices is not given)",
      positiveInt("--n"),
      8,
    )
    .option("--seed <n>", "seed of the random choice", nonNegativeInt("--seed"), 0)
    .addOption(
      new Option("--method <name>", "attribution method").choices(ATTRIBUTION_CHOICES).default(
        "saliency",
      ),
    )
    .option("--layer <name>", "gradcam layer")
    .option("--percent <x>", "x of the top-x% mask, in (0, 100]", "10")
    .option("--out <file>", "PNG file to write", "saliency.png")
    .addOption(checkpointOption())
    .option("--device <name>", "auto, cpu, cuda or cuda:N", device, "auto")
    .addOption(reductionOption())
    .addOption(colormapOption())
    .option("--scale <n>", "whole-pixel upscaling of the panels", positiveInt("--scale"))
    .action(async (runDir: string, opts) => {
      const { runSaliency } = await import("../commands/saliency.ts");
      await runSaliency(runDir, opts);
    });
}
