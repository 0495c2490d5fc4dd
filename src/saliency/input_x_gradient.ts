/**
 * InputXGradient: input times the gradient of the target logit, as Captum's InputXGradient.
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

/** x * d logit_target / d x. */
export class InputXGradient implements Attribution {
  /** Explains `model`. */
  constructor(readonly model: Forward) {}
  /** Elementwise input times gradient, shaped like inputs. */
  attribute(inputs: Tensor, options: AttributeOptions): Tensor {
    return inEvalMode(
      this.model,
      () =>
        tidy(() =>
          inputGradient(
            this.model,
            inputs,
            targetTensor(options.target, inputs.shape[0], inputs.device),
          ).mul(inputs.detach())
        ),
    );
  }
}
