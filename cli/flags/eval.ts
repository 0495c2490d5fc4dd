/**
 * `hlgm eval`: its flags, help and examples. The action imports cli/commands/eval.ts when it runs,
 * so `--help` loads no command code.
 *
 * @module
 */

import { type Command, Option } from "commander";
import { checkpointOption, device, examples } from "./options.ts";

/** Declares `hlgm eval` on `cli`. */
export function addEvalCommand(cli: Command): void {
  cli.command("eval").addHelpText(
    "after",
    examples(
      "hlgm eval runs/demo/hlgm",
      "hlgm eval runs/demo/hlgm --checkpoint last --split val --json",
    ),
  )
    .description("accuracy and loss of a run's checkpoint on a split")
    .argument("<rundir>", "run folder")
    .addOption(checkpointOption())
    .addOption(
      new Option("--split <name>", "test, val or train").choices(["test", "val", "train"]).default(
        "test",
      ),
    )
    .option("--device <name>", "auto, cpu, cuda or cuda:N", device, "auto")
    .option("--data-dir <dir>", "dataset root, if it moved since training")
    .option("--json", "print JSON")
    .action(async (runDir: string, opts) => {
      const { runEval } = await import("../commands/eval.ts");
      await runEval(runDir, opts);
    });
}
