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
