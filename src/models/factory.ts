/**
 * Creating models by name, and loading pretrained weights into them (replacing the
 * classification head when the class count differs).
 *
 * @module
 */

import { DeiT } from "./deit.ts";
import { ResNet18 } from "./resnet.ts";
import { ShallowCNN } from "./shallow_cnn.ts";
import type { LoadResult, StateDict } from "../nn/module.ts";
import type { Device } from "../tensor/device.ts";
import { MODEL_NAMES, type ModelName } from "./names.ts";
import {
  LIBRARY_VOCABULARY,
  type Renderable,
  type Vocabulary,
  type Words,
} from "../util/vocabulary.ts";

export { MODEL_NAMES, type ModelName };

/** A model created by name: a Module with a replaceable classifier. */
export type Model = ShallowCNN | ResNet18 | DeiT;

/** Options common to every model (each ignores what does not apply to it). */
export interface ModelOptions {
  /** Output classes (default 10). */
  numClasses?: number;
  /** Input channels (default 3; 1 for grey images). */
  inChannels?: number;
  /** Input height = width (default: 28 shallow-cnn, 224 others). */
  imageSize?: number;
  /** resnet18: the 3x3 CIFAR stem without max pool. */
  cifarStem?: boolean;
  /** deit-tiny: patch size (default 16; 4 for 32x32 inputs). */
  patchSize?: number;
  /** Device of the parameters. */
  device?: Device;
}

/** Creates a freshly initialised model by name. */
export function createModel(name: ModelName | string, options: ModelOptions = {}): Model {
  const numClasses = options.numClasses ?? 10;
  switch (name) {
    case "shallow-cnn":
      return new ShallowCNN({ ...options, numClasses, inChannels: options.inChannels ?? 1 });
    case "resnet18":
      return new ResNet18({ ...options, numClasses });
    case "deit-tiny":
      return new DeiT({ ...options, numClasses });
    default:
      throw new TypeError(`unknown model "${name}"; expected one of ${MODEL_NAMES.join(", ")}`);
  }
}

const HEAD_PREFIX = new Map<string, string>([
  ["ShallowCNN", "fc2."],
  ["ResNet18", "fc."],
  ["DeiT", "head."],
]);

/** The classifier head's key prefix of a model ("fc." for ResNet-18, "head." for DeiT). */
export function headPrefix(model: Model): string {
  return HEAD_PREFIX.get(model.constructor.name) ?? "";
}

/** One tensor whose shape differs between the model and the weights. */
export interface ShapeMismatch {
  /** State-dict key. */
  key: string;
  /** The model's shape. */
  expected: number[];
  /** The weights' shape. */
  got: number[];
}

/** Weights that do not fit a model (strict loading); nothing was copied. */
export class WeightsMismatchError extends Error implements Renderable {
  /** Keys of the model the weights lack. */
  readonly missingKeys: string[];
  /** Keys of the weights the model lacks. */
  readonly unexpectedKeys: string[];
  /** Keys present on both sides with different shapes. */
  readonly shapeMismatches: ShapeMismatch[];
  /**
   * Lists every problem (long lists shortened) after `what` ("weights do not fit ResNet18"),
   * then `hint` when given (text in any vocabulary, when it names settings).
   */
  constructor(
    what: string,
    problems: Pick<WeightsMismatchError, "missingKeys" | "unexpectedKeys" | "shapeMismatches">,
    hint: string | Words = "",
  ) {
    const list = (keys: string[]) =>
      keys.length > 8
        ? `${keys.slice(0, 8).join(", ")}, ... (${keys.length} in all)`
        : keys.join(", ");
    const parts = [
      ...(problems.missingKeys.length ? [`missing keys: ${list(problems.missingKeys)}`] : []),
      ...(problems.unexpectedKeys.length
        ? [`unexpected keys: ${list(problems.unexpectedKeys)}`]
        : []),
      ...(problems.shapeMismatches.length
        ? [
          `shape mismatches: ${
            list(
              problems.shapeMismatches.map((m) =>
                `${m.key}: expected [${m.expected.join(", ")}], got [${m.got.join(", ")}]`
              ),
            )
          }`,
        ]
        : []),
    ];
    const words: Words = (v) => {
      const h = typeof hint === "string" ? hint : hint(v);
      return `${what}: ${parts.join("; ")}${h ? `; ${h}` : ""}`;
    };
    super(words(LIBRARY_VOCABULARY));
    this.#words = words;
    this.name = "WeightsMismatchError";
    this.missingKeys = problems.missingKeys;
    this.unexpectedKeys = problems.unexpectedKeys;
    this.shapeMismatches = problems.shapeMismatches;
  }

  readonly #words: Words;

  /** The message in vocabulary `v` (its hint names settings as `v` does). */
  render(v: Vocabulary): string {
    return this.#words(v);
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Loads pretrained weights (e.g. torchvision's ImageNet ResNet-18, timm's DeiT-tiny) into
 * `model`, strictly: every key must be there with the model's shape, and none may be extra.
 * Two exceptions:
 *
 * - the classifier head (`fc.*` for ResNet-18, `head.*` for DeiT, `fc2.*` for the shallow CNN):
 *   when the weights' head has another class count, the model keeps its freshly initialised
 *   head and only the rest is loaded;
 * - BatchNorm's `num_batches_tracked` counters, which files saved before PyTorch 0.4.1 (and
 *   torchvision's older ImageNet weights) lack: they stay 0, as `torch.nn.Module.load_state_dict`
 *   does.
 *
 * Anything else throws a {@link WeightsMismatchError} listing every problem (the key, the
 * model's and the weights' shape) and copies nothing. Returns the keys that were left out
 * (`missingKeys`: the head's keys when it was replaced, the absent counters).
 */
export function loadPretrained(model: Model, weights: StateDict): LoadResult {
  const prefix = headPrefix(model);
  const source = weights instanceof Map ? weights : new Map(Object.entries(weights));
  const own = model.stateDict();
  try {
    const isHead = (k: string) => prefix !== "" && k.startsWith(prefix);
    // the head is replaced when its class count (dim 0) differs and nothing else about it does
    const headKeys = [...own.keys()].filter(isHead);
    const replaceHead = headKeys.length > 0 && headKeys.every((k) => {
      const a = own.get(k)!.shape, b = source.get(k)?.shape;
      return b !== undefined && a.length === b.length && a.slice(1).every((v, i) => v === b[i + 1]);
    }) && headKeys.some((k) => !sameShape(own.get(k)!.shape, source.get(k)!.shape));
    const counter = (k: string) =>
      k.endsWith(".num_batches_tracked") || k === "num_batches_tracked";
    const missingKeys = [...own.keys()].filter((k) =>
      !source.has(k) && !counter(k) && !(replaceHead && isHead(k))
    );
    const unexpectedKeys = [...source.keys()].filter((k) => !own.has(k));
    const shapeMismatches: ShapeMismatch[] = [];
    for (const [key, t] of own) {
      const s = source.get(key);
      if (s && !sameShape(s.shape, t.shape) && !(replaceHead && isHead(key))) {
        shapeMismatches.push({ key, expected: [...t.shape], got: [...s.shape] });
      }
    }
    if (missingKeys.length || unexpectedKeys.length || shapeMismatches.length) {
      throw new WeightsMismatchError(`weights do not fit ${model.constructor.name}`, {
        missingKeys,
        unexpectedKeys,
        shapeMismatches,
      });
    }
    const body = replaceHead ? new Map([...source].filter(([k]) => !isHead(k))) : source;
    return model.loadStateDict(body, { strict: false });
  } finally {
    for (const t of own.values()) t.dispose();
  }
}
