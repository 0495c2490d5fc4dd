/**
 * Op codes of the shim's dispatched families, read from the one op table (ffi/op_table.ts)
 * from which native/op_dispatch.h is generated: an op's code is its position in its family.
 *
 * @module
 */

import { OP_FAMILIES, REDUCTION } from "./op_table.ts";

type Codes<F extends keyof typeof OP_FAMILIES> = {
  readonly [K in keyof typeof OP_FAMILIES[F]["ops"]]: number;
};

function codes<F extends keyof typeof OP_FAMILIES>(family: F): Codes<F> {
  return Object.freeze(
    Object.fromEntries(Object.keys(OP_FAMILIES[family].ops).map((name, i) => [name, i])),
  ) as Codes<F>;
}

/** hlgm_unary / hlgm_unary_ */
export const UNARY: Codes<"UNARY"> = codes("UNARY");
/** hlgm_binary / hlgm_binary_scalar / hlgm_binary_ / hlgm_binary_scalar_ */
export const BINARY: Codes<"BINARY"> = codes("BINARY");
/** hlgm_reduce */
export const REDUCE: Codes<"REDUCE"> = codes("REDUCE");
/** hlgm_std_var */
export const STD_VAR: Codes<"STD_VAR"> = codes("STD_VAR");
/** hlgm_max_min_dim */
export const MAX_MIN_DIM: Codes<"MAX_MIN_DIM"> = codes("MAX_MIN_DIM");
/** hlgm_arg_max_min */
export const ARG_MAX_MIN: Codes<"ARG_MAX_MIN"> = codes("ARG_MAX_MIN");
/** hlgm_shape_op */
export const SHAPE: Codes<"SHAPE"> = codes("SHAPE");
/** hlgm_addc_ */
export const ADDC: Codes<"ADDC"> = codes("ADDC");
/** hlgm_random */
export const RANDOM: Codes<"RANDOM"> = codes("RANDOM");

export { REDUCTION };
