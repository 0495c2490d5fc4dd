/**
 * The FFI layer: the opened shim, its symbol table and error translation.
 *
 * @module
 */

export { lib, loaded, type LoadedLibrary } from "./library.ts";
export { check, TorchError } from "./errors.ts";
export { type Symbols, symbols } from "./symbols.ts";
export { BINARY, RANDOM, REDUCE, REDUCTION, SHAPE, UNARY } from "./ops.ts";
