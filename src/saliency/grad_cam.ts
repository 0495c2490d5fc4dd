/**
 * Grad-CAM (Selvaraju et al.) on a named layer, as Captum's LayerGradCam followed by
 * LayerAttribution.interpolate to the input size: the layer's activations weighted by the
 * spatial mean of their gradients, summed over channels.
 *
 * @module
 */

import {
  type AttributeOptions,
  type Attribution,
  inEvalMode,
  targetScore,
  targetTensor,
} from "./common.ts";
import type { Module } from "../nn/module.ts";
import { grad } from "../tensor/autograd.ts";
import { keep, tidy } from "../tensor/engine.ts";
import { interpolate } from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of GradCAM.attribute. */
export interface GradCAMOptions extends AttributeOptions {
  /** Keep only positive evidence (Captum's relu_attributions; default false). */
  relu?: boolean;
  /** Upsample the map to the input size (default true). */
  upsample?: boolean;
  /** Upsampling mode (default "nearest", as Captum's LayerAttribution.interpolate). */
  interpolateMode?: "nearest" | "bilinear";
}

/** Grad-CAM maps (B, 1, H, W) for a layer given by its dotted name, e.g. "conv2" or "layer4". */
export class GradCAM implements Attribution<GradCAMOptions> {
  readonly #layer: Module;
  /** Explains `model` at the output of the layer `layerName`. */
  constructor(readonly model: Module, readonly layerName: string) {
    const found = model.namedModules().find(([name]) => name === layerName);
    if (!found) {
      const names = model.namedModules().map(([n]) => n).filter((n) => n).slice(0, 30).join(", ");
      throw new RangeError(
        `GradCAM: no layer "${layerName}" in ${model.constructor.name} (layers: ${names}, ...)`,
      );
    }
    this.#layer = found[1];
  }

  /** sum_k mean_hw(dy/dA_k) * A_k, optionally relu'd and upsampled to the input size. */
  attribute(inputs: Tensor, options: GradCAMOptions): Tensor {
    const layer = this.#layer;
    return inEvalMode(this.model, () =>
      tidy(() => {
        let activation: Tensor | undefined;
        const original = layer.forward;
        // capture the layer's output on this call only; kept, because the model's forward frees
        // the intermediates it does not return when it ends (its own tidy)
        layer.forward = (x: Tensor) => (activation = keep(original.call(layer, x)));
        try {
          const logits = this.model.forward(inputs.detach());
          layer.forward = original;
          return camOf(this.layerName, logits, activation, inputs, options);
        } finally {
          layer.forward = original;
          activation?.dispose();
        }
      }));
  }
}

/** The Grad-CAM map of the captured activation (see {@link GradCAM.attribute}). */
function camOf(
  layerName: string,
  logits: Tensor,
  activation: Tensor | undefined,
  inputs: Tensor,
  options: GradCAMOptions,
): Tensor {
  if (!activation || activation.ndim !== 4) {
    throw new Error(
      `GradCAM: layer "${layerName}" must output (B, C, h, w), got ${
        activation ? `[${activation.shape}]` : "nothing"
      }`,
    );
  }
  const target = targetTensor(options.target, inputs.shape[0], inputs.device);
  const [g] = grad(targetScore(logits, target), activation);
  let cam = g!.mean([2, 3], true).mul(activation.detach()).sum(1, true);
  if (options.relu) cam = cam.relu();
  if (options.upsample ?? true) {
    cam = interpolate(cam, {
      size: [inputs.shape[2], inputs.shape[3]],
      mode: options.interpolateMode ?? "nearest",
    });
  }
  return cam.detach();
}
