/**
 * Memory formats (torch.memory_format): how a 4-D tensor's elements are laid out.
 *
 * @module
 */

/** The memory formats a tensor can be laid out in. */
export const MEMORY_FORMATS = ["contiguous", "channels-last"] as const;

/**
 * `"contiguous"`: row-major NCHW (torch.contiguous_format); `"channels-last"`: NHWC strides
 * with the shape kept (torch.channels_last; 4-D tensors only).
 */
export type MemoryFormat = typeof MEMORY_FORMATS[number];

/** The shim's code of a memory format. */
export function memoryFormatCode(format: MemoryFormat): number {
  const code = MEMORY_FORMATS.indexOf(format);
  if (code < 0) {
    throw new TypeError(
      `unknown memory format ${JSON.stringify(format)}; expected ${MEMORY_FORMATS.join(" or ")}`,
    );
  }
  return code;
}
