/**
 * Models by name: the shallow CNN, ResNet-18 (torchvision keys) and DeiT-tiny (timm keys).
 *
 * @module
 */

export {
  createModel,
  headPrefix,
  loadPretrained,
  type Model,
  MODEL_NAMES,
  type ModelName,
  type ModelOptions,
  type ShapeMismatch,
  WeightsMismatchError,
} from "./factory.ts";
export { autoStem, DEIT_PATCH, type Stem, STEMS } from "./names.ts";
export { ShallowCNN, type ShallowCnnOptions } from "./shallow_cnn.ts";
export { BasicBlock, ResNet18, type ResNetOptions } from "./resnet.ts";
export { DeiT, type DeiTOptions, PatchEmbed } from "./deit.ts";
