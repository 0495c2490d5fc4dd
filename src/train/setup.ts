/**
 * What a run's config turns into, one function each, for the trainer and for everything that
 * opens a run later (eval, SIB, saliency, the report): its splits, its transforms, its model.
 *
 * @module
 */

import { resolve } from "node:path";
import { type ImageDataset, splitTrainVal } from "../data/dataset.ts";
import type { Transforms } from "../data/loader.ts";
import { loadDataset } from "../data/registry.ts";
import { syntheticSplit } from "../data/synthetic.ts";
import { loadWeightsFile } from "../checkpoint/weights_file.ts";
import { assertFiniteWeights } from "../checkpoint/finite.ts";
import {
  createModel,
  headPrefix,
  loadPretrained,
  type Model,
  WeightsMismatchError,
} from "../models/factory.ts";
import { autoStem, DEIT_PATCH, type Stem } from "../models/names.ts";
import type { Device } from "../tensor/device.ts";
import type { TrainConfig } from "./config.ts";
import type { PretrainedLoad } from "../run_folder/mod.ts";
import { withRunNormalization } from "./normalization.ts";
import { SettingError, type Vocabulary } from "../util/vocabulary.ts";

export type { PretrainedLoad };

/**
 * Loads train (+ validation carved from it) and test splits for a config, each normalised as
 * the run normalises ({@link withRunNormalization}: ImageNet's statistics or the dataset's).
 */
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
    // --subset is taken while loading: a generated dataset makes only the images the run uses
    const subset = c.subset === undefined ? undefined : { count: c.subset, seed: c.seed };
    train = await loadDataset(c.dataset, { ...opts, split: "train", subset });
    test = await loadDataset(c.dataset, { ...opts, split: "test" });
  }
  for (const ds of [train, test]) {
    if (ds.n === 0) throw new RangeError(`${c.dataset}: the ${ds.split} split has no images`);
  }
  const { train: tr, val } = splitTrainVal(train, c.valFraction, c.seed + 1);
  const normalized = (ds: ImageDataset) => withRunNormalization(c, ds);
  return { train: normalized(tr), val: val && normalized(val), test: normalized(test) };
}

/**
 * The test split of a config alone (no training data loaded): what the trainer evaluates on,
 * for the run's data dir (or `dataDir`) and canvas, with the dataset's own statistics (several
 * runs may share it: each loader of a run takes {@link withRunNormalization} of it).
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

/** The stem of a run's model: the config's, else the automatic choice for the input size. */
export function runStem(c: Pick<TrainConfig, "model" | "stem">, imageSize: number): Stem {
  return c.stem ?? autoStem(c.model, imageSize);
}

/**
 * The model of a run, freshly initialised, with the config's stem (`stem`; by default
 * resnet18 takes the CIFAR stem at 64 pixels and below, deit-tiny patches of 16 from 224 pixels
 * on, else 4). It never loads the config's `pretrained` weights: the trainer does that when a
 * run starts ({@link loadRunPretrained}); a resumed or finished run loads its checkpoint.
 */
export function createRunModel(
  c: Pick<TrainConfig, "model" | "stem">,
  inputs: RunInputs,
  device: Device,
): Model {
  const stem = runStem(c, inputs.imageSize);
  const patchSize = DEIT_PATCH[stem];
  if (c.model === "deit-tiny" && inputs.imageSize % patchSize !== 0) {
    throw new SettingError(
      ["imageSize", "stem"],
      (v) =>
        `deit-tiny with the ${stem} stem cuts ${patchSize}x${patchSize} patches: the image ` +
        `size must be a multiple of ${patchSize}, got ${inputs.imageSize} (use ` +
        `${v.setting("imageSize")} or the other ${v.setting("stem")})`,
    );
  }
  return createModel(c.model, {
    numClasses: inputs.classes,
    inChannels: inputs.channels,
    imageSize: inputs.imageSize,
    cifarStem: c.model === "resnet18" && stem === "cifar",
    patchSize,
    device,
  });
}

/** Why a model and a file's weights do not fit, when a common cause explains it, or "". */
function mismatchHint(
  e: WeightsMismatchError,
  c: Pick<TrainConfig, "model">,
  inputs: RunInputs,
  stem: Stem,
  v: Vocabulary,
): string {
  const hints: string[] = [];
  const m = (key: string) => e.shapeMismatches.find((s) => s.key === key);
  const first = m("conv1.weight") ?? m("patch_embed.proj.weight");
  if (first && first.expected[1] !== first.got[1]) {
    hints.push(
      `the file's model takes ${first.got[1]} input channels, the data has ${first.expected[1]}`,
    );
  }
  if (first && first.expected[2] !== first.got[2]) {
    const other: Stem = stem === "imagenet" ? "cifar" : "imagenet";
    const size = c.model === "deit-tiny"
      ? ` (with an image size the file's position embedding fits)`
      : "";
    hints.push(
      `the file's first layer has ${first.got[2]}x${first.got[3]} kernels, the ${other} ` +
        `stem's: use ${v.settingValue("stem", other)}${size}`,
    );
  }
  const pos = m("pos_embed");
  if (pos && (!first || first.expected[2] === first.got[2])) {
    hints.push(
      `the file's position embedding has ${pos.got[1] - 1} patches, the model's ` +
        `${pos.expected[1] - 1} (${inputs.imageSize} px in ${DEIT_PATCH[stem]}x` +
        `${DEIT_PATCH[stem]} patches): use the file's image size (${v.setting("imageSize")})`,
    );
  }
  return hints.join("; ");
}

async function sha256Hex(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Loads the config's `pretrained` file into a freshly made run model (strictly; see
 * loadPretrained: a head with another class count stays freshly initialised, noted). Returns
 * null when the config names no file. Errors name the file, every key that does not fit and
 * its expected and found shapes, with a hint for the usual causes (stem, channels, image size).
 */
export async function loadRunPretrained(
  model: Model,
  c: Pick<TrainConfig, "model" | "stem" | "pretrained">,
  inputs: RunInputs,
  device: Device,
): Promise<PretrainedLoad | null> {
  if (c.pretrained === undefined) return null;
  const file = resolve(c.pretrained);
  const { format, tensors } = loadWeightsFile(file, { device });
  const head = headPrefix(model);
  const fileHead = [...tensors.keys()].filter((k) => head !== "" && k.startsWith(head));
  const fileClasses = tensors.get(`${head}weight`)?.shape[0];
  let missing: string[];
  try {
    assertFiniteWeights(tensors, `pretrained ${file}`);
    missing = loadPretrained(model, tensors).missingKeys;
  } catch (e) {
    if (!(e instanceof WeightsMismatchError)) throw e;
    const stem = runStem(c, inputs.imageSize);
    const what = c.model === "shallow-cnn" ? c.model : `${c.model} with the ${stem} stem`;
    throw new WeightsMismatchError(
      `pretrained ${file} does not fit ${what}, ${inputs.channels} input ` +
        `channel${inputs.channels === 1 ? "" : "s"}, ${inputs.imageSize} px, ` +
        `${inputs.classes} classes`,
      e,
      (v) => mismatchHint(e, c, inputs, stem, v),
    );
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  const headReplaced = missing.filter((k) => head !== "" && k.startsWith(head));
  const kept = missing.filter((k) => !headReplaced.includes(k));
  const loaded = tensors.size - (headReplaced.length ? fileHead.length : 0);
  const sha256 = await sha256Hex(file);
  let note = `pretrained: ${loaded} tensors from ${file} (${format}, sha256 ${
    sha256.slice(0, 12)
  })`;
  if (headReplaced.length) {
    note += `; its classifier has ${fileClasses} classes, the data ${inputs.classes}: ` +
      `${headReplaced.join(", ")} left freshly initialised`;
  }
  if (kept.length) {
    note += `; ${kept.length} BatchNorm num_batches_tracked counters absent from the file ` +
      `stay 0`;
  }
  return { file, format, sha256, loaded, headReplaced, kept, note };
}
