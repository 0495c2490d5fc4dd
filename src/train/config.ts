/**
 * A training run's configuration: every value, its default (the paper's Table I per model),
 * and validation with one clear message per problem.
 *
 * @module
 */

import type { ScheduleConfig } from "./schedule.ts";
import { MODEL_NAMES, type Stem, STEMS } from "../models/names.ts";
import { findPreset, PRESET_NAMES } from "./presets.ts";
import { checkMemory, MemoryBoundError } from "../util/memory.ts";
import {
  EPISODE_ORDERS,
  FILLS,
  K_TOP_DECAYS,
  MASK_SALIENCY,
  METHODS,
  MONITORS,
  NORMALIZATIONS,
  OPTIMIZERS,
  PRECISIONS,
  REDUCTIONS,
  SALIENCY_SIGNS,
  TRAIN_DATASETS,
} from "./config_fields.ts";
import { words } from "../util/vocabulary.ts";

export * from "./config_fields.ts";
export {
  describePreset,
  findPreset,
  type Preset,
  PRESET_NAMES,
  PRESETS,
  type PresetSettings,
  presetWeightsWarning,
} from "./presets.ts";

/** Everything a run needs (the schedule's settings and the rest); saved as config.json in the run folder. */
export interface TrainConfig extends ScheduleConfig {
  /** The paper's set-up the settings started from (presets.ts); explicit settings override it. */
  preset?: string;
  /** shallow-cnn, resnet18 or deit-tiny. */
  model: string;
  /** Input stem of resnet18 / deit-tiny (default: by image size, see autoStem). */
  stem?: Stem;
  /**
   * Weights to start from (.safetensors or a PyTorch .pth/.pt state dict), loaded when the run
   * starts; a resumed run and a finished one's eval take the run's checkpoints instead.
   */
  pretrained?: string;
  /**
   * The statistics inputs are normalised with: the dataset's own mean and std, or ImageNet's
   * (what ImageNet weights expect). defaultConfig sets it (imagenet when `pretrained` loads
   * resnet18 or deit-tiny weights), so a new run's config.json records it; absent in runs saved
   * before the setting, which were normalised with the dataset's: "dataset".
   */
  normalization?: typeof NORMALIZATIONS[number];
  /** Dataset name. */
  dataset: string;
  /** Dataset root (else $HLGM_DATA, ~/.cache/hlgm/datasets). */
  dataDir?: string;
  /** Epochs. */
  epochs: number;
  /** Batch size. */
  batchSize: number;
  /** sgd, adadelta, adam or adamw. */
  optimizer: typeof OPTIMIZERS[number];
  /** Learning rate. */
  lr: number;
  /** SGD momentum. */
  momentum: number;
  /** Weight decay. */
  weightDecay: number;
  /** Use N random training images (before the validation split). */
  subset?: number;
  /** Fraction of the training split held out for validation. */
  valFraction: number;
  /** Device name. */
  device: string;
  /**
   * Training precision (default "fp32"): "bf16-mixed" and "fp16-mixed" run the steps, saliency
   * for masking and evaluation under autocast; weights, optimizer state and checkpoints stay
   * float32. Absent in runs saved before the setting: "fp32".
   */
  precision?: typeof PRECISIONS[number];
  /** Inputs and convolution weights laid out channels-last (default off; not deit-tiny). */
  channelsLast?: boolean;
  /** Seed of initialisation, shuffling, masking and dropout. */
  seed: number;
  /** KL weight lambda. */
  lambda: number;
  /** Saliency method for masking. */
  saliency: typeof MASK_SALIENCY[number];
  /** Channel reduction of attributions. */
  reduction: typeof REDUCTIONS[number];
  /**
   * What masking ranks (default "abs"): the channel reduction of |attribution|, or of the
   * signed attribution. Absent in runs saved before the setting: "abs".
   */
  saliencySign?: typeof SALIENCY_SIGNS[number];
  /** Mask fill ("random-channel": uniform in each channel's own [min, max]). */
  fill: typeof FILLS[number];
  /**
   * Pixels by which HLGM's regularize (top-k) mask grows before the fill (default 0): a
   * (2N+1) x (2N+1) square dilation. Absent in runs saved before the setting: 0.
   */
  maskDilate?: number;
  /** Input size fed to the model (deit-tiny on 32x32 data: 32 with patch 4). */
  imageSize?: number;
  /** Training augmentation (default: crop+flip for CIFAR, flip for Oxford Pet, none else). */
  augment?: boolean;
  /** cluttered-fmnist: canvas size (default 64). */
  canvas?: number;
  /** Also write TensorBoard event files into RUN/tensorboard/ (default off). */
  tensorboard?: boolean;
  /**
   * Also keep the whole checkpoint of every Nth epoch in checkpoints/kept/, to fork from (an
   * hlgm run keeps its switch's anyway). Changes no result.
   */
  keepEvery?: number;
}

/** Paper defaults (Table I) per model: optimizer and learning rate. */
export const MODEL_DEFAULTS: Record<string, { optimizer: TrainConfig["optimizer"]; lr: number }> = {
  "shallow-cnn": { optimizer: "adadelta", lr: 0.1 },
  "resnet18": { optimizer: "sgd", lr: 0.01 },
  "deit-tiny": { optimizer: "adadelta", lr: 0.001 },
};

/**
 * The default configuration for a model (shallow-cnn hlgm on Fashion-MNIST when empty). With
 * `preset`, the preset's settings come first and the other given values override them; the
 * optimizer and learning rate otherwise follow the model (Table I).
 */
export function defaultConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const given = Object.fromEntries(
    Object.entries(partial).filter(([, v]) => v !== undefined),
  ) as Partial<TrainConfig>;
  // an unknown preset name sets nothing here; configProblems reports it
  const preset = given.preset === undefined ? undefined : findPreset(given.preset);
  const settings: Partial<TrainConfig> = { ...preset?.settings, ...given };
  const model = settings.model ?? "shallow-cnn";
  const d = MODEL_DEFAULTS[model] ?? MODEL_DEFAULTS["shallow-cnn"];
  return {
    method: "hlgm",
    model,
    normalization: defaultNormalization({ model, pretrained: settings.pretrained }),
    dataset: "fashion-mnist",
    epochs: 100,
    batchSize: 256,
    optimizer: d.optimizer,
    lr: d.lr,
    momentum: 0.9,
    weightDecay: 0,
    valFraction: 0.1,
    device: "auto",
    precision: "fp32",
    channelsLast: false,
    seed: 0,
    lambda: 1.0,
    kBottom: 0.5,
    kTop: 0.2,
    alpha: 0.02,
    episodeSize: 5,
    de: 1,
    kTopDecay: "after",
    episodeOrder: "prose",
    patience: 20,
    minDelta: 0,
    monitor: "val_acc",
    saliency: "saliency",
    reduction: "mean",
    saliencySign: "abs",
    fill: "random",
    maskDilate: 0,
    ...settings,
  } as TrainConfig;
}

/** Models whose --pretrained weights are ImageNet's (torchvision's resnet18, timm's DeiT-tiny). */
const IMAGENET_MODELS: readonly string[] = ["resnet18", "deit-tiny"];

/**
 * The normalisation a new run takes when none is given: ImageNet's statistics when it starts
 * from weights of a model the paper took from ImageNet (resnet18, deit-tiny), the dataset's own
 * otherwise (from scratch, or the shallow CNN, which has no ImageNet weights).
 */
export function defaultNormalization(
  c: Pick<TrainConfig, "model" | "pretrained">,
): typeof NORMALIZATIONS[number] {
  return c.pretrained !== undefined && IMAGENET_MODELS.includes(c.model) ? "imagenet" : "dataset";
}

/** Why fp16-mixed cannot train on the CPU (checked again once device "auto" is resolved). */
export const FP16_ON_CPU =
  "precision fp16-mixed needs a CUDA device (float16 autocast with loss scaling); on the CPU use bf16-mixed";

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** Checks every field; returns the list of problems (empty = valid), each naming the field. */
export function configProblems(c: TrainConfig): string[] {
  const p: string[] = [];
  const posInt = (name: string, v: unknown) => {
    if (!Number.isInteger(v) || (v as number) < 1) {
      p.push(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  };
  const frac = (name: string, v: unknown, open = false) => {
    if (typeof v !== "number" || !(v >= 0 && (open ? v < 1 : v <= 1))) {
      p.push(`${name} must be in [0, 1${open ? ")" : "]"}, got ${JSON.stringify(v)}`);
    }
  };
  const oneOf = (name: string, v: unknown, allowed: readonly string[]) => {
    if (!allowed.includes(v as string)) {
      p.push(`${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    }
  };
  if (c.preset !== undefined) oneOf("preset", c.preset, PRESET_NAMES);
  oneOf("method", c.method, METHODS);
  oneOf("model", c.model, MODEL_NAMES);
  if (c.stem !== undefined) {
    oneOf("stem", c.stem, STEMS);
    if (c.model === "shallow-cnn") {
      p.push(`stem applies to resnet18 and deit-tiny, not shallow-cnn (got ${c.stem})`);
    }
  }
  if (c.pretrained !== undefined && (typeof c.pretrained !== "string" || c.pretrained === "")) {
    p.push(`pretrained must be a file path, got ${JSON.stringify(c.pretrained)}`);
  }
  oneOf("dataset", c.dataset, TRAIN_DATASETS);
  oneOf("optimizer", c.optimizer, OPTIMIZERS);
  oneOf("monitor", c.monitor, MONITORS);
  oneOf("saliency", c.saliency, MASK_SALIENCY);
  oneOf("reduction", c.reduction, REDUCTIONS);
  oneOf("fill", c.fill, FILLS);
  if (c.kTopDecay !== undefined) oneOf("k-top-decay", c.kTopDecay, K_TOP_DECAYS);
  if (c.episodeOrder !== undefined) oneOf("episode-order", c.episodeOrder, EPISODE_ORDERS);
  if (c.saliencySign !== undefined) oneOf("saliency-sign", c.saliencySign, SALIENCY_SIGNS);
  if (c.normalization !== undefined) oneOf("normalization", c.normalization, NORMALIZATIONS);
  if (c.maskDilate !== undefined && !(Number.isInteger(c.maskDilate) && c.maskDilate >= 0)) {
    p.push(`mask-dilate must be a non-negative integer, got ${JSON.stringify(c.maskDilate)}`);
  }
  if (
    c.minDelta !== undefined &&
    !(typeof c.minDelta === "number" && c.minDelta >= 0 && Number.isFinite(c.minDelta))
  ) {
    p.push(`min-delta must be a non-negative number, got ${JSON.stringify(c.minDelta)}`);
  }
  posInt("epochs", c.epochs);
  posInt("batch-size", c.batchSize);
  posInt("episode-size", c.episodeSize);
  posInt("patience", c.patience);
  if (c.subset !== undefined) posInt("subset", c.subset);
  if (c.switchEpoch !== undefined) posInt("switch-epoch", c.switchEpoch);
  if (c.switchBy !== undefined) posInt("switch-by", c.switchBy);
  if (c.keepEvery !== undefined) posInt("keep-every", c.keepEvery);
  if (c.switchBy !== undefined && c.switchEpoch !== undefined) {
    p.push("switch-by limits the plateau rule, which switch-epoch replaces: give one of them");
  }
  if (c.imageSize !== undefined) posInt("image-size", c.imageSize);
  if (c.canvas !== undefined && (!Number.isInteger(c.canvas) || c.canvas < 28)) {
    p.push(`canvas must be an integer >= 28, got ${JSON.stringify(c.canvas)}`);
  }
  if (!Number.isInteger(c.de) || c.de < 0) {
    p.push(`de must be a non-negative integer, got ${JSON.stringify(c.de)}`);
  }
  if (!Number.isInteger(c.seed) || c.seed < 0) {
    p.push(`seed must be a non-negative integer, got ${JSON.stringify(c.seed)}`);
  }
  frac("val-fraction", c.valFraction, true);
  frac("k-bottom", c.kBottom);
  frac("k-top", c.kTop);
  frac("alpha", c.alpha);
  frac("momentum", c.momentum, true);
  for (
    const [name, v] of [["lr", c.lr], ["lambda", c.lambda], [
      "weight-decay",
      c.weightDecay,
    ]] as const
  ) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (name === "lr" && v === 0)) {
      p.push(
        `${name} must be a ${name === "lr" ? "positive" : "non-negative"} number, got ${
          JSON.stringify(v)
        }`,
      );
    }
  }
  // the KL term is scaled in float32: a larger lambda is +Inf, a loss of Inf from the first step
  if (typeof c.lambda === "number" && c.lambda > FLOAT32_MAX) {
    p.push(`lambda must be at most ${FLOAT32_MAX} (float32's largest), got ${c.lambda}`);
  }
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(c.device)) {
    p.push(`device must be auto, cpu, cuda or cuda:N, got ${JSON.stringify(c.device)}`);
  }
  if (c.precision !== undefined) oneOf("precision", c.precision, PRECISIONS);
  if (c.precision === "fp16-mixed" && c.device === "cpu") {
    p.push(FP16_ON_CPU);
  }
  if (c.channelsLast && c.model === "deit-tiny") {
    p.push(
      "channels-last applies to the convolutional models (shallow-cnn, resnet18), not deit-tiny",
    );
  }
  if (p.length === 0) p.push(...memoryProblems(c));
  if (
    c.monitor !== "train_loss" && c.valFraction === 0 && c.method === "hlgm" &&
    c.switchEpoch === undefined
  ) {
    p.push(
      `monitor ${c.monitor} needs a validation split (${words().setting("valFraction")} > 0), ` +
        `or use ${words().setting("switchEpoch")} or ${
          words().settingValue("monitor", "train_loss")
        }`,
    );
  }
  return p;
}

/**
 * Sizes that would need more memory than the machine has, known from the settings alone (lower
 * bounds: one channel, the inputs only, no activations): the float32 batch at --image-size or
 * on the cluttered canvas, and the images --subset generates for the synthetic set. Sizes
 * that depend on the data files (a split at its size) are checked when it loads.
 */
function memoryProblems(c: TrainConfig): string[] {
  const p: string[] = [];
  const check = (bytes: number, what: string) => {
    try {
      checkMemory(bytes, what);
    } catch (e) {
      if (!(e instanceof MemoryBoundError)) throw e;
      p.push(e.message);
    }
  };
  const batch = c.batchSize;
  for (const [name, side] of [["image-size", c.imageSize], ["canvas", c.canvas]] as const) {
    if (side === undefined || (name === "canvas" && c.dataset !== "cluttered-fmnist")) continue;
    check(
      batch * side * side * 4,
      `${name} ${side}: one batch of ${batch} float32 inputs of ${side}x${side} pixels (at least)`,
    );
  }
  if (c.dataset === "synthetic" && c.subset !== undefined) {
    check(c.subset * 28 * 28, `subset ${c.subset}: ${c.subset} generated 28x28 synthetic images`);
  }
  return p;
}

/** The schedule part of a config. */
export function scheduleOf(c: TrainConfig): ScheduleConfig {
  return {
    method: c.method,
    kBottom: c.kBottom,
    kTop: c.kTop,
    alpha: c.alpha,
    episodeSize: c.episodeSize,
    de: c.de,
    patience: c.patience,
    monitor: c.monitor,
    switchEpoch: c.switchEpoch,
    switchBy: c.switchBy,
    kTopDecay: c.kTopDecay,
    minDelta: c.minDelta,
    episodeOrder: c.episodeOrder,
  };
}
