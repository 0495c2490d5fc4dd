/**
 * Tensors, autograd and memory scopes over libtorch.
 *
 * @module
 */

export { type BackwardOptions, type NestedArray, Tensor, type ValuesIndices } from "./tensor.ts";
export {
  arange,
  type CreateOptions,
  empty,
  fromBytes,
  full,
  getRngState,
  manualSeed,
  ones,
  rand,
  randint,
  randn,
  setRngState,
  tensor,
  type TensorData,
  uniform,
  zeros,
} from "./create.ts";
export { enableGrad, grad, type GradOptions, isGradEnabled, noGrad } from "./autograd.ts";
export {
  autocast,
  type AutocastDevice,
  type AutocastDType,
  type AutocastOptions,
  type AutocastState,
  autocastState,
} from "./amp.ts";
export { MEMORY_FORMATS, type MemoryFormat } from "./memory_format.ts";
export {
  keep,
  memory,
  type MemoryInfo,
  releaseCachedMemory,
  tidy,
  type Tracked,
} from "./engine.ts";
export {
  cudaAvailable,
  cudaDeviceCount,
  type Device,
  getDefaultDevice,
  setDefaultDevice,
} from "./device.ts";
export { type DType, type TypedArray } from "./dtype.ts";
export { getNumThreads, type Info, info, setNumThreads, synchronize, VERSION } from "./runtime.ts";
export {
  KEPT_PASS_ROUNDS,
  KERNEL_CHECK_BF16_TOLERANCE,
  KERNEL_CHECK_ROUNDS,
  KERNEL_CHECK_TOLERANCE,
  type KernelCheck,
  kernelCheck,
  MKLDNN_ENV,
  SIMULATE_FAULT_ENV,
  VERDICT_DIR_ENV,
} from "./kernel_check.ts";
export * as F from "./functional.ts";
export {
  adaptiveAvgPool2d,
  avgPool2d,
  batchNorm,
  type BatchNormOptions,
  cat,
  type ClassLossOptions,
  conv2d,
  type Conv2dOptions,
  crossEntropy,
  dropout,
  gelu,
  interpolate,
  type InterpolateOptions,
  klDiv,
  layerNorm,
  linear,
  logSoftmax,
  maxPool2d,
  mseLoss,
  nllLoss,
  oneHot,
  type PoolOptions,
  type Reduction,
  relu,
  type Size2,
  softmax,
  stack,
  where,
} from "./functional.ts";
export {
  DEFAULT_BUCKET_BYTES,
  DEFAULT_TIMEOUT_MS,
  distributedAvailable,
  type DistributedEnv,
  distributedEnv,
  distributedUnavailableReason,
  LAUNCHER_STORE_ENV,
  ncclAvailable,
  ProcessGroup,
  type ProcessGroupOptions,
  RendezvousStore,
  type RendezvousStoreOptions,
} from "./distributed.ts";
export {
  adadeltaStep,
  adamStep,
  clipGradNormFused,
  type FusedState,
  MASK_FILL,
  maskBySaliencyFused,
  sgdStep,
  zeroGrads,
} from "./fused.ts";
