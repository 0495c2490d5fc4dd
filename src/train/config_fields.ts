/**
 * The one table of training settings ({@link SETTINGS}), a row per setting, and the name lists
 * its rows choose from. TrainConfig is derived from it (config.ts), and so are the defaults,
 * the per-setting checks, the CLI's flags, the `--config` file checks and the README's flag
 * list (scripts/readme-flags.ts); setting_rows.ts holds what a row declares and how each is
 * derived. Imports nothing that loads libtorch.
 *
 * @module
 */

import { MODEL_NAMES, STEMS } from "../models/names.ts";
import { PRESET_NAMES } from "./presets.ts";
import {
  choice,
  type ConfigField,
  type EarlierSettings,
  fieldsOf,
  flag,
  flagName,
  int,
  named,
  num,
  path,
  type SettingsTable,
  text,
} from "./setting_rows.ts";

export {
  type Always,
  type ConfigField,
  type EarlierSettings,
  flagName,
  type Flat,
  integerOf,
  type SettingKind,
  type SettingRow,
  type SettingsOf,
  type SettingsTable,
  type SettingValue,
  type ValueOfRow,
} from "./setting_rows.ts";

/** Optimizer names. */
export const OPTIMIZERS = ["sgd", "adadelta", "adam", "adamw"] as const;
/** Dataset names the trainer accepts. */
export const TRAIN_DATASETS = [
  "fashion-mnist",
  "mnist",
  "cifar10",
  "cifar100",
  "oxford-pet",
  "cluttered-fmnist",
  "synthetic",
] as const;
/** Saliency methods usable for masking. */
export const MASK_SALIENCY = [
  "saliency",
  "input_x_gradient",
  "integrated_gradients",
  "smoothgrad",
] as const;
/** Training methods. */
export const METHODS = ["baseline", "sgt", "hlgm"] as const;
/** Plateau monitors. */
export const MONITORS = ["val_acc", "val_loss", "train_loss"] as const;
/** Channel reductions of attributions. */
export const REDUCTIONS = ["mean", "sum", "max"] as const;
/**
 * Mask fills: uniform in each sample's [min, max] over all channels (`random`), zero, the
 * sample's mean, or uniform in each channel's own [min, max] (`random-channel`, SGT's CIFAR code).
 */
export const FILLS = ["random", "zero", "mean", "random-channel"] as const;
/** What masking ranks: |attribution| reduced over channels, or the signed reduction. */
export const SALIENCY_SIGNS = ["abs", "signed"] as const;
/** How HLGM's episodes split into regularize and denoise epochs: the prose's or Algorithm 2's. */
export const EPISODE_ORDERS = ["prose", "pseudocode"] as const;

/**
 * Numeric precision of training: float32 throughout, or libtorch's autocast to bfloat16 (CPU and
 * CUDA) or float16 (CUDA, with loss scaling), weights and optimizer state kept in float32.
 */
export const PRECISIONS = ["fp32", "bf16-mixed", "fp16-mixed"] as const;

/** When k-top falls by alpha: after each regularize epoch, or before its masking. */
export const K_TOP_DECAYS = ["after", "before"] as const;

/**
 * The statistics inputs are normalised with: the dataset's own per-channel mean and std, or
 * ImageNet's (mean 0.485 0.456 0.406, std 0.229 0.224 0.225), which ImageNet weights expect.
 */
export const NORMALIZATIONS = ["dataset", "imagenet"] as const;

/** Paper defaults (Table I) per model: optimizer and learning rate. */
export const MODEL_DEFAULTS: Readonly<
  Record<string, { optimizer: typeof OPTIMIZERS[number]; lr: number }>
> = {
  "shallow-cnn": { optimizer: "adadelta", lr: 0.1 },
  "resnet18": { optimizer: "sgd", lr: 0.01 },
  "deit-tiny": { optimizer: "adadelta", lr: 0.001 },
};

const modelDefaults = (s: EarlierSettings) =>
  MODEL_DEFAULTS[s.model as string] ?? MODEL_DEFAULTS["shallow-cnn"];

/** Models whose pretrained weights are ImageNet's (torchvision's resnet18, timm's DeiT-tiny). */
const IMAGENET_MODELS: readonly string[] = ["resnet18", "deit-tiny"];

/**
 * The normalisation a new run takes when none is given: ImageNet's statistics when it starts
 * from weights of a model the paper took from ImageNet (resnet18, deit-tiny), the dataset's own
 * otherwise (from scratch, or the shallow CNN, which has no ImageNet weights).
 */
export function defaultNormalization(
  c: { model?: unknown; pretrained?: unknown },
): typeof NORMALIZATIONS[number] {
  return c.pretrained !== undefined && IMAGENET_MODELS.includes(c.model as string)
    ? "imagenet"
    : "dataset";
}

/** The largest finite float32: the KL weight is applied in float32, so a larger lambda is +Inf. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Every training setting, in the order help lists them: its kind, allowed values or range,
 * default (a value, or derived from the settings before it), help, and the paper's line where
 * it interprets one. {@link TrainConfig}, defaultConfig(), the per-setting checks, the CLI's
 * flags, the `--config` file checks and the README's list all derive from it.
 */
export const SETTINGS = {
  /** The paper's set-up the settings started from (presets.ts); explicit settings override it. */
  preset: named(PRESET_NAMES, {
    help: "one of the paper's set-ups (Table I): model, dataset, image size, stem, optimizer, " +
      "lr, batch size and epochs in one (listed below); settings given explicitly override it",
    defaultText: "none",
  }),
  /** baseline, sgt or hlgm. */
  method: choice(METHODS, { help: "training method", default: "hlgm", forkable: true }),
  /** shallow-cnn, resnet18 or deit-tiny. */
  model: named(MODEL_NAMES, { help: "model", default: "shallow-cnn" }),
  /** Input stem of resnet18 / deit-tiny (default: by image size, see autoStem). */
  stem: choice(STEMS, {
    help: "input stem: imagenet (resnet18: 7x7/2 conv + max pool; deit-tiny: 16x16 patches, " +
      "the layout of ImageNet weights) or cifar (resnet18: 3x3/1 conv, no pool; deit-tiny: " +
      "4x4 patches)",
    defaultText: "auto: resnet18 cifar at 64 px and below, deit-tiny imagenet from 224 px",
  }),
  /**
   * Weights to start from (.safetensors or a PyTorch .pth/.pt state dict), loaded when the run
   * starts; a resumed run and a finished one's eval take the run's checkpoints instead.
   */
  pretrained: path({
    arg: "<file>",
    help: "start from these weights (.safetensors, or a torchvision/timm .pth/.pt state dict): " +
      "every tensor must match by name and shape, except the classifier head (resnet18 fc, " +
      "deit-tiny head) when its class count differs: it is left freshly initialised; a " +
      "resumed run takes its checkpoint instead",
    defaultText: "none",
  }),
  /**
   * The statistics inputs are normalised with: the dataset's own mean and std, or ImageNet's
   * (what ImageNet weights expect); imagenet by default when `pretrained` loads resnet18 or
   * deit-tiny weights. Runs saved before the setting were normalised with the dataset's.
   */
  normalization: choice(NORMALIZATIONS, {
    help: "the mean and std inputs are normalised with: the dataset's own, or ImageNet's " +
      "(mean 0.485 0.456 0.406, std 0.229 0.224 0.225; RGB data only), which ImageNet weights " +
      "expect; recorded in config.json, so a resumed run keeps what it started with",
    default: defaultNormalization,
    absentMeans: "dataset",
    defaultText: "imagenet when {pretrained} loads resnet18 or deit-tiny weights, else dataset",
  }),
  /** Dataset name. */
  dataset: named(TRAIN_DATASETS, { help: "dataset", default: "fashion-mnist" }),
  /** Dataset root (else $HLGM_DATA, ~/.cache/hlgm/datasets). */
  dataDir: path({
    help: "dataset root",
    defaultText: "$HLGM_DATA, else ~/.cache/hlgm/datasets",
    forkable: true,
    affectsResults: false,
  }),
  /** Epochs. */
  epochs: int({
    help: "epochs",
    default: 100,
    min: 1,
    forkable: true,
    paper: "section IV-C: 'Each model was trained for 100 epochs'",
  }),
  /** Batch size. */
  batchSize: int({
    help: "batch size",
    default: 256,
    min: 1,
    paper: "section IV-C: 'with a batch size of 256 samples'; Table I",
  }),
  /** sgd, adadelta, adam or adamw (default per model, Table I). */
  optimizer: choice(OPTIMIZERS, {
    help: "optimizer",
    default: (s: EarlierSettings) => modelDefaults(s).optimizer,
    defaultText: "per model, Table I",
    paper: "Table I: Adadelta (shallow CNN, DeiT-tiny), SGD (ResNet-18)",
  }),
  /** Learning rate (default per model, Table I). */
  lr: num({
    help: "learning rate",
    default: (s: EarlierSettings) => modelDefaults(s).lr,
    above: 0,
    defaultText: "per model, Table I",
    paper: "Table I: 0.1 (shallow CNN), 0.01 (ResNet-18), 0.001 (DeiT-tiny)",
  }),
  /** SGD momentum. */
  momentum: num({ help: "SGD momentum", default: 0.9, min: 0, below: 1 }),
  /** Weight decay. */
  weightDecay: num({ help: "weight decay", default: 0, min: 0 }),
  /** Use N random training images (before the validation split). */
  subset: int({
    help: "train on N random training images (at most the training split's count)",
    min: 1,
    defaultText: "all",
  }),
  /** Fraction of the training split held out for validation. */
  valFraction: num({
    help: "validation share carved from the training split",
    default: 0.1,
    min: 0,
    below: 1,
  }),
  /** Device name: auto, cpu, cuda or cuda:N. */
  device: text({
    help: "auto, cpu, cuda or cuda:N",
    default: "auto",
    pattern: { re: /^(auto|cpu|cuda(:\d+)?)$/, expected: "auto, cpu, cuda or cuda:N" },
    forkable: true,
    affectsResults: false,
  }),
  /**
   * Training precision: "bf16-mixed" and "fp16-mixed" run the steps, saliency for masking and
   * evaluation under autocast; weights, optimizer state and checkpoints stay float32.
   */
  precision: choice(PRECISIONS, {
    help:
      "training precision: float32, or autocast to bfloat16 / float16 (CUDA) with float32 weights",
    default: "fp32",
    absentMeans: "fp32",
    forkable: true,
  }),
  /** Inputs and convolution weights laid out channels-last (not deit-tiny). */
  channelsLast: flag({
    help: "lay out inputs and convolution weights channels-last (NHWC; shallow-cnn, resnet18)",
    offHelp: "keep the plain NCHW layout",
    default: false,
    absentMeans: false,
    defaultText: "off",
    forkable: true,
    affectsResults: false,
  }),
  /** Seed of initialisation, shuffling, masking and dropout. */
  seed: int({ help: "seed of initialisation, order, masking and dropout", default: 0, min: 0 }),
  /** KL weight lambda. */
  lambda: num({
    help: "KL weight lambda",
    default: 1.0,
    min: 0,
    limit: { value: FLOAT32_MAX, why: "float32's largest" },
    forkable: true,
    paper: "eq. (1) and Algorithm 2: 'L(f(X), y) + lambda D_KL(f(X) || f(X~))'",
  }),
  /** Fraction masked at the bottom (SGT, denoise). */
  kBottom: num({
    help: "fraction masked at the bottom (SGT, denoise)",
    default: 0.5,
    min: 0,
    max: 1,
    forkable: true,
    paper: "section IV-C: 'For the number of masked bottom features, we use 50%'",
  }),
  /** Initial fraction masked at the top (regularize). */
  kTop: num({
    help: "initial fraction masked at the top (regularize)",
    default: 0.2,
    min: 0,
    max: 1,
    forkable: true,
    paper: "section IV-C: 'For the number of masked top features, we use 20%'",
  }),
  /** Drop of k-top per regularize epoch. */
  alpha: num({
    help: "drop of k-top per regularize epoch",
    default: 0.02,
    min: 0,
    max: 1,
    forkable: true,
    paper: "section IV-C: 'apply a reduction of 2%'; Algorithm 2: '$k_t = k_t - \\alpha$'",
  }),
  /** SGT episode size S. */
  episodeSize: int({
    help: "SGT episode size S",
    default: 5,
    min: 1,
    forkable: true,
    paper: "Algorithm 2: 'if $(episode < S_e - de)$'",
  }),
  /** Denoising epochs in the first episode. */
  de: int({
    help: "denoising epochs in the first episode",
    default: 1,
    min: 0,
    forkable: true,
    paper: "section III-B: 'During the first episode, $S_e - de$ epochs are regularized-SGT'",
  }),
  /** When k-top falls by alpha: after each regularize epoch (default), or before its masking. */
  kTopDecay: choice(K_TOP_DECAYS, {
    help: "when k-top falls by alpha: after each regularize epoch, so the first masks k-top " +
      "itself (section IV-C: 'For the number of masked top features, we use 20% of the input " +
      "features' and 'apply a reduction of 2%'), or before each regularize epoch masks, so the " +
      "first masks k-top - alpha (Algorithm 2: 'Regularization: Masking top k features. " +
      "$k_t = k_t - \\alpha$ $X = M_{K_{t}U}(I, X)$')",
    default: "after",
    absentMeans: "after",
    forkable: true,
    paper: "section IV-C against Algorithm 2 (see help)",
  }),
  /** How an HLGM episode splits: the prose's S - de then de (default), or Algorithm 2's. */
  episodeOrder: choice(EPISODE_ORDERS, {
    help: "how an HLGM episode of S epochs splits: S - de regularize then de denoise epochs " +
      "(the paper's prose: 'During the first episode, $S_e - de$ epochs are regularized-SGT, " +
      "and the de epoch is denoising'), or S - de - 1 then de + 1 (its Algorithm 2: " +
      "'episode ++' comes before 'if $(episode < S_e - de)$ then', so the 1-based counter " +
      "regularizes only epochs 1 .. S - de - 1)",
    default: "prose",
    absentMeans: "prose",
    forkable: true,
    paper: "section III-B's prose against Algorithm 2 (see help)",
  }),
  /** Plateau patience in epochs. */
  patience: int({
    help: "plateau patience: HLGM switches after this many epochs in a row without an " +
      "improvement of {monitor} (Algorithm 2: 'if (loss does not improve in last 20 epochs) " +
      "then'; section IV-C: 'The training stops when the test accuracy does not improve for " +
      "the past 20 epochs.')",
    default: 20,
    min: 1,
    forkable: true,
    paper: "Algorithm 2: 'if (loss does not improve in last 20 epochs) then'",
  }),
  /** Least change of the monitored value that counts as an improvement (default 0). */
  minDelta: num({
    help: "least change of the monitored value that counts as an improvement for the plateau " +
      "rule, in the {monitor} value's own unit: accuracy as a fraction for val_acc (0.001 = " +
      "0.1 percentage point), mean cross-entropy (nats) for val_loss and train_loss; the paper " +
      "gives no threshold (section III-B: 'checked by monitoring the rate of change in loss'); " +
      "0: any improvement",
    default: 0,
    absentMeans: 0,
    min: 0,
    forkable: true,
    paper: "section III-B: 'checked by monitoring the rate of change in loss'",
  }),
  /** What the plateau rule watches. */
  monitor: choice(MONITORS, {
    help: "what the plateau rule watches: validation accuracy (val_acc: section IV-C's 'The " +
      "training stops when the test accuracy does not improve for the past 20 epochs.', read " +
      "on the validation split carved from the training set, so the test set chooses nothing), " +
      "or a loss (val_loss, train_loss: Algorithm 2's 'if (loss does not improve in last 20 " +
      "epochs)')",
    default: "val_acc",
    forkable: true,
    paper: "section IV-C's test accuracy against Algorithm 2's loss (see help)",
  }),
  /** Plain epochs before HLGM's SGT phase, instead of the plateau rule. */
  switchEpoch: int({
    help: "plain epochs before HLGM's SGT phase, instead of the plateau rule",
    min: 1,
    defaultText: "the plateau rule",
    forkable: true,
  }),
  /** The plateau rule's latest switch (plain epochs). */
  switchBy: int({
    help: "the plateau rule's latest switch: HLGM switches at the plateau or after this many " +
      "plain epochs, whichever comes first, so a short run is sure to reach its episodes (a " +
      "departure from the paper, which waits for the plateau)",
    min: 1,
    defaultText: "no limit",
    forkable: true,
  }),
  /** Saliency method for masking. */
  saliency: choice(MASK_SALIENCY, {
    help: "saliency for masking",
    default: "saliency",
    forkable: true,
    paper: "section IV-C: 'with gradient values computed using the Captum library'",
  }),
  /** Channel reduction of attributions. */
  reduction: choice(REDUCTIONS, { help: "channel reduction", default: "mean", forkable: true }),
  /** What masking ranks: |attribution| reduced over channels (default), or the signed one. */
  saliencySign: choice(SALIENCY_SIGNS, {
    help: "what masking ranks: the channel reduction of |attribution| (abs), or of the signed " +
      "attribution (signed: top k = the most positive, bottom k = the most negative, as SGT's " +
      "code ranks Saliency(abs=False).mean(1)); the paper's Algorithm 2 only says " +
      "'Compute and sort the gradients into vector I'; SIB ranks a run's maps the same way",
    default: "abs",
    absentMeans: "abs",
    forkable: true,
    paper: "Algorithm 2: 'Compute and sort the gradients into vector I'",
  }),
  /** Mask fill ("random-channel": uniform in each channel's own [min, max]). */
  fill: choice(FILLS, {
    help: "mask fill: uniform in each sample's [min, max] over all channels (random), zero, the " +
      "sample's mean, or uniform in each channel's own [min, max] (random-channel, as SGT's " +
      "CIFAR code fills RGB images)",
    default: "random",
    forkable: true,
    paper: "section IV-C: 'substituted with random values within the remaining pixel spectrum'",
  }),
  /** Pixels by which HLGM's regularize (top-k) mask grows before the fill (default 0). */
  maskDilate: int({
    help: "grow HLGM's regularize (top-k) mask by N pixels, a (2N+1) x (2N+1) square around " +
      "each masked pixel, before the fill (the paper 'removes the high gradient input features " +
      "(pixels and surrounding area)'); k counts pixels before growing; the bottom-k masks of " +
      "SGT and of denoise epochs never grow",
    default: 0,
    absentMeans: 0,
    min: 0,
    forkable: true,
    paper: "section III: 'removes the high gradient input features (pixels and surrounding area)'",
  }),
  /** Input size fed to the model (deit-tiny on 32x32 data: 32 with patch 4). */
  imageSize: int({ help: "resize inputs to N x N", min: 1, defaultText: "the dataset's size" }),
  /** cluttered-fmnist: canvas size (default 64). */
  canvas: int({ help: "cluttered-fmnist canvas size", min: 28, defaultText: "64" }),
  /** Training augmentation (default: crop+flip for CIFAR, flip for Oxford Pet, none else). */
  augment: flag({
    help: "random crop/flip augmentation",
    offHelp: "no augmentation",
    defaultText: "CIFAR and Oxford Pet",
  }),
  /** Also write TensorBoard event files into RUN/tensorboard/ (default off). */
  tensorboard: flag({
    help: "also write TensorBoard event files (RUN/tensorboard/) for `tensorboard --logdir`",
    offHelp: "write no TensorBoard event files",
    defaultText: "off",
    forkable: true,
  }),
  /**
   * Also keep the whole checkpoint of every Nth epoch in checkpoints/kept/, to fork from (an
   * hlgm run keeps its switch's anyway). Changes no result.
   */
  keepEvery: int({
    help: "also keep the whole checkpoint (weights, optimizer, RNG, schedule) of every Nth " +
      "epoch, to fork other runs from that epoch; hlgm keeps its switch's anyway",
    min: 1,
    defaultText: "none",
    forkable: true,
    affectsResults: false,
  }),
} as const satisfies SettingsTable;

/** Every training setting with its key, in the order help lists them. */
export const CONFIG_FIELDS: readonly ConfigField[] = fieldsOf(SETTINGS);

/** The settings a fork may change (the rows marked forkable). */
export const FORK_SETTINGS: readonly string[] = CONFIG_FIELDS.filter((f) => f.forkable).map((f) =>
  f.key
);

/** The setting a flag name (`k-top`) or config key (`kTop`) names, or undefined. */
export function fieldByName(name: string): ConfigField | undefined {
  return CONFIG_FIELDS.find((f) => f.key === name || flagName(f.key) === name);
}
