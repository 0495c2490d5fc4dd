/**
 * The flags of `train` (also used by `compare` and `demo`): parsed loosely here, then merged
 * over the defaults and a --config file and validated as a whole by src/train/config.ts.
 *
 * @module
 */

import type { Command } from "commander";

/** Adds every training flag to a command. No defaults here: unset flags keep config values. */
export function addTrainFlags(c: Command): Command {
  const num = (v: string) => Number(v);
  const int = (v: string) => (/^-?\d+$/.test(v) ? Number(v) : NaN);
  return c
    .option("--method <name>", "baseline, sgt or hlgm (default hlgm)")
    .option("--model <name>", "shallow-cnn, resnet18 or deit-tiny (default shallow-cnn)")
    .option(
      "--dataset <name>",
      "fashion-mnist, mnist, cifar10, cifar100, oxford-pet, cluttered-fmnist, synthetic",
    )
    .option("--data-dir <dir>", "dataset root (else $HLGM_DATA, ~/.cache/hlgm/datasets)")
    .option("--epochs <n>", "epochs (default 100)", int)
    .option("--batch-size <n>", "batch size (default 256)", int)
    .option("--optimizer <name>", "sgd, adadelta, adam, adamw (default per model, Table I)")
    .option("--lr <x>", "learning rate (default per model, Table I)", num)
    .option("--momentum <x>", "SGD momentum (default 0.9)", num)
    .option("--weight-decay <x>", "weight decay (default 0)", num)
    .option("--subset <n>", "train on N random training images", int)
    .option("--val-fraction <x>", "validation share carved from train (default 0.1)", num)
    .option("--device <name>", "auto, cpu, cuda or cuda:N (default auto)")
    .option("--seed <n>", "seed (default 0)", int)
    .option("--lambda <x>", "KL weight (default 1.0)", num)
    .option("--k-bottom <x>", "fraction masked at the bottom (default 0.5)", num)
    .option("--k-top <x>", "initial fraction masked at the top (default 0.2)", num)
    .option("--alpha <x>", "drop of k-top per regularize epoch (default 0.02)", num)
    .option("--episode-size <n>", "SGT episode size S (default 5)", int)
    .option("--de <n>", "denoising epochs in the first episode (default 1)", int)
    .option("--patience <n>", "plateau patience in epochs (default 20)", int)
    .option("--monitor <name>", "val_acc, val_loss or train_loss (default val_acc)")
    .option(
      "--switch-epoch <n>",
      "plain epochs before HLGM's SGT phase (instead of the plateau)",
      int,
    )
    .option("--saliency <name>", "saliency, input_x_gradient, integrated_gradients, smoothgrad")
    .option("--reduction <name>", "channel reduction: mean, sum, max (default mean)")
    .option("--fill <name>", "mask fill: random, zero, mean (default random)")
    .option("--image-size <n>", "resize inputs to N x N", int)
    .option("--canvas <n>", "cluttered-fmnist canvas size (default 64)", int)
    .option("--augment", "random crop/flip augmentation (default: CIFAR and Oxford Pet)")
    .option("--no-augment", "no augmentation");
}

/** The config fields set by flags (undefined = not given). */
export function flagsToConfig(o: Record<string, unknown>): Record<string, unknown> {
  const keys = [
    "method",
    "model",
    "dataset",
    "dataDir",
    "epochs",
    "batchSize",
    "optimizer",
    "lr",
    "momentum",
    "weightDecay",
    "subset",
    "valFraction",
    "device",
    "seed",
    "lambda",
    "kBottom",
    "kTop",
    "alpha",
    "episodeSize",
    "de",
    "patience",
    "monitor",
    "switchEpoch",
    "saliency",
    "reduction",
    "fill",
    "imageSize",
    "augment",
  ];
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
