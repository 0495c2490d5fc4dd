/**
 * The shapes the faithfulness metrics take: a batch of inputs and one pixel map per input.
 *
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";

/** Refuses inputs that are not (N, C, H, W), or a saliency that is not (N, H, W) for them. */
export function checkMapBatch(x: Tensor, saliency: Tensor): void {
  if (x.shape.length !== 4) throw new RangeError(`inputs must be (N, C, H, W), got [${x.shape}]`);
  const [b, , h, w] = x.shape;
  if (saliency.shape.join() !== [b, h, w].join()) {
    throw new RangeError(
      `saliency must be (N, H, W) = [${[b, h, w]}] for inputs [${x.shape}], got ` +
        `[${saliency.shape}]`,
    );
  }
}
