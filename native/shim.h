// Internal header shared by the shim's translation units. Nothing here is exported to Deno;
// the exported C signatures are listed in ffi/symbols.ts.
//
// Lowering rules (one per argument kind, applied everywhere):
//   tensor          Box* (opaque handle, allocated by wrap(), freed by hlgm_free)
//   optional tensor Box* that may be null
//   tensor list     (Box** ptr, int32 len)
//   int list        (const int64_t* ptr, int32 len)
//   scalar          double
//   dtype           int32 = c10::ScalarType code (-1 = keep / default)
//   device          int32: -1 cpu, N >= 0 cuda:N
//   outputs         Box** out (caller-owned array)
//   errors          every entry point returns char*: null on success, else a malloc'd message
//                   the caller frees with hlgm_free_cstring. The error travels with the call, so
//                   it is right even when Deno runs a `nonblocking` symbol on a worker thread.
#pragma once

#include "compat.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#define HLGM_EXPORT extern "C" __attribute__((visibility("default")))

// A tensor handle. `bytes` is recorded when the handle is made so the live-byte counter can
// be decreased by exactly what was added, even if the tensor was resized in place.
struct Box {
  at::Tensor t;
  int64_t bytes;
};

Box* wrap(at::Tensor t);
char* error_copy(const char* message);

// Every exported body runs inside PROTECT: no C++ exception may cross into Deno.
#define PROTECT(...)                                            \
  try {                                                         \
    __VA_ARGS__;                                                \
    return nullptr;                                             \
  } catch (const c10::Error& e) {                               \
    return error_copy(e.what_without_backtrace());              \
  } catch (const std::exception& e) {                           \
    return error_copy(e.what());                                \
  } catch (...) {                                               \
    return error_copy("unknown C++ exception in the hlgm shim"); \
  }

inline at::IntArrayRef ints(const int64_t* p, int32_t n) {
  return at::IntArrayRef(p, static_cast<size_t>(n));
}

inline hlgm::optional<at::Tensor> opt(Box* b) {
  if (b == nullptr) return hlgm::nullopt;
  return b->t;
}

inline at::Device device_of(int32_t d) {
  return d < 0 ? at::Device(at::kCPU) : at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(d));
}

inline at::ScalarType dtype_of(int32_t code) {
  if (code < 0 || code >= static_cast<int32_t>(at::ScalarType::NumOptions)) {
    throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  }
  return static_cast<at::ScalarType>(code);
}

inline at::TensorOptions options_of(int32_t dtype, int32_t device) {
  return at::TensorOptions().dtype(dtype_of(dtype)).device(device_of(device));
}

inline std::vector<at::Tensor> tensors(Box** p, int32_t n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; i++) v.push_back(p[i]->t);
  return v;
}

// Reduces over several dims one at a time, highest first (for ops that take one dim).
template <class F>
inline at::Tensor over_dims(at::Tensor r, std::vector<int64_t> d, bool keepdim, F f) {
  std::sort(d.rbegin(), d.rend());
  for (int64_t i : d) r = f(r, i, keepdim);
  return r;
}

[[noreturn]] inline void unknown_op(const char* family, int32_t op) {
  throw std::invalid_argument(std::string("unknown ") + family + " op code " + std::to_string(op));
}
