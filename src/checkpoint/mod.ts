/**
 * Checkpoint file formats: safetensors (read and write) and PyTorch's `torch.save` ZIP
 * format (read, weights only: nothing in the file is ever executed), and either of them as a
 * file of model weights.
 *
 * @module
 */

export { CheckpointError, type CheckpointSource } from "./io.ts";
export {
  assertFiniteWeights,
  describeNonFinite,
  firstNonFinite,
  type NonFinite,
  NonFiniteWeightsError,
} from "./finite.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  readSafetensorsHeader,
  type SafetensorsContents,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsLoadOptions,
  saveSafetensors,
  type TensorDict,
} from "./safetensors.ts";
export {
  loadTorchFile,
  loadTorchObject,
  type TorchLoadOptions,
  type TorchValue,
} from "./torch_pt.ts";
export { PickleDict, PickleGlobal } from "./pickle.ts";
export {
  loadWeightsFile,
  type WeightsFile,
  type WeightsFormat,
  weightsFormat,
} from "./weights_file.ts";
