/**
 * The attribution methods by name, their Captum defaults and Grad-CAM's layer per model:
 * plain data, importable without libtorch (the CLI's flag choices read it).
 *
 * @module
 */

/** Attribution methods by name. */
export const ATTRIBUTION_METHODS = [
  "saliency",
  "input_x_gradient",
  "integrated_gradients",
  "smoothgrad",
  "gradcam",
] as const;

/** An attribution method name. */
export type AttributionMethod = typeof ATTRIBUTION_METHODS[number];

/**
 * The defaults, as Captum names them (recorded in sib.json): IntegratedGradients with a zero
 * baseline and 50 Gauss-Legendre steps; SmoothGrad with 10 noisy copies of std 0.15 of the
 * normalised input; Grad-CAM keeping positive evidence, upsampled nearest.
 */
export const ATTRIBUTION_DEFAULTS: Readonly<
  Record<AttributionMethod, Readonly<Record<string, number | string | boolean>>>
> = {
  saliency: { abs: true },
  input_x_gradient: {},
  integrated_gradients: { baselines: 0, n_steps: 50, method: "gausslegendre" },
  smoothgrad: { nt_type: "smoothgrad", nt_samples: 10, stdevs: 0.15 },
  gradcam: { relu_attributions: true, interpolate_mode: "nearest" },
};

/** Grad-CAM's layer per model when none is given. */
export const DEFAULT_GRADCAM_LAYER: Readonly<Record<string, string>> = {
  "shallow-cnn": "conv2",
  "resnet18": "layer4",
};

/** The Grad-CAM layer for a model: `layer`, else the model's default, else an error. */
export function gradcamLayer(model: string, layer?: string): string {
  const l = layer ?? DEFAULT_GRADCAM_LAYER[model];
  if (!l) throw new RangeError(`gradcam on ${model} needs a layer with (B, C, h, w) output`);
  return l;
}
