/**
 * The one table of the shim's dispatched op families: every op's name and its C++ in each
 * form the family offers. An op's code is its position in its family, so codes have no gaps
 * and mean one op. TypeScript reads the codes from here (ffi/ops.ts); the C++ switch functions
 * are generated from here into native/op_dispatch.h by `deno run -A scripts/gen-ops.ts` (a
 * test checks that regenerating changes nothing).
 *
 * @module
 */

/** One C++ function of a family: its signature and how each op's code is used. */
export interface OpForm {
  /** The generated C++ signature; the op code arrives as `op`. */
  signature: string;
  /** "return": each op is an expression returned; "statement": each op is a statement. */
  style: "return" | "statement";
}

/** A family: the TS name of its codes, a label for errors, its C++ forms and its ops. */
export interface OpFamily {
  /** Label used in "unknown <label> op code N" errors. */
  label: string;
  /** C++ forms by name; every op gives code for some of them. */
  forms: Readonly<Record<string, OpForm>>;
  /** Ops in code order: name -> (form -> C++). */
  ops: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Every dispatched family. */
export const OP_FAMILIES = {
  UNARY: {
    label: "unary",
    forms: {
      unary: { signature: "at::Tensor unary(int32_t op, const at::Tensor& t)", style: "return" },
      unary_: { signature: "void unary_(int32_t op, at::Tensor& t)", style: "statement" },
    },
    ops: {
      neg: { unary: "at::neg(t)" },
      exp: { unary: "at::exp(t)" },
      log: { unary: "at::log(t)" },
      abs: { unary: "at::abs(t)" },
      sqrt: { unary: "at::sqrt(t)" },
      relu: { unary: "at::relu(t)" },
      sigmoid: { unary: "at::sigmoid(t)" },
      tanh: { unary: "at::tanh(t)" },
      sign: { unary: "at::sign(t)" },
      floor: { unary: "at::floor(t)" },
      ceil: { unary: "at::ceil(t)" },
      round: { unary: "at::round(t)" },
      rsqrt: { unary: "at::rsqrt(t)" },
      square: { unary: "at::square(t)" },
      log1p: { unary: "at::log1p(t)" },
      reciprocal: { unary: "at::reciprocal(t)" },
      logicalNot: { unary: "at::logical_not(t)" },
      clone: { unary: "t.clone()" },
      contiguous: { unary: "t.contiguous()" },
      sin: { unary: "at::sin(t)" },
      cos: { unary: "at::cos(t)" },
      isnan: { unary: "at::isnan(t)" },
      isfinite: { unary: "at::isfinite(t)" },
      erfinv: { unary: "at::erfinv(t)" },
      erf: { unary: "at::erf(t)" },
      zero: { unary_: "t.zero_()" },
    },
  },
  BINARY: {
    label: "binary",
    forms: {
      binary: {
        signature: "at::Tensor binary(int32_t op, const at::Tensor& a, const at::Tensor& b)",
        style: "return",
      },
      // s is the JS number as the scalar Python would make of it (scalar_like in ops.cpp)
      binary_scalar: {
        signature: "at::Tensor binary_scalar(int32_t op, const at::Tensor& a, const at::Scalar& s)",
        style: "return",
      },
      binary_: {
        signature: "void binary_(int32_t op, at::Tensor& a, const at::Tensor& b)",
        style: "statement",
      },
      binary_scalar_: {
        signature: "void binary_scalar_(int32_t op, at::Tensor& a, const at::Scalar& s)",
        style: "statement",
      },
    },
    ops: {
      add: {
        binary: "at::add(a, b)",
        binary_scalar: "at::add(a, s)",
        binary_: "a.add_(b)",
        binary_scalar_: "a.add_(s)",
      },
      sub: { binary: "at::sub(a, b)", binary_scalar: "at::sub(a, s)" },
      mul: {
        binary: "at::mul(a, b)",
        binary_scalar: "at::mul(a, s)",
        binary_: "a.mul_(b)",
        binary_scalar_: "a.mul_(s)",
      },
      div: {
        binary: "at::div(a, b)",
        binary_scalar: "at::div(a, s)",
        binary_: "a.div_(b)",
        binary_scalar_: "a.div_(s)",
      },
      pow: { binary: "at::pow(a, b)", binary_scalar: "at::pow(a, s)" },
      eq: { binary: "at::eq(a, b)", binary_scalar: "at::eq(a, s)" },
      ne: { binary: "at::ne(a, b)", binary_scalar: "at::ne(a, s)" },
      lt: { binary: "at::lt(a, b)", binary_scalar: "at::lt(a, s)" },
      le: { binary: "at::le(a, b)", binary_scalar: "at::le(a, s)" },
      gt: { binary: "at::gt(a, b)", binary_scalar: "at::gt(a, s)" },
      ge: { binary: "at::ge(a, b)", binary_scalar: "at::ge(a, s)" },
      maximum: {
        binary: "at::maximum(a, b)",
        binary_scalar: "at::clamp_min(a, s)",
        binary_: "at::maximum_out(a, a, b)",
        binary_scalar_: "a.clamp_min_(s)",
      },
      minimum: {
        binary: "at::minimum(a, b)",
        binary_scalar: "at::clamp_max(a, s)",
        binary_: "at::minimum_out(a, a, b)",
        binary_scalar_: "a.clamp_max_(s)",
      },
      matmul: { binary: "at::matmul(a, b)" },
      remainder: { binary: "at::remainder(a, b)", binary_scalar: "at::remainder(a, s)" },
      logicalAnd: { binary: "at::logical_and(a, b)" },
      logicalOr: { binary: "at::logical_or(a, b)" },
      // a // s promotes like Python's
      floorDivide: { binary: "at::floor_divide(a, b)", binary_scalar: 'at::div(a, s, "floor")' },
      rsub: { binary_scalar: "at::rsub(a, s)" }, // s - a
      copy: { binary_: "a.copy_(b)" },
      fill: { binary_scalar_: "a.fill_(s)" },
    },
  },
  REDUCE: {
    label: "reduce",
    forms: {
      // d: the dims (every dim when none were given); k: keepdim
      reduce: {
        signature:
          "at::Tensor reduce(int32_t op, const at::Tensor& t, std::vector<int64_t> d, bool k)",
        style: "return",
      },
    },
    ops: {
      // d is empty only for a 0-d tensor
      sum: { reduce: "d.empty() ? t.sum() : at::sum(t, d, k)" },
      mean: { reduce: "d.empty() ? t.mean() : at::mean(t, d, k)" },
      amax: { reduce: "at::amax(t, d, k)" },
      amin: { reduce: "at::amin(t, d, k)" },
      logsumexp: { reduce: "at::logsumexp(t, d, k)" },
      prod: {
        reduce:
          "over_dims(t, d, k, [](const at::Tensor& r, int64_t i, bool kd) { return at::prod(r, i, kd); })",
      },
      all: {
        reduce:
          "over_dims(t.to(at::kBool), d, k, [](const at::Tensor& r, int64_t i, bool kd) { return at::all(r, i, kd); })",
      },
      any: {
        reduce:
          "over_dims(t.to(at::kBool), d, k, [](const at::Tensor& r, int64_t i, bool kd) { return at::any(r, i, kd); })",
      },
    },
  },
  STD_VAR: {
    label: "std/var",
    forms: {
      std_var: {
        signature:
          "at::Tensor std_var(int32_t op, const at::Tensor& t, const std::vector<int64_t>& d, bool unbiased, bool k)",
        style: "return",
      },
    },
    ops: {
      std: { std_var: "at::std(t, d, unbiased, k)" },
      var: { std_var: "at::var(t, d, unbiased, k)" },
    },
  },
  MAX_MIN_DIM: {
    label: "max/min",
    forms: {
      max_min_dim: {
        signature:
          "std::tuple<at::Tensor, at::Tensor> max_min_dim(int32_t op, const at::Tensor& t, int64_t dim, bool k)",
        style: "return",
      },
    },
    ops: {
      max: { max_min_dim: "at::max(t, dim, k)" },
      min: { max_min_dim: "at::min(t, dim, k)" },
    },
  },
  ARG_MAX_MIN: {
    label: "argmax/argmin",
    forms: {
      arg_max_min: {
        signature:
          "at::Tensor arg_max_min(int32_t op, const at::Tensor& t, hlgm::optional<int64_t> dim, bool k)",
        style: "return",
      },
    },
    ops: {
      argmax: { arg_max_min: "at::argmax(t, dim, k)" },
      argmin: { arg_max_min: "at::argmin(t, dim, k)" },
    },
  },
  SHAPE: {
    label: "shape",
    forms: {
      shape_op: {
        signature: "at::Tensor shape_op(int32_t op, const at::Tensor& t, at::IntArrayRef s)",
        style: "return",
      },
    },
    ops: {
      reshape: { shape_op: "t.reshape(s)" },
      view: { shape_op: "t.view(s)" },
      permute: { shape_op: "t.permute(s)" },
      expand: { shape_op: "t.expand(s)" },
      repeat: { shape_op: "t.repeat(s)" },
      flip: { shape_op: "at::flip(t, s)" },
    },
  },
  ADDC: {
    label: "addc",
    forms: {
      // a += value * b * c (addcmul_) or a += value * b / c (addcdiv_)
      addc_: {
        signature:
          "void addc_(int32_t op, at::Tensor& a, const at::Tensor& b, const at::Tensor& c, double value)",
        style: "statement",
      },
    },
    ops: {
      addcmul: { addc_: "a.addcmul_(b, c, value)" },
      addcdiv: { addc_: "a.addcdiv_(b, c, value)" },
    },
  },
  RANDOM: {
    label: "random",
    forms: {
      random_: {
        signature: "void random_(int32_t op, at::Tensor& t, double lo, double hi)",
        style: "statement",
      },
    },
    ops: {
      uniform: { random_: "t.uniform_(lo, hi)" }, // [lo, hi)
      normal: { random_: "t.normal_(lo, hi)" }, // mean lo, std hi
      integers: { random_: "t.random_(static_cast<int64_t>(lo), static_cast<int64_t>(hi))" },
    },
  },
} as const satisfies Record<string, OpFamily>;

/** libtorch's at::Reduction enum (not dispatched by the shim; passed to its loss functions). */
export const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;
