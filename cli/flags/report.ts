/**
 * `hlgm report`: its flags, help and examples. The action imports cli/commands/report.ts when it
 * runs, so `--help` loads no command code.
 *
 * @module
 */

import type { Command } from "commander";
import { checkpointOption, colormapOption, device, examples, positiveInt } from "./options.ts";

/** Declares `hlgm report` on `cli`. */
export function addReportCommand(cli: Command): void {
  cli.command("report").addHelpText(
    "after",
    examples(
      "hlgm report runs/demo/hlgm",
      "hlgm report runs/demo/baseline runs/demo/hlgm --out report",
    ),
  )
    .description(
      "HTML report of run folders: summary, accuracy/loss curves with the phases shaded, " +
        "saliency figures, SIB plots (where sib.json exists)",
    )
    .argument("<rundir...>", "run folders or sweep folders")
    .option(
      "--out <dir>",
      "output folder (default RUNDIR/report for one run, ./report for several)",
    )
    .option("--n <n>", "test images in the saliency figures (the first N)", positiveInt("--n"), 8)
    .option("--device <name>", "auto, cpu, cuda or cuda:N", device, "auto")
    .option("--data-dir <dir>", "dataset root, if it moved since training")
    .addOption(colormapOption())
    .addOption(checkpointOption())
    .option("--no-saliency", "leave the saliency figures out (no weights or data needed)")
    .action(async (runDirs: string[], opts) => {
      const { runReport } = await import("../commands/report.ts");
      await runReport(runDirs, opts);
    });
}
