// Mixed precision and memory formats: libtorch's own autocast (the AutocastCPU / AutocastCUDA
// dispatch keys, the state torch.autocast sets) and channels-last layouts. Autocast state is
// thread-local in libtorch: every op the library runs is called from Deno's main thread, so a
// scope set here covers them (the one nonblocking call, a host copy, runs no ATen op).
#include "shim.h"

// out = [enabled, dtype code, cache enabled] of the device type's autocast (cuda 0: CPU).
HLGM_EXPORT char* hlgm_autocast_state(int32_t cuda, int32_t* out) {
  PROTECT({
    at::DeviceType d = cuda ? at::kCUDA : at::kCPU;
    out[0] = hlgm::autocast_enabled(d) ? 1 : 0;
    out[1] = static_cast<int32_t>(hlgm::autocast_dtype(d));
    out[2] = at::autocast::is_autocast_cache_enabled() ? 1 : 0;
  })
}

// Enters (enter 1) or leaves (enter 0) an autocast scope, as torch.autocast's __enter__ and
// __exit__ do: set the state; count the nesting; the outermost exit drops the cast cache (the
// weights' low-precision copies, which must not outlive the scope: the weights change).
HLGM_EXPORT char* hlgm_autocast_set(int32_t cuda, int32_t enter, int32_t enabled, int32_t dtype,
                                    int32_t cache_enabled) {
  PROTECT({
    at::DeviceType d = cuda ? at::kCUDA : at::kCPU;
    if (!enter && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    hlgm::set_autocast_enabled(d, enabled != 0);
    hlgm::set_autocast_dtype(d, dtype_of(dtype));
    at::autocast::set_autocast_cache_enabled(cache_enabled != 0);
    if (enter) at::autocast::increment_nesting();
  })
}

// format 0: contiguous (NCHW), 1: channels-last (NHWC strides); the tensor itself when it is
// laid out so already.
HLGM_EXPORT char* hlgm_memory_format(Box* b, int32_t format, Box** out) {
  PROTECT(out[0] = wrap(b->t.contiguous(format == 1 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous)))
}

// out[0] = 1 when the tensor is laid out in the format (0 contiguous, 1 channels-last).
HLGM_EXPORT char* hlgm_is_memory_format(Box* b, int32_t format, int32_t* out) {
  PROTECT(out[0] = b->t.is_contiguous(format == 1 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous)
                       ? 1
                       : 0)
}
