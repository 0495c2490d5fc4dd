/**
 * hlgm: saliency-guided training (baseline, SGT, HLGM) of image classifiers in Deno, on
 * libtorch (CPU or CUDA) through a small C++ shim.
 *
 * This module is the public API. Tensors are created with {@link tensor}, {@link zeros},
 * {@link randn} and friends; operations are methods named like PyTorch's (camelCase);
 * memory is freed with {@link Tensor.dispose} or scoped with {@link tidy}.
 *
 * @example
 * ```ts
 * import { grad, randn, tidy } from "./mod.ts";
 * const x = randn([4, 3], { requiresGrad: true });
 * const [g] = tidy(() => grad(x.square().sum(), x)); // g = 2x
 * ```
 *
 * @module
 */

export * from "./src/tensor/mod.ts";
export { TorchError } from "./ffi/mod.ts";
export {
  AdviceError,
  isRenderable,
  LIBRARY_VOCABULARY,
  messageIn,
  type Renderable,
  SettingError,
  type SettingProblem,
  type Vocabulary,
  type Words,
} from "./src/util/vocabulary.ts";
export * from "./src/nn/mod.ts";
export * from "./src/optim/mod.ts";
export * from "./src/models/mod.ts";
export {
  assertFiniteWeights,
  CheckpointError,
  type CheckpointSource,
  decodeSafetensors,
  describeNonFinite,
  encodeSafetensors,
  firstNonFinite,
  loadSafetensors,
  loadTorchFile,
  loadTorchObject,
  loadWeightsFile,
  type NonFinite,
  NonFiniteWeightsError,
  PickleDict,
  PickleGlobal,
  readSafetensorsHeader,
  type SafetensorsContents,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsLoadOptions,
  saveSafetensors,
  type TensorDict,
  type TorchLoadOptions,
  type TorchValue,
  type WeightsFile,
  type WeightsFormat,
  weightsFormat,
} from "./src/checkpoint/mod.ts";
export * from "./src/saliency/mod.ts";
export * from "./src/masking/mod.ts";
export * from "./src/metrics/mod.ts";
export * from "./src/train/mod.ts";
export * from "./src/run_folder/mod.ts";
export * from "./src/data/mod.ts";
