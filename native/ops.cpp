// Elementwise math, reductions, shape and indexing ops. Op families are dispatched by an int32
// code; their switches are generated from ffi/op_table.ts into op_dispatch.h.
#include "shim.h"

#include <cmath>

#include "op_dispatch.h"

using namespace hlgm_ops;

// JS numbers arrive as doubles. A whole number meets an integer (or bool) tensor as a Python
// int would, so int64 + 3 stays int64, as in PyTorch; otherwise it is a float scalar.
static at::Scalar scalar_like(const at::Tensor& t, double v) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true) && std::floor(v) == v &&
      std::fabs(v) < 9.2e18) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}

HLGM_EXPORT char* hlgm_unary(int32_t op, Box* a, Box** out) { PROTECT(out[0] = wrap(unary(op, a->t))) }
HLGM_EXPORT char* hlgm_unary_(int32_t op, Box* a) { PROTECT(unary_(op, a->t)) }
HLGM_EXPORT char* hlgm_binary(int32_t op, Box* a, Box* b, Box** out) {
  PROTECT(out[0] = wrap(binary(op, a->t, b->t)))
}
HLGM_EXPORT char* hlgm_binary_scalar(int32_t op, Box* a, double s, Box** out) {
  PROTECT(out[0] = wrap(binary_scalar(op, a->t, scalar_like(a->t, s))))
}
HLGM_EXPORT char* hlgm_binary_(int32_t op, Box* a, Box* b) { PROTECT(binary_(op, a->t, b->t)) }
HLGM_EXPORT char* hlgm_binary_scalar_(int32_t op, Box* a, double s) {
  PROTECT(binary_scalar_(op, a->t, scalar_like(a->t, s)))
}

// a + alpha * b (out of place, or in place into a when out is null)
HLGM_EXPORT char* hlgm_add_scaled(Box* a, Box* b, double alpha, Box** out) {
  PROTECT({
    if (out == nullptr) a->t.add_(b->t, alpha);
    else out[0] = wrap(at::add(a->t, b->t, alpha));
  })
}

// ADDC: a += value * b * c or a += value * b / c, in place
HLGM_EXPORT char* hlgm_addc_(int32_t op, Box* a, Box* b, Box* c, double value) {
  PROTECT(addc_(op, a->t, b->t, c->t, value))
}

HLGM_EXPORT char* hlgm_where(Box* cond, Box* a, Box* b, Box** out) {
  PROTECT(out[0] = wrap(at::where(cond->t, a->t, b->t)))
}

HLGM_EXPORT char* hlgm_clamp(Box* a, double lo, int32_t has_lo, double hi, int32_t has_hi, Box** out) {
  PROTECT({
    hlgm::optional<at::Scalar> l = has_lo ? hlgm::optional<at::Scalar>(scalar_like(a->t, lo)) : hlgm::nullopt;
    hlgm::optional<at::Scalar> h = has_hi ? hlgm::optional<at::Scalar>(scalar_like(a->t, hi)) : hlgm::nullopt;
    out[0] = wrap(at::clamp(a->t, l, h));
  })
}

// ---- reductions ----

// REDUCE over dims (none = every dim)
HLGM_EXPORT char* hlgm_reduce(int32_t op, Box* a, const int64_t* dims, int32_t ndims, int32_t keepdim,
                              Box** out) {
  PROTECT({
    std::vector<int64_t> d(dims, dims + ndims);
    if (d.empty()) for (int64_t i = 0; i < a->t.dim(); i++) d.push_back(i);
    out[0] = wrap(reduce(op, a->t, d, keepdim != 0));
  })
}

// STD_VAR over dims (none = every dim); unbiased = Bessel's correction
HLGM_EXPORT char* hlgm_std_var(int32_t op, Box* a, const int64_t* dims, int32_t ndims, int32_t unbiased,
                               int32_t keepdim, Box** out) {
  PROTECT({
    std::vector<int64_t> d(dims, dims + ndims);
    if (d.empty()) for (int64_t i = 0; i < a->t.dim(); i++) d.push_back(i);
    out[0] = wrap(std_var(op, a->t, d, unbiased != 0, keepdim != 0));
  })
}

// MAX_MIN_DIM along one dim: out = [values, indices]
HLGM_EXPORT char* hlgm_max_min_dim(int32_t op, Box* a, int32_t dim, int32_t keepdim, Box** out) {
  PROTECT({
    auto r = max_min_dim(op, a->t, dim, keepdim != 0);
    out[0] = wrap(std::get<0>(r));
    out[1] = wrap(std::get<1>(r));
  })
}

// ARG_MAX_MIN; has_dim = 0 flattens
HLGM_EXPORT char* hlgm_arg_max_min(int32_t op, Box* a, int32_t dim, int32_t has_dim, int32_t keepdim,
                                   Box** out) {
  PROTECT({
    hlgm::optional<int64_t> d = has_dim ? hlgm::optional<int64_t>(dim) : hlgm::nullopt;
    out[0] = wrap(arg_max_min(op, a->t, d, keepdim != 0));
  })
}

// ---- shape ----

// SHAPE ops taking a size list
HLGM_EXPORT char* hlgm_shape_op(int32_t op, Box* a, const int64_t* sizes, int32_t n, Box** out) {
  PROTECT(out[0] = wrap(shape_op(op, a->t, ints(sizes, n))))
}

HLGM_EXPORT char* hlgm_transpose(Box* a, int32_t d0, int32_t d1, Box** out) {
  PROTECT(out[0] = wrap(a->t.transpose(d0, d1)))
}
HLGM_EXPORT char* hlgm_flatten(Box* a, int32_t start, int32_t end, Box** out) {
  PROTECT(out[0] = wrap(a->t.flatten(start, end)))
}
HLGM_EXPORT char* hlgm_squeeze(Box* a, int32_t dim, int32_t has_dim, Box** out) {
  PROTECT(out[0] = wrap(has_dim ? a->t.squeeze(dim) : a->t.squeeze()))
}
HLGM_EXPORT char* hlgm_unsqueeze(Box* a, int32_t dim, Box** out) { PROTECT(out[0] = wrap(a->t.unsqueeze(dim))) }

HLGM_EXPORT char* hlgm_slice(Box* a, int32_t dim, double start, double end, double step, Box** out) {
  PROTECT(out[0] = wrap(a->t.slice(dim, static_cast<int64_t>(start), static_cast<int64_t>(end),
                                   static_cast<int64_t>(step))))
}
HLGM_EXPORT char* hlgm_narrow(Box* a, int32_t dim, double start, double length, Box** out) {
  PROTECT(out[0] = wrap(a->t.narrow(dim, static_cast<int64_t>(start), static_cast<int64_t>(length))))
}
HLGM_EXPORT char* hlgm_select(Box* a, int32_t dim, double index, Box** out) {
  PROTECT(out[0] = wrap(a->t.select(dim, static_cast<int64_t>(index))))
}

// op 0 cat, 1 stack
HLGM_EXPORT char* hlgm_join(int32_t op, Box** list, int32_t n, int32_t dim, Box** out) {
  PROTECT({
    auto v = tensors(list, n);
    out[0] = wrap(op == 0 ? at::cat(v, dim) : at::stack(v, dim));
  })
}

// ---- indexing ----

HLGM_EXPORT char* hlgm_index_select(Box* a, int32_t dim, Box* index, Box** out) {
  PROTECT(out[0] = wrap(at::index_select(a->t, dim, index->t)))
}
HLGM_EXPORT char* hlgm_gather(Box* a, int32_t dim, Box* index, Box** out) {
  PROTECT(out[0] = wrap(at::gather(a->t, dim, index->t)))
}
// src null: scatter the scalar value
HLGM_EXPORT char* hlgm_scatter(Box* a, int32_t dim, Box* index, Box* src, double value, Box** out) {
  PROTECT(out[0] = wrap(src != nullptr ? at::scatter(a->t, dim, index->t, src->t)
                                       : at::scatter(a->t, dim, index->t, value)))
}
HLGM_EXPORT char* hlgm_masked_fill(Box* a, Box* mask, double value, Box** out) {
  PROTECT(out[0] = wrap(at::masked_fill(a->t, mask->t, value)))
}
HLGM_EXPORT char* hlgm_masked_select(Box* a, Box* mask, Box** out) {
  PROTECT(out[0] = wrap(at::masked_select(a->t, mask->t)))
}
HLGM_EXPORT char* hlgm_one_hot(Box* a, int32_t classes, Box** out) {
  PROTECT(out[0] = wrap(at::one_hot(a->t, classes)))
}

// out = [values, indices]
HLGM_EXPORT char* hlgm_sort(Box* a, int32_t dim, int32_t descending, int32_t stable, Box** out) {
  PROTECT({
    auto r = at::sort(a->t, hlgm::optional<bool>(stable != 0), dim, descending != 0);
    out[0] = wrap(std::get<0>(r));
    out[1] = wrap(std::get<1>(r));
  })
}
HLGM_EXPORT char* hlgm_topk(Box* a, int32_t k, int32_t dim, int32_t largest, int32_t sorted, Box** out) {
  PROTECT({
    auto r = at::topk(a->t, k, dim, largest != 0, sorted != 0);
    out[0] = wrap(std::get<0>(r));
    out[1] = wrap(std::get<1>(r));
  })
}
