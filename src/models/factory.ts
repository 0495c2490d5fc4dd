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

/**
 * Loads pretrained weights (e.g. torchvision's ImageNet ResNet-18, timm's DeiT-tiny) into
 * `model`. When the checkpoint's classifier has a different class count, the model keeps a
 * freshly initialised head and only the rest is loaded (strictly: every other key must match).
 * Returns the keys that were left out.
 */
export function loadPretrained(model: Model, weights: StateDict): LoadResult {
  const prefix = HEAD_PREFIX.get(model.constructor.name) ?? "";
  const source = weights instanceof Map ? weights : new Map(Object.entries(weights));
  const own = model.stateDict();
  try {
    const mismatchedHead = [...source].some(([k, t]) =>
      k.startsWith(prefix) && own.has(k) && t.shape.join() !== own.get(k)!.shape.join()
    );
    if (!mismatchedHead) return model.loadStateDict(source);
    const body = new Map([...source].filter(([k]) => !k.startsWith(prefix)));
    const result = model.loadStateDict(body, { strict: false });
    const stillMissing = result.missingKeys.filter((k) => !k.startsWith(prefix));
    if (stillMissing.length || result.unexpectedKeys.length || result.shapeMismatches.length) {
      throw new Error(
        `loadPretrained(${model.constructor.name}): missing ${
          stillMissing.join(", ") || "none"
        }; ` +
          `unexpected ${result.unexpectedKeys.join(", ") || "none"}; ` +
          `shape mismatches ${result.shapeMismatches.join("; ") || "none"}`,
      );
    }
    return result;
  } finally {
    for (const t of own.values()) t.dispose();
  }
}
