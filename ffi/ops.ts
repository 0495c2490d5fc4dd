/**
 * Op codes of the shim's dispatched families (native/ops.cpp, native/nn.cpp). Keep in step
 * with the `switch` tables there.
 *
 * @module
 */

/** hlgm_unary / hlgm_unary_ */
export const UNARY = {
  neg: 0,
  exp: 1,
  log: 2,
  abs: 3,
  sqrt: 4,
  relu: 5,
  sigmoid: 6,
  tanh: 7,
  sign: 8,
  floor: 9,
  ceil: 10,
  round: 11,
  rsqrt: 12,
  square: 13,
  log1p: 14,
  reciprocal: 15,
  logicalNot: 16,
  clone: 17,
  contiguous: 18,
  sin: 19,
  cos: 20,
  isnan: 21,
  isfinite: 22,
  zero: 23,
  erfinv: 24,
  erf: 25,
} as const;

/** hlgm_binary / hlgm_binary_scalar / in-place variants; scalar-on-the-left codes are +100. */
export const BINARY = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  eq: 5,
  ne: 6,
  lt: 7,
  le: 8,
  gt: 9,
  ge: 10,
  maximum: 11,
  minimum: 12,
  matmul: 13,
  remainder: 14,
  logicalAnd: 15,
  logicalOr: 16,
  floorDivide: 17,
  copy: 50,
  rsub: 101,
  rdiv: 103,
  rpow: 104,
} as const;

/** hlgm_reduce */
export const REDUCE = {
  sum: 0,
  mean: 1,
  amax: 2,
  amin: 3,
  logsumexp: 4,
  prod: 5,
  all: 6,
  any: 7,
} as const;

/** hlgm_shape_op */
export const SHAPE = { reshape: 0, view: 1, permute: 2, expand: 3, repeat: 4, flip: 5 } as const;

/** hlgm_random */
export const RANDOM = { uniform: 0, normal: 1, integers: 2 } as const;

/** at::Reduction */
export const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;
