// Elementwise math, reductions, shape and indexing ops. Op families are dispatched by an
// int32 code whose table lives in ffi/ops.ts; keep the two in the same order.
#include "shim.h"

#include <cmath>

static at::Tensor unary(int32_t op, const at::Tensor& t) {
  switch (op) {
    case 0: return at::neg(t);
    case 1: return at::exp(t);
    case 2: return at::log(t);
    case 3: return at::abs(t);
    case 4: return at::sqrt(t);
    case 5: return at::relu(t);
    case 6: return at::sigmoid(t);
    case 7: return at::tanh(t);
    case 8: return at::sign(t);
    case 9: return at::floor(t);
    case 10: return at::ceil(t);
    case 11: return at::round(t);
    case 12: return at::rsqrt(t);
    case 13: return at::square(t);
    case 14: return at::log1p(t);
    case 15: return at::reciprocal(t);
    case 16: return at::logical_not(t);
    case 17: return t.clone();
    case 18: return t.contiguous();
    case 19: return at::sin(t);
    case 20: return at::cos(t);
    case 21: return at::isnan(t);
    case 22: return at::isfinite(t);
    case 24: return at::erfinv(t);
    case 25: return at::erf(t);
    default: unknown_op("unary", op);
  }
}

static void unary_(int32_t op, at::Tensor& t) {
  switch (op) {
    case 0: t.neg_(); break;
    case 1: t.exp_(); break;
    case 2: t.log_(); break;
    case 3: t.abs_(); break;
    case 4: t.sqrt_(); break;
    case 5: t.relu_(); break;
    case 6: t.sigmoid_(); break;
    case 7: t.tanh_(); break;
    case 13: t.square_(); break;
    case 23: t.zero_(); break;
    case 24: t.erfinv_(); break;
    default: unknown_op("in-place unary", op);
  }
}

static at::Tensor binary(int32_t op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case 0: return at::add(a, b);
    case 1: return at::sub(a, b);
    case 2: return at::mul(a, b);
    case 3: return at::div(a, b);
    case 4: return at::pow(a, b);
    case 5: return at::eq(a, b);
    case 6: return at::ne(a, b);
    case 7: return at::lt(a, b);
    case 8: return at::le(a, b);
    case 9: return at::gt(a, b);
    case 10: return at::ge(a, b);
    case 11: return at::maximum(a, b);
    case 12: return at::minimum(a, b);
    case 13: return at::matmul(a, b);
    case 14: return at::remainder(a, b);
    case 15: return at::logical_and(a, b);
    case 16: return at::logical_or(a, b);
    case 17: return at::floor_divide(a, b);
    default: unknown_op("binary", op);
  }
}

// JS numbers arrive as doubles. A whole number meets an integer (or bool) tensor as a Python
// int would, so int64 + 3 stays int64, as in PyTorch; otherwise it is a float scalar.
static at::Scalar scalar_like(const at::Tensor& t, double v) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true) && std::floor(v) == v &&
      std::fabs(v) < 9.2e18) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}

// Scalar right-hand side; codes 100+ put the scalar on the left (s - a, s / a, s ** a).
static at::Tensor binary_scalar(int32_t op, const at::Tensor& a, double v) {
  const at::Scalar s = scalar_like(a, v);
  switch (op) {
    case 0: return at::add(a, s);
    case 1: return at::sub(a, s);
    case 2: return at::mul(a, s);
    case 3: return at::div(a, s);
    case 4: return at::pow(a, s);
    case 5: return at::eq(a, s);
    case 6: return at::ne(a, s);
    case 7: return at::lt(a, s);
    case 8: return at::le(a, s);
    case 9: return at::gt(a, s);
    case 10: return at::ge(a, s);
    case 11: return at::clamp_min(a, s);
    case 12: return at::clamp_max(a, s);
    case 14: return at::remainder(a, s);
    case 17: return at::div(a, s, "floor");  // promotes like Python's a // s
    case 101: return at::rsub(a, s);
    case 103: return at::mul(at::reciprocal(a), v);
    case 104: return at::pow(s, a);
    default: unknown_op("scalar binary", op);
  }
}

static void binary_(int32_t op, at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case 0: a.add_(b); break;
    case 1: a.sub_(b); break;
    case 2: a.mul_(b); break;
    case 3: a.div_(b); break;
    case 11: at::maximum_out(a, a, b); break;
    case 12: at::minimum_out(a, a, b); break;
    case 50: a.copy_(b); break;
    default: unknown_op("in-place binary", op);
  }
}

static void binary_scalar_(int32_t op, at::Tensor& a, double v) {
  const at::Scalar s = scalar_like(a, v);
  switch (op) {
    case 0: a.add_(s); break;
    case 1: a.sub_(s); break;
    case 2: a.mul_(s); break;
    case 3: a.div_(s); break;
    case 4: a.pow_(s); break;
    case 11: a.clamp_min_(s); break;
    case 12: a.clamp_max_(s); break;
    case 50: a.fill_(s); break;
    default: unknown_op("in-place scalar binary", op);
  }
}

HLGM_EXPORT char* hlgm_unary(int32_t op, Box* a, Box** out) { PROTECT(out[0] = wrap(unary(op, a->t))) }
HLGM_EXPORT char* hlgm_unary_(int32_t op, Box* a) { PROTECT(unary_(op, a->t)) }
HLGM_EXPORT char* hlgm_binary(int32_t op, Box* a, Box* b, Box** out) {
  PROTECT(out[0] = wrap(binary(op, a->t, b->t)))
}
HLGM_EXPORT char* hlgm_binary_scalar(int32_t op, Box* a, double s, Box** out) {
  PROTECT(out[0] = wrap(binary_scalar(op, a->t, s)))
}
HLGM_EXPORT char* hlgm_binary_(int32_t op, Box* a, Box* b) { PROTECT(binary_(op, a->t, b->t)) }
HLGM_EXPORT char* hlgm_binary_scalar_(int32_t op, Box* a, double s) {
  PROTECT(binary_scalar_(op, a->t, s))
}

// a + alpha * b (out of place, or in place into a when out is null)
HLGM_EXPORT char* hlgm_add_scaled(Box* a, Box* b, double alpha, Box** out) {
  PROTECT({
    if (out == nullptr) a->t.add_(b->t, alpha);
    else out[0] = wrap(at::add(a->t, b->t, alpha));
  })
}

// a += value * b * c   (op 0)   or   a += value * b / c   (op 1), in place
HLGM_EXPORT char* hlgm_addc_(int32_t op, Box* a, Box* b, Box* c, double value) {
  PROTECT({
    if (op == 0) a->t.addcmul_(b->t, c->t, value);
    else if (op == 1) a->t.addcdiv_(b->t, c->t, value);
    else unknown_op("addc", op);
  })
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

// dims empty = every dim. op: 0 sum, 1 mean, 2 amax, 3 amin, 4 logsumexp, 5 prod (one dim),
// 6 all, 7 any
HLGM_EXPORT char* hlgm_reduce(int32_t op, Box* a, const int64_t* dims, int32_t ndims, int32_t keepdim,
                              Box** out) {
  PROTECT({
    const at::Tensor& t = a->t;
    std::vector<int64_t> d(dims, dims + ndims);
    if (d.empty()) for (int64_t i = 0; i < t.dim(); i++) d.push_back(i);
    bool k = keepdim != 0;
    at::Tensor r;
    switch (op) {
      case 0: r = d.empty() ? t.sum() : at::sum(t, d, k); break;
      case 1: r = d.empty() ? t.mean() : at::mean(t, d, k); break;
      case 2: r = at::amax(t, d, k); break;
      case 3: r = at::amin(t, d, k); break;
      case 4: r = at::logsumexp(t, d, k); break;
      case 5: {
        r = t;
        std::sort(d.rbegin(), d.rend());
        for (int64_t dim : d) r = at::prod(r, dim, k);
        break;
      }
      case 6: {
        r = t.to(at::kBool);
        std::sort(d.rbegin(), d.rend());
        for (int64_t dim : d) r = at::all(r, dim, k);
        break;
      }
      case 7: {
        r = t.to(at::kBool);
        std::sort(d.rbegin(), d.rend());
        for (int64_t dim : d) r = at::any(r, dim, k);
        break;
      }
      default: unknown_op("reduce", op);
    }
    out[0] = wrap(r);
  })
}

// op 0 std, 1 var; unbiased = Bessel's correction
HLGM_EXPORT char* hlgm_std_var(int32_t op, Box* a, const int64_t* dims, int32_t ndims, int32_t unbiased,
                               int32_t keepdim, Box** out) {
  PROTECT({
    std::vector<int64_t> d(dims, dims + ndims);
    if (d.empty()) for (int64_t i = 0; i < a->t.dim(); i++) d.push_back(i);
    at::Tensor r = op == 0 ? at::std(a->t, d, unbiased != 0, keepdim != 0)
                           : at::var(a->t, d, unbiased != 0, keepdim != 0);
    out[0] = wrap(r);
  })
}

// op 0 max, 1 min along one dim: out = [values, indices]
HLGM_EXPORT char* hlgm_max_min_dim(int32_t op, Box* a, int32_t dim, int32_t keepdim, Box** out) {
  PROTECT({
    auto r = op == 0 ? at::max(a->t, dim, keepdim != 0) : at::min(a->t, dim, keepdim != 0);
    out[0] = wrap(std::get<0>(r));
    out[1] = wrap(std::get<1>(r));
  })
}

// op 0 argmax, 1 argmin; has_dim = 0 flattens
HLGM_EXPORT char* hlgm_arg_max_min(int32_t op, Box* a, int32_t dim, int32_t has_dim, int32_t keepdim,
                                   Box** out) {
  PROTECT({
    hlgm::optional<int64_t> d = has_dim ? hlgm::optional<int64_t>(dim) : hlgm::nullopt;
    out[0] = wrap(op == 0 ? at::argmax(a->t, d, keepdim != 0) : at::argmin(a->t, d, keepdim != 0));
  })
}

// ---- shape ----

// op 0 reshape, 1 view, 2 permute, 3 expand, 4 repeat, 5 flip
HLGM_EXPORT char* hlgm_shape_op(int32_t op, Box* a, const int64_t* sizes, int32_t n, Box** out) {
  PROTECT({
    at::IntArrayRef s = ints(sizes, n);
    at::Tensor r;
    switch (op) {
      case 0: r = a->t.reshape(s); break;
      case 1: r = a->t.view(s); break;
      case 2: r = a->t.permute(s); break;
      case 3: r = a->t.expand(s); break;
      case 4: r = a->t.repeat(s); break;
      case 5: r = at::flip(a->t, s); break;
      default: unknown_op("shape", op);
    }
    out[0] = wrap(r);
  })
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
