/**
 * What a run's config turns into, one function each, for the trainer and for everything that
 * opens a run later (eval, SIB, saliency, the report): its splits, its transforms, its model.
 *
 * @module
 */

import { type ImageDataset, randomSubset, splitTrainVal } from "../data/dataset.ts";
import type { Transforms } from "../data/loader.ts";
import { loadDataset } from "../data/registry.ts";
import { syntheticSplit } from "../data/synthetic.ts";
import { createModel, type Model } from "../models/factory.ts";
import type { Device } from "../tensor/device.ts";
import type { TrainConfig } from "./config.ts";

/** Loads train (+ validation carved from it) and test splits for a config. */
export async function loadSplits(
  c: TrainConfig,
): Promise<{ train: ImageDataset; val: ImageDataset | null; test: ImageDataset }> {
  let train: ImageDataset;
  let test: ImageDataset;
  if (c.dataset === "synthetic") {
    train = syntheticSplit("train", c.subset, c.seed);
    test = syntheticSplit("test");
  } else {
    // generated datasets (cluttered-fmnist) use their fixed default seed: every run sees the same images
    const opts = { dataDir: c.dataDir, canvas: c.canvas };
    train = await loadDataset(c.dataset, { ...opts, split: "train" });
    test = await loadDataset(c.dataset, { ...opts, split: "test" });
  }
  if (c.subset !== undefined) train = randomSubset(train, c.subset, c.seed);
  const { train: tr, val } = splitTrainVal(train, c.valFraction, c.seed + 1);
  return { train: tr, val, test };
}

/**
 * The test split of a config alone (no training data loaded): what the trainer evaluates on,
 * for the run's data dir (or `dataDir`) and canvas.
 */
export async function loadTestSplit(
  config: TrainConfig,
  options: { dataDir?: string } = {},
): Promise<ImageDataset> {
  if (config.dataset === "synthetic") return syntheticSplit("test");
  return await loadDataset(config.dataset, {
    dataDir: options.dataDir ?? config.dataDir,
    split: "test",
    canvas: config.canvas,
  });
}

/** Training-time transforms: augmentation (default on for CIFAR and Oxford pets) and resize. */
export function trainTransforms(c: TrainConfig, ds: ImageDataset): Transforms {
  const augment = c.augment ?? (ds.name.startsWith("cifar") || ds.name === "oxford-pet");
  const t: Transforms = { ...evalTransforms(c, ds) };
  if (augment && ds.name.startsWith("cifar")) t.randomCropPadding = 4;
  if (augment) t.horizontalFlip = true;
  return t;
}

/** Evaluation transforms: a resize when the config's image size differs from the data's. */
export function evalTransforms(c: Pick<TrainConfig, "imageSize">, ds: ImageDataset): Transforms {
  const size = c.imageSize;
  return size !== undefined && (size !== ds.height || size !== ds.width) ? { resize: size } : {};
}

/** The shape of a run's inputs and its class count. */
export interface RunInputs {
  /** Input channels. */
  channels: number;
  /** Side of the square inputs the model sees. */
  imageSize: number;
  /** Number of classes. */
  classes: number;
}

/**
 * The model of a run, freshly initialised: ResNet-18 takes the CIFAR stem at 64 pixels and
 * below, DeiT patches of 16 from 224 pixels on (else 4).
 */
export function createRunModel(
  c: Pick<TrainConfig, "model">,
  inputs: RunInputs,
  device: Device,
): Model {
  return createModel(c.model, {
    numClasses: inputs.classes,
    inChannels: inputs.channels,
    imageSize: inputs.imageSize,
    cifarStem: c.model === "resnet18" && inputs.imageSize <= 64,
    patchSize: inputs.imageSize >= 224 ? 16 : 4,
    device,
  });
}
