/**
 * Attribution methods with Captum's names, defaults and `attribute(inputs, { target, ... })`
 * signature, batched on the model's device, and pixel saliency maps.
 *
 * @module
 */

export { type AttributeOptions, type Attribution, type Forward, type Target } from "./common.ts";
export { Saliency, type SaliencyOptions } from "./saliency.ts";
export { InputXGradient } from "./input_x_gradient.ts";
export {
  IntegratedGradients,
  type IntegratedGradientsOptions,
  type IntegrationMethod,
  integrationRule,
} from "./integrated_gradients.ts";
export { NoiseTunnel, type NoiseTunnelOptions } from "./noise_tunnel.ts";
export { GradCAM, type GradCAMOptions } from "./grad_cam.ts";
export { type PixelMapOptions, pixelSaliency } from "./pixel_map.ts";
export {
  ATTRIBUTION_DEFAULTS,
  ATTRIBUTION_METHODS,
  type AttributionChoice,
  type AttributionFn,
  attributionFn,
  type AttributionMethod,
  DEFAULT_GRADCAM_LAYER,
  gradcamLayer,
} from "./registry.ts";
