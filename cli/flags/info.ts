/**
 * `hlgm info`: its flags, help and examples. The action imports cli/commands/info.ts when it runs,
 * so `--help` loads no command code.
 *
 * @module
 */

import type { Command } from "commander";
import { examples } from "./options.ts";

/** Declares `hlgm info` on `cli`. */
export function addInfoCommand(cli: Command): void {
  cli.command("info").addHelpText("after", examples("hlgm info", "hlgm info --json"))
    .description("show the libtorch version, CUDA devices, threads and the shim's path")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const { runInfo } = await import("../commands/info.ts");
      runInfo(opts);
    });
}
