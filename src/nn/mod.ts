/**
 * Neural-network building blocks with torch.nn's names and state-dict keys.
 *
 * @module
 */

export { Identity, type LoadResult, Module, Sequential, type StateDict } from "./module.ts";
export { Parameter } from "./parameter.ts";
export {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  type BatchNorm2dOptions,
  Conv2d,
  type Conv2dLayerOptions,
  Dropout,
  Flatten,
  GELU,
  LayerNorm,
  Linear,
  MaxPool2d,
  ReLU,
} from "./layers.ts";
export { Mlp, MultiheadSelfAttention, TransformerBlock } from "./attention.ts";
export * as init from "./init.ts";
export type { InitOptions } from "./init.ts";
