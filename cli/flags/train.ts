/**
 * `hlgm train`: its flags, help and examples. The action imports cli/commands/train.ts when it
 * runs, so `--help` loads no command code.
 *
 * @module
 */

import type { Command } from "commander";
import { examples, positiveInt } from "./options.ts";
import { addTrainFlags, flagsToConfig, presetHelp } from "./settings.ts";
import { DEFAULT_DIST_TIMEOUT_MS } from "../../src/train/distributed.ts";
import { DEFAULT_BUCKET_BYTES } from "../../src/tensor/distributed.ts";

/** Declares `hlgm train` on `cli`. */
export function addTrainCommand(cli: Command): void {
  addTrainFlags(
    cli.command("train").addHelpText(
      "after",
      presetHelp() + examples(
        "hlgm train --dataset fashion-mnist --epochs 30 --switch-epoch 15",
        "hlgm train --method sgt --model resnet18 --dataset cifar10 --epochs 50 --device cuda",
        "hlgm train --preset resnet18-cifar100 --pretrained resnet18-f37072fd.pth --device cuda",
        "hlgm train --resume runs/fashion-mnist-shallow-cnn-hlgm-seed0-20261129-101500",
        "hlgm train --nproc 2 --out runs/fm-2ranks",
        "hlgm train --fork runs/fm-hlgm@switch --method baseline --out runs/fm-baseline-from-switch",
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
        "--fork <run[@epoch]>",
        "a new run (--out) from another run's whole state after one of its epochs: @N (one it " +
          "kept: --keep-every), @switch (hlgm's last plain epoch) or its last (no @); flags " +
          "may change the method, masking and schedule, --epochs, precision and device",
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
    const { runTrain } = await import("../commands/train.ts");
    await runTrain(opts, flagsToConfig(opts));
  });
}
