/**
 * `hlgm runs`: its flags, help and examples. The action imports cli/commands/runs.ts when it runs,
 * so `--help` loads no command code.
 *
 * @module
 */

import type { Command } from "commander";
import { examples } from "./options.ts";

/** Declares `hlgm runs` on `cli`. */
export function addRunsCommand(cli: Command): void {
  cli.command("runs").addHelpText(
    "after",
    examples("hlgm runs", "hlgm runs runs/compare-cluttered-fmnist-shallow-cnn --json"),
  )
    .description("list the run folders under DIR: method, model, dataset, epochs, accuracy, status")
    .argument("[dir]", "folder to search (default runs)")
    .option("--json", "print JSON")
    .action(async (dir: string | undefined, opts: { json?: boolean }) => {
      const { runRuns } = await import("../commands/runs.ts");
      runRuns(dir, opts);
    });
}
