/**
 * Model names, without the models: configuration tables and the CLI import this without
 * loading libtorch.
 *
 * @module
 */

/** Model names accepted by createModel and the CLI. */
export const MODEL_NAMES = ["shallow-cnn", "resnet18", "deit-tiny"] as const;

/** A model name. */
export type ModelName = typeof MODEL_NAMES[number];

/**
 * Input stems of resnet18 and deit-tiny: `imagenet` is the layout of ImageNet weights
 * (resnet18: 7x7/2 conv and 3x3/2 max pool; deit-tiny: 16x16 patches), `cifar` the small-image
 * one (resnet18: 3x3/1 conv, no max pool; deit-tiny: 4x4 patches).
 */
export const STEMS = ["imagenet", "cifar"] as const;

/** An input stem. */
export type Stem = typeof STEMS[number];

/** The stem a model takes when none is chosen: resnet18 cifar at 64 px and below, deit-tiny imagenet from 224 px. */
export function autoStem(model: string, imageSize: number): Stem {
  if (model === "deit-tiny") return imageSize >= 224 ? "imagenet" : "cifar";
  return imageSize <= 64 ? "cifar" : "imagenet";
}

/** deit-tiny's patch size for a stem. */
export const DEIT_PATCH: Record<Stem, number> = { imagenet: 16, cifar: 4 };
