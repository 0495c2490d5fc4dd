/**
 * Saliency (Simonyan et al.): the gradient of the target logit with respect to the input,
 * absolute by default, as Captum's Saliency.
 *
 * @module
 */

import {
  type AttributeOptions,
  type Attribution,
  type Forward,
  inEvalMode,
  inputGradient,
  targetTensor,
} from "./common.ts";
import { tidy } from "../tensor/engine.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Options of Saliency.attribute. */
export interface SaliencyOptions extends AttributeOptions {
  /** Return |gradient| (default true, as Captum). */
  abs?: boolean;
}

/** Input gradients of the target class. */
export class Saliency implements Attribution<SaliencyOptions> {
  /** Explains `model`. */
  constructor(readonly model: Forward) {}
  /** |d logit_target / d input| (or signed with abs: false), shaped like inputs. */
  attribute(inputs: Tensor, options: SaliencyOptions): Tensor {
    return inEvalMode(this.model, () =>
      tidy(() => {
        const g = inputGradient(
          this.model,
          inputs,
          targetTensor(options.target, inputs.shape[0], inputs.device),
        );
        return options.abs ?? true ? g.abs() : g;
      }));
  }
}
