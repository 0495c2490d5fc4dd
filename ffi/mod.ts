/**
 * The FFI layer: the opened shim, its symbol table and error translation.
 *
 * @module
 */

export { lib, type LoadedLibrary, loadLibrary } from "./library.ts";
export { check, TorchError } from "./errors.ts";
export { type Symbols, symbols } from "./symbols.ts";
export {
  ADDC,
  ARG_MAX_MIN,
  BINARY,
  MAX_MIN_DIM,
  RANDOM,
  REDUCE,
  REDUCTION,
  SHAPE,
  STD_VAR,
  UNARY,
} from "./ops.ts";
