/**
 * Saliency-guided masking of input batches.
 *
 * @module
 */

export {
  dilateMask,
  maskBottomK,
  maskBySaliency,
  maskCount,
  type Masked,
  type MaskFill,
  type MaskOptions,
  maskTopK,
} from "./mask.ts";
