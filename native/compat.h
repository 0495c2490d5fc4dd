// Every difference between the libtorch versions the shim builds against (1.13 and 2.x), in
// one place, keyed on torch/version.h. The rest of the shim spells things one way: hlgm::optional,
// hlgm::nullopt, c10::NoGradGuard, c10::GradMode.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>  // 2.x no longer pulls it in through ATen.h
#include <torch/version.h>
#include <ATen/autocast_mode.h>

#define HLGM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// ATen's signatures take c10::optional before 2.4 (its own class) and std::optional from 2.4
// on, where c10::optional became a deprecated alias that later releases remove.
#if HLGM_TORCH_AT_LEAST(2, 4)
#include <optional>
namespace hlgm {
template <class T>
using optional = std::optional<T>;
inline constexpr std::nullopt_t nullopt = std::nullopt;
}  // namespace hlgm
#else
#include <c10/util/Optional.h>
namespace hlgm {
template <class T>
using optional = c10::optional<T>;
constexpr c10::nullopt_t nullopt = c10::nullopt;
}  // namespace hlgm
#endif

// c10d (native/distributed.cpp). The shim calls the Gloo/NCCL classes' collectives directly,
// which both spellings share: before 2.0 they derive from c10d::ProcessGroup, from 2.0 on from
// c10d::Backend (a ProcessGroup then wraps them with setBackend; the shim does not need it).
// TCPStoreOptions gained `useLibUV` in the 2.x series (on by default from 2.4, and only when
// libtorch was built with libuv); the shim keeps the classic store, available everywhere.
// Picked by the field's presence, so no version number has to be guessed.
namespace hlgm {
template <class Options>
auto use_classic_tcp_store(Options& o, int) -> decltype(o.useLibUV = false, void()) {
  o.useLibUV = false;
}
template <class Options>
void use_classic_tcp_store(Options&, long) {}
}  // namespace hlgm

// c10::Allocator (native/cpu_cache.cpp): 2.x dropped `const` from allocate() and added a pure
// virtual copy_data(). An allocator defines both spellings of allocate, and copy_data, without
// `override`: on each version one allocate overrides the base's and the other is an unused
// overload, and copy_data is an override or an unused method. No version number is guessed.
#define HLGM_ALLOCATOR_METHODS(impl)                                        \
  c10::DataPtr allocate(size_t n) const { return impl(n); }                 \
  c10::DataPtr allocate(size_t n) { return impl(n); }                       \
  void copy_data(void* dest, const void* src, std::size_t count) const {    \
    std::memcpy(dest, src, count);                                          \
  }

// Autocast state. 2.4 made it one API keyed by device type; before, CPU and CUDA had their own
// functions (the CUDA ones unprefixed), which 2.4 keeps only as deprecated wrappers.
namespace hlgm {
#if HLGM_TORCH_AT_LEAST(2, 4)
inline bool autocast_enabled(at::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
inline void set_autocast_enabled(at::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
inline at::ScalarType autocast_dtype(at::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
inline void set_autocast_dtype(at::DeviceType d, at::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
inline bool autocast_enabled(at::DeviceType d) {
  return d == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
inline void set_autocast_enabled(at::DeviceType d, bool on) {
  if (d == at::kCUDA) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
}
inline at::ScalarType autocast_dtype(at::DeviceType d) {
  return d == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
inline void set_autocast_dtype(at::DeviceType d, at::ScalarType t) {
  if (d == at::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(t);
  } else {
    at::autocast::set_autocast_cpu_dtype(t);
  }
}
#endif
}  // namespace hlgm
