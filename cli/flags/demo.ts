/**
 * `hlgm demo`: its flags, help and examples. The action imports cli/commands/demo.ts when it runs,
 * so `--help` loads no command code.
 *
 * @module
 */

import type { Command } from "commander";
import { examples } from "./options.ts";
import { addTrainFlags, flagsToConfig } from "./settings.ts";

/** Declares `hlgm demo` on `cli`. */
export function addDemoCommand(cli: Command): void {
  addTrainFlags(
    cli.command("demo").addHelpText(
      "after",
      examples("hlgm demo", "hlgm demo --epochs 12 --out runs/demo-long"),
    )
      .description(
        "the quick-start job: baseline and HLGM on a compressed schedule showing every phase, " +
          "then SIB and the report",
      )
      .option("--out <dir>", "demo folder (default runs/demo)"),
    ["method"], // the demo trains baseline and hlgm
  ).action(async (opts) => {
    const { runDemo } = await import("../commands/demo.ts");
    await runDemo(opts, flagsToConfig(opts));
  });
}
