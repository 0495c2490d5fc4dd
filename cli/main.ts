/**
 * The hlgm command line: `deno run -A cli/main.ts <command> [flags]`. This file only parses
 * arguments (each command declares its flags in cli/flags/) and calls the commands in
 * cli/commands/, which call src/. The native library is
 * loaded only by commands that need it, so `--help` works without libtorch.
 *
 * Exit codes: 0 success, 1 failure while running (a run that diverged included; compare and
 * sweep unless --keep-going), 2 bad usage (unknown command or flag, invalid value, a path flag
 * naming nothing usable, found before any work starts).
 *
 * @module
 */

import { Command, CommanderError, type Option } from "commander";
import { VERSION } from "../src/version.ts";
import { UsageError } from "./errors.ts";
import { cliMessage } from "./flag_vocabulary.ts";
import { InterruptedError } from "../src/util/event_loop.ts";
import { examples } from "./flags/options.ts";
import { addInfoCommand } from "./flags/info.ts";
import { addTrainCommand } from "./flags/train.ts";
import { addRunsCommand } from "./flags/runs.ts";
import { addEvalCommand } from "./flags/eval.ts";
import { addDemoCommand } from "./flags/demo.ts";
import { addDataCommand } from "./flags/data.ts";
import { addSibCommand } from "./flags/sib.ts";
import { addFaithCommand } from "./flags/faith.ts";
import { addSaliencyCommand } from "./flags/saliency.ts";
import { addReportCommand } from "./flags/report.ts";
import { addCompareCommand } from "./flags/compare.ts";
import { addSweepCommand } from "./flags/sweep.ts";

export { UsageError };

/**
 * An option's help line, one way for every command: the description, its choices (unless the
 * description lists them) and "(default X)" (unless it already says).
 */
function describeOption(o: Option): string {
  let text = o.description;
  if (o.argChoices && !text.includes(o.argChoices.join(", "))) {
    text += `: ${o.argChoices.join(", ")}`;
  }
  const given = o.defaultValueDescription ?? o.defaultValue;
  if (given !== undefined && typeof given !== "boolean" && !text.includes("(default ")) {
    text += ` (default ${given})`;
  }
  return text;
}

/** Every command, in the order `--help` lists them; each declares its own flags (cli/flags/). */
const COMMANDS: ((cli: Command) => void)[] = [
  addInfoCommand,
  addTrainCommand,
  addRunsCommand,
  addEvalCommand,
  addDemoCommand,
  addDataCommand,
  addSibCommand,
  addFaithCommand,
  addSaliencyCommand,
  addReportCommand,
  addCompareCommand,
  addSweepCommand,
];

/** The command line, for `main` and for tests that walk its commands and their help. */
export function program(): Command {
  const cli = new Command("hlgm")
    .description(
      "Saliency-guided training (baseline, SGT, HLGM) of image classifiers on libtorch.",
    )
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    // one line: the error and commander's "(Did you mean ...?)"
    .configureOutput({
      outputError: (text, write) =>
        write(text.trim().split("\n").map((l) => l.trim()).join(" ") + "\n"),
    })
    .configureHelp({ optionDescription: describeOption })
    .addHelpText(
      "after",
      examples(
        "hlgm demo",
        "hlgm train --dataset fashion-mnist --epochs 30 --switch-epoch 15",
        "hlgm sib runs/demo/baseline runs/demo/hlgm && hlgm report runs/demo/baseline runs/demo/hlgm",
      ),
    );

  for (const add of COMMANDS) add(cli);
  return cli;
}

/** Runs the CLI on `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    await program().parseAsync(args, { from: "user" });
    return Deno.exitCode; // a command may set it (130/143 after Ctrl-C or SIGTERM, 1 on divergence)
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every parse error was already printed as one line
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InterruptedError) {
      console.error(e.message); // where things stand and how to go on
      return Deno.exitCode || 130;
    }
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    // the engine's advice in the CLI's words: flags, --force, `hlgm train --resume DIR`
    console.error(`error: ${cliMessage(e)}`);
    if (Deno.env.get("HLGM_DEBUG") && e instanceof Error) console.error(e.stack);
    return Deno.exitCode || 1; // 130/143 when a signal stopped the work
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
