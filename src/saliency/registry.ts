/**
 * The one registry of attribution methods by name (Captum's names; smoothgrad =
 * NoiseTunnel(Saliency)) with one set of defaults. SIB, the saliency figures and the trainer's
 * masking all build their attributions here; a caller that needs other settings (the trainer's
 * cheaper masking saliency) passes them explicitly, and SIB records them in sib.json.
 *
 * @module
 */

import type { Module } from "../nn/module.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Target } from "./common.ts";
import { GradCAM } from "./grad_cam.ts";
import { InputXGradient } from "./input_x_gradient.ts";
import { IntegratedGradients } from "./integrated_gradients.ts";
import { NoiseTunnel } from "./noise_tunnel.ts";
import { pixelSaliency } from "./pixel_map.ts";
import { Saliency } from "./saliency.ts";
import { ATTRIBUTION_METHODS, type AttributionMethod, gradcamLayer } from "./names.ts";

export {
  ATTRIBUTION_DEFAULTS,
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  DEFAULT_GRADCAM_LAYER,
  gradcamLayer,
} from "./names.ts";

/** Which attribution, and settings that differ from {@link ATTRIBUTION_DEFAULTS}. */
export interface AttributionChoice {
  /** Method (default saliency). */
  method?: AttributionMethod;
  /** Grad-CAM layer (default per model). */
  layer?: string;
  /** IntegratedGradients steps (default 50). */
  nSteps?: number;
  /** SmoothGrad samples (default 10). */
  nSamples?: number;
  /** Images per pass inside IntegratedGradients (default: the whole batch at once). */
  internalBatchSize?: (batch: number) => number;
  /** Noisy copies per pass inside SmoothGrad (default: all at once). */
  nSamplesBatchSize?: (batch: number) => number;
  /**
   * Saliency and SmoothGrad: |gradient| (default true, as Captum); false keeps the sign.
   * The other methods are signed already.
   */
  abs?: boolean;
}

/** Attributions (same shape as x) of the logits `target` of `model`, by the chosen method. */
export type AttributionFn = (x: Tensor, target: Target) => Tensor;

/** Builds the attribution function of `choice` for a model (`modelName` picks Grad-CAM's layer). */
export function attributionFn(
  model: Module,
  modelName: string,
  choice: AttributionChoice = {},
): AttributionFn {
  const method = choice.method ?? "saliency";
  switch (method) {
    case "saliency": {
      const m = new Saliency(model);
      return (x, y) => m.attribute(x, { target: y, abs: choice.abs });
    }
    case "input_x_gradient": {
      const m = new InputXGradient(model);
      return (x, y) => m.attribute(x, { target: y });
    }
    case "integrated_gradients": {
      const m = new IntegratedGradients(model);
      return (x, y) =>
        m.attribute(x, {
          target: y,
          nSteps: choice.nSteps ?? 50,
          method: "gausslegendre",
          internalBatchSize: choice.internalBatchSize?.(x.shape[0]),
        });
    }
    case "smoothgrad": {
      const m = new NoiseTunnel(new Saliency(model));
      return (x, y) =>
        m.attribute(x, {
          target: y,
          ntType: "smoothgrad",
          abs: choice.abs,
          nSamples: choice.nSamples ?? 10,
          stdevs: 0.15,
          nSamplesBatchSize: choice.nSamplesBatchSize?.(x.shape[0]),
        });
    }
    case "gradcam": {
      const m = new GradCAM(model, gradcamLayer(modelName, choice.layer));
      return (x, y) => m.attribute(x, { target: y, relu: true });
    }
    default:
      throw new RangeError(
        `unknown attribution method "${method}"; expected one of ${ATTRIBUTION_METHODS.join(", ")}`,
      );
  }
}

/**
 * A function from (images on the device, int64 labels) to detached pixel saliency maps
 * (B, H, W) of the labels' logits: the channel reduction of |attribution| (default), or with
 * `abs: false` of the signed attribution (as the trainer's --saliency-sign signed ranks it).
 */
export function pixelSaliencyFn(
  model: Module,
  modelName: string,
  choice: AttributionChoice & { reduction?: "mean" | "sum" | "max" } = {},
): (x: Tensor, y: Tensor) => Tensor {
  const attribute = attributionFn(model, modelName, choice);
  const reduction = choice.reduction ?? "mean";
  const abs = choice.abs ?? true;
  return (x, y) => tidy(() => pixelSaliency(attribute(x, y), { reduction, abs }));
}
