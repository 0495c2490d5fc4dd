/**
 * How a run computes: its precision (float32, or autocast to bfloat16 / float16) and memory
 * layout, as one object the training step and the evaluation call. Under bf16-mixed and
 * fp16-mixed, the forward passes of a step run under autocast: the loss, the saliency that
 * ranks pixels for masking (its forward and the input gradient: what the masks are made from
 * is what the model computes in that precision), the masked forward; and the evaluation's
 * forward. Backward runs outside the scope (its ops follow the forward's types). Weights,
 * gradients, optimizer state and checkpoints stay float32; saliency maps, figures and SIB
 * after training run in float32.
 *
 * @module
 */

import { GradScaler } from "../optim/grad_scaler.ts";
import { autocast, type AutocastDType } from "../tensor/amp.ts";
import { type Device, deviceCode } from "../tensor/device.ts";
import { kernelCheck } from "../tensor/kernel_check.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { FP16_ON_CPU, SETTINGS, type TrainConfig } from "./config.ts";
import { LIBRARY_VOCABULARY, type Vocabulary } from "../util/vocabulary.ts";

/** The precision and layout a run computes in (see the module's description). */
export interface StepPrecision {
  /** "fp32", "bf16-mixed" or "fp16-mixed". */
  readonly name: NonNullable<TrainConfig["precision"]>;
  /** Runs `fn` (forward passes) in the run's precision: under autocast, or as it is. */
  forward<T>(fn: () => T): T;
  /** The input as the model takes it (channels-last when the run lays out so; else itself). */
  input(x: Tensor): Tensor;
  /** Loss scaling (fp16-mixed only). */
  readonly scaler: GradScaler | null;
}

/** Float32 in the plain layout: what a step without settings does. */
export const FP32: StepPrecision = {
  name: "fp32",
  forward: (fn) => fn(),
  input: (x) => x,
  scaler: null,
};

/**
 * The precision of a run on `device` (resolved, not "auto"). Throws for fp16-mixed on the CPU,
 * whose autocast runs bfloat16 only.
 */
export function stepPrecision(
  c: Pick<TrainConfig, "precision" | "channelsLast">,
  device: Device,
): StepPrecision {
  const name = c.precision ?? SETTINGS.precision.absentMeans;
  const cuda = deviceCode(device) >= 0;
  if (name === "fp16-mixed" && !cuda) throw new RangeError(FP16_ON_CPU);
  const input = c.channelsLast ? (x: Tensor) => x.contiguous("channels-last") : FP32.input;
  if (name === "fp32") return { ...FP32, input };
  const dtype: AutocastDType = name === "bf16-mixed" ? "bfloat16" : "float16";
  const deviceType = cuda ? "cuda" : "cpu";
  return {
    name,
    forward: (fn) => autocast({ deviceType, dtype }, fn),
    input,
    scaler: name === "fp16-mixed" ? new GradScaler() : null,
  };
}

/**
 * Why the run's precision is a poor choice here, or null: bfloat16 convolutions on the CPU
 * without oneDNN (not built in, or turned off by the kernel check) take libtorch's reference
 * kernels, several times slower than float32 (6.6 s against 1.8 s a step for the shallow CNN on
 * CIFAR-size inputs, PyTorch 1.13 on 2 cores) and less accurate in the plain layout (ResNet-18's
 * logits 10% of their scale from float64, against 1.4% through oneDNN: tests/amp_test.ts).
 */
export function precisionWarning(
  precision: StepPrecision,
  device: Device,
  v: Vocabulary = LIBRARY_VOCABULARY,
): string | null {
  if (precision.name !== "bf16-mixed" || deviceCode(device) >= 0) return null;
  const k = kernelCheck();
  if (k.onednnEnabled) return null;
  return `bf16-mixed on this CPU runs without oneDNN (${k.decision}): libtorch's reference ` +
    `bfloat16 convolutions are slower than float32 and less accurate; ` +
    `${v.settingValue("precision", "fp32")} is faster here`;
}
