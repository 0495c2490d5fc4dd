/**
 * Parameter: a tensor that a Module owns and trains (requiresGrad, never freed by tidy).
 *
 * @module
 */

import { keep } from "../tensor/engine.ts";
import { Tensor } from "../tensor/tensor.ts";

/** A trainable tensor owned by a Module (torch.nn.Parameter). */
export class Parameter extends Tensor {
  /**
   * Takes over `data` (which becomes disposed) as a parameter. It requires grad unless
   * `requiresGrad` is false, and is kept out of every tidy scope: the owning Module frees it.
   */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.takeHandle());
    keep(this);
    if (requiresGrad) this.requiresGrad = true;
  }
}
