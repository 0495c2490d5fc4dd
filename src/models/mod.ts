/**
 * Models by name: the shallow CNN, ResNet-18 (torchvision keys) and DeiT-tiny (timm keys).
 *
 * @module
 */

export {
  createModel,
  loadPretrained,
  type Model,
  MODEL_NAMES,
  type ModelName,
  type ModelOptions,
} from "./factory.ts";
export { ShallowCNN, type ShallowCnnOptions } from "./shallow_cnn.ts";
export { BasicBlock, ResNet18, type ResNetOptions } from "./resnet.ts";
export { DeiT, type DeiTOptions, PatchEmbed } from "./deit.ts";
