/**
 * The paper's set-ups as named presets (`--preset NAME`): the one table of them. Each sets the
 * model, dataset, input size, stem (patch size), optimizer, learning rate, batch size and epochs
 * of one of the paper's experiments; `--help` and the README's preset table are generated from
 * it. Settings given explicitly (flags, a --config file) override the preset's; a preset does
 * not choose the method (train baseline, SGT and HLGM with the same preset) and cannot ship
 * weights: the paper started ResNet-18 and DeiT-tiny from ImageNet weights (`imagenet` below),
 * which `--pretrained FILE` loads (and with them ImageNet's normalisation); `train --preset`
 * of such a set-up without `--pretrained` warns ({@link presetWeightsWarning}). Imports nothing
 * that loads libtorch.
 *
 * The paper's Table I (per model: learning rate, batch size, optimizer):
 *
 * | Model       | LR    | Batch Size | Opt      |
 * | ----------- | ----- | ---------- | -------- |
 * | Shallow CNN | 0.1   | 256        | Adadelta |
 * | ResNet-18   | 0.01  | 256        | SGD      |
 * | DeiT-tiny   | 0.001 | 256        | Adadelta |
 *
 * and its text: 100 epochs, batch 256, for every model. The datasets each model was trained on
 * come from Table II (CIFAR-10 / CIFAR-100 rows) and Fig. 8 / Table III (ResNet-18 on
 * Oxford-IIIT Pet).
 *
 * @module
 */

import { LIBRARY_VOCABULARY, type Vocabulary } from "../util/vocabulary.ts";
import { DEIT_PATCH, type ModelName, type Stem } from "../models/names.ts";

/** The settings a preset fixes (each a TrainConfig key). */
export interface PresetSettings {
  /** Model. */
  model: ModelName;
  /** Dataset. */
  dataset: string;
  /** Input size (the model sees imageSize x imageSize). */
  imageSize: number;
  /** Stem (resnet18, deit-tiny); absent for the shallow CNN. */
  stem?: Stem;
  /** Optimizer. */
  optimizer: "sgd" | "adadelta" | "adam" | "adamw";
  /** Learning rate. */
  lr: number;
  /** Batch size. */
  batchSize: number;
  /** Epochs. */
  epochs: number;
}

/** One preset: its name, settings, and where in the paper they come from. */
export interface Preset {
  /** The name `--preset` takes. */
  name: string;
  /** The settings. */
  settings: PresetSettings;
  /** The paper's rows these settings implement. */
  paper: string;
  /** Choices the paper leaves open, and how the preset reads them. */
  note: string;
  /**
   * Set when the paper started this model from ImageNet weights rather than random ones: the
   * file `--pretrained` should name, and the paper's words.
   */
  imagenet?: {
    /** The weights file to pass to --pretrained. */
    weights: string;
    /** The paper's sentence saying so (Section IV-B). */
    quote: string;
  };
}

const IMAGENET = {
  resnet: {
    weights: "torchvision's resnet18-f37072fd.pth",
    quote: "In this work, we used a pre-trained ResNet18 on the ImageNet dataset",
  },
  deit: {
    weights: "timm's deit_tiny_patch16_224",
    quote: "We adopted this 'tiny' configuration from the pre-trained 'deit' model",
  },
} as const;

const TABLE_I = {
  shallow: "Table I: Shallow CNN | 0.1 | 256 | Adadelta",
  resnet: "Table I: ResNet-18 | 0.01 | 256 | SGD",
  deit: "Table I: DeiT-tiny | 0.001 | 256 | Adadelta",
} as const;

const EPOCHS = 100; // "Each model was trained for 100 epochs with a batch size of 256 samples"

/** The presets, one per experiment of the paper (Table I's settings on its datasets). */
export const PRESETS: readonly Preset[] = [
  {
    name: "shallow-cnn-cifar10",
    settings: {
      model: "shallow-cnn",
      dataset: "cifar10",
      imageSize: 32,
      optimizer: "adadelta",
      lr: 0.1,
      batchSize: 256,
      epochs: EPOCHS,
    },
    paper: `${TABLE_I.shallow}; Table II: 2 Level Conv, CIFAR10; Fig. 2, 3`,
    note: "trained from scratch, at CIFAR's 32 px",
  },
  {
    name: "shallow-cnn-cifar100",
    settings: {
      model: "shallow-cnn",
      dataset: "cifar100",
      imageSize: 32,
      optimizer: "adadelta",
      lr: 0.1,
      batchSize: 256,
      epochs: EPOCHS,
    },
    paper: `${TABLE_I.shallow}; Table II: 2 Level Conv, CIFAR100; Fig. 4`,
    note: "trained from scratch, at CIFAR's 32 px",
  },
  {
    name: "resnet18-cifar100",
    settings: {
      model: "resnet18",
      dataset: "cifar100",
      imageSize: 32,
      stem: "imagenet",
      optimizer: "sgd",
      lr: 0.01,
      batchSize: 256,
      epochs: EPOCHS,
    },
    paper: `${TABLE_I.resnet}; Table II: ResNet-18, CIFAR100; Fig. 4`,
    note: "the paper starts from ImageNet weights, hence the ImageNet stem; it states a resize " +
      "to 224 px only for DeiT-tiny, so the images stay 32 px (an image size of 224 resizes " +
      "them too)",
    imagenet: IMAGENET.resnet,
  },
  {
    name: "resnet18-oxford-pet",
    settings: {
      model: "resnet18",
      dataset: "oxford-pet",
      imageSize: 224,
      stem: "imagenet",
      optimizer: "sgd",
      lr: 0.01,
      batchSize: 256,
      epochs: EPOCHS,
    },
    paper: `${TABLE_I.resnet}; Fig. 7, 8 and Table III: ResNet-18 on Oxford-IIIT Pet (SIB)`,
    note: "the paper starts from ImageNet weights and gives no input size: 224 px, " +
      "ImageNet's (the dataset's default)",
    imagenet: IMAGENET.resnet,
  },
  deitOnCifar("cifar10", "Table II: DeiT-tiny, CIFAR 10; Fig. 3"),
  deitOnCifar("cifar100", "Table II: DeiT-tiny, CIFAR 100; Fig. 5"),
];

/** DeiT-tiny on CIFAR-10 or -100, as the paper set it up (its rows: `paper`). */
function deitOnCifar(dataset: "cifar10" | "cifar100", paper: string): Preset {
  return {
    name: `deit-tiny-${dataset}`,
    settings: {
      model: "deit-tiny",
      dataset,
      imageSize: 224,
      stem: "imagenet",
      optimizer: "adadelta",
      lr: 0.001,
      batchSize: 256,
      epochs: EPOCHS,
    },
    paper: `${TABLE_I.deit}; ${paper}`,
    note: "images resized from 32 to 224 px with 16x16 patches, as the paper did for the " +
      "pretrained DeiT; the paper's text says SGD at lr 0.001 where Table I says Adadelta: " +
      "Table I is followed",
    imagenet: IMAGENET.deit,
  };
}

/** The presets' names. */
export const PRESET_NAMES: readonly string[] = PRESETS.map((p) => p.name);

/** A preset by name, or undefined. */
export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}

/**
 * The warning for a run set up by a preset the paper ran from ImageNet weights, started without
 * `pretrained` weights (from random ones, so not the paper's set-up); null otherwise, and when the
 * preset's model was overridden. The library only returns it: the CLI prints it.
 */
export function presetWeightsWarning(
  c: { preset?: string; model: string; pretrained?: string },
  v: Vocabulary = LIBRARY_VOCABULARY,
): string | null {
  const p = c.preset === undefined ? undefined : findPreset(c.preset);
  if (!p?.imagenet || c.pretrained !== undefined || c.model !== p.settings.model) return null;
  return `preset ${p.name}: the paper started ${p.settings.model} from ImageNet weights ` +
    `("${p.imagenet.quote}"); this run starts from random weights: add ` +
    `${v.settingValue("pretrained", "FILE")} (${p.imagenet.weights})`;
}

/** A preset's settings in words: "resnet18, cifar100, 32 px, imagenet stem, sgd lr 0.01, ...". */
export function describePreset(p: Preset): string {
  const s = p.settings;
  const stem = s.stem === undefined
    ? ""
    : s.model === "deit-tiny"
    ? `, ${s.stem} stem (patch ${DEIT_PATCH[s.stem]})`
    : `, ${s.stem} stem`;
  return `${s.model}, ${s.dataset}, ${s.imageSize} px${stem}, ${s.optimizer} lr ${s.lr}, ` +
    `batch ${s.batchSize}, ${s.epochs} epochs`;
}
