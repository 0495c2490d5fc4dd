/**
 * The one table of training settings: every TrainConfig key with its flag, value kind and help.
 * The CLI builds its flags from it, `--config` files are checked against it, the README's flag
 * list is generated from it (scripts/readme-flags.ts), and a test sends every flag through to
 * the resolved config. Defaults come from defaultConfig() in config.ts. Imports nothing that
 * loads libtorch.
 *
 * @module
 */

import { MODEL_NAMES, STEMS } from "../models/names.ts";
import { PRESET_NAMES } from "./presets.ts";

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

/** One setting: its config key, flag, value kind, help text and (when fixed) allowed values. */
export interface ConfigField {
  /** The TrainConfig key (also the --config file key); config.ts imports this table. */
  key: string;
  /** Value kind: "int" and "number" are parsed from the flag's text; "flag" is on/off. */
  kind: "int" | "number" | "string" | "path" | "flag";
  /** What it sets, without the default. */
  help: string;
  /** Allowed values, when a fixed list. */
  choices?: readonly string[];
  /** The default as help shows it, when not a plain value of defaultConfig(). */
  defaultText?: string;
  /** Help of a flag's --no- form (default "no " + help). */
  offHelp?: string;
  /** The flag's value placeholder, when not the kind's ("<file>" for a path to a file). */
  arg?: string;
  /**
   * A fork (train --fork) may set it to another value than its source run's: the method, the
   * masking and schedule settings, the epoch count, and how and where the run computes.
   */
  forkable?: true;
}

/** Every training setting, in the order help lists them. */
export const CONFIG_FIELDS: readonly ConfigField[] = [
  {
    key: "preset",
    kind: "string",
    help: "one of the paper's set-ups (Table I): model, dataset, image size, stem, optimizer, " +
      "lr, batch size and epochs in one (listed below); settings given explicitly override it",
    choices: PRESET_NAMES,
    defaultText: "none",
  },
  { key: "method", kind: "string", help: "training method", choices: METHODS, forkable: true },
  { key: "model", kind: "string", help: "model", choices: MODEL_NAMES },
  {
    key: "stem",
    kind: "string",
    help: "input stem: imagenet (resnet18: 7x7/2 conv + max pool; deit-tiny: 16x16 patches, " +
      "the layout of ImageNet weights) or cifar (resnet18: 3x3/1 conv, no pool; deit-tiny: " +
      "4x4 patches)",
    choices: STEMS,
    defaultText: "auto: resnet18 cifar at 64 px and below, deit-tiny imagenet from 224 px",
  },
  {
    key: "pretrained",
    kind: "path",
    arg: "<file>",
    help: "start from these weights (.safetensors, or a torchvision/timm .pth/.pt state dict): " +
      "every tensor must match by name and shape, except the classifier head (resnet18 fc, " +
      "deit-tiny head) when its class count differs: it is left freshly initialised; a " +
      "resumed run takes its checkpoint instead",
    defaultText: "none",
  },
  {
    key: "normalization",
    kind: "string",
    help: "the mean and std inputs are normalised with: the dataset's own, or ImageNet's " +
      "(mean 0.485 0.456 0.406, std 0.229 0.224 0.225; RGB data only), which ImageNet weights " +
      "expect; recorded in config.json, so a resumed run keeps what it started with",
    choices: NORMALIZATIONS,
    defaultText: "imagenet when --pretrained loads resnet18 or deit-tiny weights, else dataset",
  },
  { key: "dataset", kind: "string", help: "dataset", choices: TRAIN_DATASETS },
  {
    key: "dataDir",
    kind: "path",
    help: "dataset root",
    defaultText: "$HLGM_DATA, else ~/.cache/hlgm/datasets",
    forkable: true,
  },
  { key: "epochs", kind: "int", help: "epochs", forkable: true },
  { key: "batchSize", kind: "int", help: "batch size" },
  {
    key: "optimizer",
    kind: "string",
    help: "optimizer",
    choices: OPTIMIZERS,
    defaultText: "per model, Table I",
  },
  { key: "lr", kind: "number", help: "learning rate", defaultText: "per model, Table I" },
  { key: "momentum", kind: "number", help: "SGD momentum" },
  { key: "weightDecay", kind: "number", help: "weight decay" },
  {
    key: "subset",
    kind: "int",
    help: "train on N random training images (at most the training split's count)",
    defaultText: "all",
  },
  { key: "valFraction", kind: "number", help: "validation share carved from the training split" },
  { key: "device", kind: "string", help: "auto, cpu, cuda or cuda:N", forkable: true },
  {
    key: "precision",
    kind: "string",
    help:
      "training precision: float32, or autocast to bfloat16 / float16 (CUDA) with float32 weights",
    choices: PRECISIONS,
    forkable: true,
  },
  {
    key: "channelsLast",
    kind: "flag",
    help: "lay out inputs and convolution weights channels-last (NHWC; shallow-cnn, resnet18)",
    offHelp: "keep the plain NCHW layout",
    defaultText: "off",
    forkable: true,
  },
  { key: "seed", kind: "int", help: "seed of initialisation, order, masking and dropout" },
  { key: "lambda", kind: "number", help: "KL weight lambda", forkable: true },
  {
    key: "kBottom",
    kind: "number",
    help: "fraction masked at the bottom (SGT, denoise)",
    forkable: true,
  },
  {
    key: "kTop",
    kind: "number",
    help: "initial fraction masked at the top (regularize)",
    forkable: true,
  },
  { key: "alpha", kind: "number", help: "drop of k-top per regularize epoch", forkable: true },
  { key: "episodeSize", kind: "int", help: "SGT episode size S", forkable: true },
  { key: "de", kind: "int", help: "denoising epochs in the first episode", forkable: true },
  {
    key: "kTopDecay",
    kind: "string",
    help: "when k-top falls by alpha: after each regularize epoch, so the first masks k-top " +
      "itself (section IV-C: 'For the number of masked top features, we use 20% of the input " +
      "features' and 'apply a reduction of 2%'), or before each regularize epoch masks, so the " +
      "first masks k-top - alpha (Algorithm 2: 'Regularization: Masking top k features. " +
      "$k_t = k_t - \\alpha$ $X = M_{K_{t}U}(I, X)$')",
    choices: K_TOP_DECAYS,
    forkable: true,
  },
  {
    key: "episodeOrder",
    kind: "string",
    help: "how an HLGM episode of S epochs splits: S - de regularize then de denoise epochs " +
      "(the paper's prose: 'During the first episode, $S_e - de$ epochs are regularized-SGT, " +
      "and the de epoch is denoising'), or S - de - 1 then de + 1 (its Algorithm 2: " +
      "'episode ++' comes before 'if $(episode < S_e - de)$ then', so the 1-based counter " +
      "regularizes only epochs 1 .. S - de - 1)",
    choices: EPISODE_ORDERS,
    forkable: true,
  },
  {
    key: "patience",
    kind: "int",
    help: "plateau patience: HLGM switches after this many epochs in a row without an " +
      "improvement of --monitor (Algorithm 2: 'if (loss does not improve in last 20 epochs) " +
      "then'; section IV-C: 'The training stops when the test accuracy does not improve for " +
      "the past 20 epochs.')",
    forkable: true,
  },
  {
    key: "minDelta",
    kind: "number",
    help: "least change of the monitored value that counts as an improvement for the plateau " +
      "rule, in the --monitor value's own unit: accuracy as a fraction for val_acc (0.001 = " +
      "0.1 percentage point), mean cross-entropy (nats) for val_loss and train_loss; the paper " +
      "gives no threshold (section III-B: 'checked by monitoring the rate of change in loss'); " +
      "0: any improvement",
    forkable: true,
  },
  {
    key: "monitor",
    kind: "string",
    help: "what the plateau rule watches: validation accuracy (val_acc: section IV-C's 'The " +
      "training stops when the test accuracy does not improve for the past 20 epochs.', read " +
      "on the validation split carved from the training set, so the test set chooses nothing), " +
      "or a loss (val_loss, train_loss: Algorithm 2's 'if (loss does not improve in last 20 " +
      "epochs)')",
    choices: MONITORS,
    forkable: true,
  },
  {
    key: "switchEpoch",
    kind: "int",
    help: "plain epochs before HLGM's SGT phase, instead of the plateau rule",
    defaultText: "the plateau rule",
    forkable: true,
  },
  {
    key: "switchBy",
    kind: "int",
    help: "the plateau rule's latest switch: HLGM switches at the plateau or after this many " +
      "plain epochs, whichever comes first, so a short run is sure to reach its episodes (a " +
      "departure from the paper, which waits for the plateau)",
    defaultText: "no limit",
    forkable: true,
  },
  {
    key: "saliency",
    kind: "string",
    help: "saliency for masking",
    choices: MASK_SALIENCY,
    forkable: true,
  },
  {
    key: "reduction",
    kind: "string",
    help: "channel reduction",
    choices: REDUCTIONS,
    forkable: true,
  },
  {
    key: "saliencySign",
    kind: "string",
    help: "what masking ranks: the channel reduction of |attribution| (abs), or of the signed " +
      "attribution (signed: top k = the most positive, bottom k = the most negative, as SGT's " +
      "code ranks Saliency(abs=False).mean(1)); the paper's Algorithm 2 only says " +
      "'Compute and sort the gradients into vector I'; SIB ranks a run's maps the same way",
    choices: SALIENCY_SIGNS,
    forkable: true,
  },
  {
    key: "fill",
    kind: "string",
    help: "mask fill: uniform in each sample's [min, max] over all channels (random), zero, the " +
      "sample's mean, or uniform in each channel's own [min, max] (random-channel, as SGT's " +
      "CIFAR code fills RGB images)",
    choices: FILLS,
    forkable: true,
  },
  {
    key: "maskDilate",
    kind: "int",
    help: "grow HLGM's regularize (top-k) mask by N pixels, a (2N+1) x (2N+1) square around " +
      "each masked pixel, before the fill (the paper 'removes the high gradient input features " +
      "(pixels and surrounding area)'); k counts pixels before growing; the bottom-k masks of " +
      "SGT and of denoise epochs never grow",
    forkable: true,
  },
  {
    key: "imageSize",
    kind: "int",
    help: "resize inputs to N x N",
    defaultText: "the dataset's size",
  },
  { key: "canvas", kind: "int", help: "cluttered-fmnist canvas size", defaultText: "64" },
  {
    key: "augment",
    kind: "flag",
    help: "random crop/flip augmentation (--no-augment: none)",
    defaultText: "CIFAR and Oxford Pet",
  },
  {
    key: "tensorboard",
    kind: "flag",
    help: "also write TensorBoard event files (RUN/tensorboard/) for `tensorboard --logdir`",
    offHelp: "write no TensorBoard event files",
    defaultText: "off",
    forkable: true,
  },
  {
    key: "keepEvery",
    kind: "int",
    help: "also keep the whole checkpoint (weights, optimizer, RNG, schedule) of every Nth " +
      "epoch, to fork other runs from (train --fork RUN@EPOCH); hlgm keeps its switch's anyway",
    defaultText: "none",
    forkable: true,
  },
];

/** The settings a fork may change (the rows marked forkable). */
export const FORK_SETTINGS: readonly string[] = CONFIG_FIELDS.filter((f) => f.forkable).map((f) =>
  f.key
);

/** The flag of a key: `batchSize` -> `batch-size`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const KEYS = new Set<string>(CONFIG_FIELDS.map((f) => f.key));

/**
 * Problems with the keys of a settings object from a file: every key that is not a setting,
 * named, with the setting it was probably meant to be (`batch_size` -> `batchSize`).
 */
export function unknownKeyProblems(settings: Record<string, unknown>): string[] {
  const squash = (s: string) => s.replace(/[-_]/g, "").toLowerCase();
  return Object.keys(settings).filter((k) => !KEYS.has(k)).map((k) => {
    const near = CONFIG_FIELDS.find((f) => squash(f.key) === squash(k));
    return `unknown setting "${k}"${near ? ` (did you mean "${near.key}"?)` : ""}`;
  });
}

/**
 * Problems with the value types of a settings object from a file: an int or number setting that
 * is not a number, a string or path setting that is not a string, an on/off setting that is not
 * true or false; each names the key, what it expects and what it got. Unknown keys are left to
 * {@link unknownKeyProblems}, ranges and choices to configProblems (config.ts).
 */
export function valueTypeProblems(settings: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const f of CONFIG_FIELDS) {
    const v = settings[f.key];
    if (v === undefined) continue;
    const expected = f.kind === "int" || f.kind === "number"
      ? "number"
      : f.kind === "flag"
      ? "boolean"
      : "string";
    const type = typeof v;
    if (type !== expected) {
      const what = expected === "boolean" ? "true or false" : `a ${expected}`;
      problems.push(`"${f.key}" must be ${what}, got ${describeValue(v)}`);
    }
  }
  return problems;
}

/** A value as a message shows it: JSON, shortened; "an array", "an object" for containers. */
function describeValue(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v !== null && typeof v === "object") return "an object";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The field a flag name (`k-top`) or config key (`kTop`) names, or undefined. */
export function fieldByName(name: string): ConfigField | undefined {
  return CONFIG_FIELDS.find((f) => f.key === name || flagName(f.key) === name);
}

/** A value as a setting's flag would parse it: numbers for int/number, true/false for flags. */
export type SettingValue = number | string | boolean;

/**
 * The integer `text` writes ("12", "-3", "1e6", "4000.0"), or null when it is not one (empty,
 * a fraction, beyond 2^53): flags take integers the way JSON and Python's int(float(x)) do.
 */
export function integerOf(text: string): number | null {
  const t = text.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Parses one value of setting `f` from text, as its flag does; throws a RangeError naming the
 * flag and the expectation (an integer, a number, one of the choices, true/false).
 */
export function parseSettingValue(f: ConfigField, text: string): SettingValue {
  const flag = `--${flagName(f.key)}`;
  const t = text.trim();
  switch (f.kind) {
    case "int":
      if (integerOf(t) === null) {
        throw new RangeError(`${flag}: expected an integer, got "${text}"`);
      }
      return integerOf(t)!;
    case "number":
      if (t === "" || !Number.isFinite(Number(t))) {
        throw new RangeError(`${flag}: expected a number, got "${text}"`);
      }
      return Number(t);
    case "flag":
      if (t !== "true" && t !== "false") {
        throw new RangeError(`${flag}: expected true or false, got "${text}"`);
      }
      return t === "true";
    default:
      if (f.choices && !f.choices.includes(t)) {
        throw new RangeError(`${flag}: expected one of ${f.choices.join(", ")}, got "${text}"`);
      }
      if (t === "") throw new RangeError(`${flag}: empty value`);
      return t;
  }
}
