// Handles, errors, library facts, creation, host copies, RNG and autograd.
#include "shim.h"
#include "op_dispatch.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>
#include <torch/version.h>

static std::atomic<int64_t> live_handles{0};
static std::atomic<int64_t> live_bytes{0};

Box* wrap(at::Tensor t) {
  int64_t bytes = t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
  live_handles++;
  live_bytes += bytes;
  return new Box{std::move(t), bytes};
}

char* error_copy(const char* message) {
  size_t n = std::strlen(message);
  char* copy = static_cast<char*>(std::malloc(n + 1));
  if (copy != nullptr) std::memcpy(copy, message, n + 1);
  return copy;
}

HLGM_EXPORT void hlgm_free(Box* b) {
  if (b == nullptr) return;
  live_handles--;
  live_bytes -= b->bytes;
  delete b;
}

HLGM_EXPORT void hlgm_free_cstring(char* s) { std::free(s); }
HLGM_EXPORT int64_t hlgm_live_handles() { return live_handles.load(); }
HLGM_EXPORT int64_t hlgm_live_bytes() { return live_bytes.load(); }

// ---- library facts ----

HLGM_EXPORT const char* hlgm_torch_version() { return TORCH_VERSION; }
HLGM_EXPORT int32_t hlgm_cuda_available() { return torch::cuda::is_available() ? 1 : 0; }
HLGM_EXPORT int32_t hlgm_cuda_device_count() {
  return static_cast<int32_t>(torch::cuda::device_count());
}
HLGM_EXPORT void hlgm_set_num_threads(int32_t n) { at::set_num_threads(n); }
HLGM_EXPORT int32_t hlgm_get_num_threads() { return at::get_num_threads(); }
HLGM_EXPORT char* hlgm_cuda_synchronize(int32_t device) {
  PROTECT(if (torch::cuda::is_available()) torch::cuda::synchronize(device))
}

// ---- metadata ----

// out = [ndim, dtype, device, requires_grad, is_leaf, size0, size1, ...]; capacity >= 5 + 64.
HLGM_EXPORT char* hlgm_meta(Box* b, int64_t* out) {
  PROTECT({
    const at::Tensor& t = b->t;
    if (t.dim() > 64) throw std::invalid_argument("tensors with more than 64 dims are not supported");
    out[0] = t.dim();
    out[1] = static_cast<int64_t>(t.scalar_type());
    out[2] = t.is_cuda() ? t.device().index() : -1;
    out[3] = t.requires_grad() ? 1 : 0;
    out[4] = t.is_leaf() ? 1 : 0;
    for (int64_t i = 0; i < t.dim(); i++) out[5 + i] = t.size(i);
  })
}

// ---- creation and host copies ----

HLGM_EXPORT char* hlgm_from_data(const void* data, int32_t dtype, const int64_t* shape, int32_t ndim,
                                 int32_t device, Box** out) {
  PROTECT({
    auto cpu = at::TensorOptions().dtype(dtype_of(dtype));
    // from_blob borrows JS memory: clone before the call returns.
    at::Tensor t = at::from_blob(const_cast<void*>(data), ints(shape, ndim), cpu).clone();
    out[0] = wrap(device < 0 ? t : t.to(device_of(device)));
  })
}

HLGM_EXPORT char* hlgm_copy_to_host(Box* b, void* dst, int64_t nbytes) {
  PROTECT({
    at::Tensor t = b->t.detach().to(at::kCPU).contiguous();
    if (static_cast<int64_t>(t.nbytes()) != nbytes) {
      throw std::invalid_argument("host buffer holds " + std::to_string(nbytes) +
                                  " bytes, tensor needs " + std::to_string(t.nbytes()));
    }
    std::memcpy(dst, t.data_ptr(), static_cast<size_t>(nbytes));
  })
}

HLGM_EXPORT char* hlgm_item(Box* b, double* out) { PROTECT(out[0] = b->t.item<double>()) }

HLGM_EXPORT char* hlgm_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype,
                            int32_t device, Box** out) {
  PROTECT(out[0] = wrap(at::full(ints(shape, ndim), value, options_of(dtype, device))))
}

HLGM_EXPORT char* hlgm_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device,
                             Box** out) {
  PROTECT(out[0] = wrap(at::empty(ints(shape, ndim), options_of(dtype, device))))
}

HLGM_EXPORT char* hlgm_arange(double start, double end, double step, int32_t dtype, int32_t device,
                              Box** out) {
  PROTECT(out[0] = wrap(at::arange(start, end, step, options_of(dtype, device))))
}

// RANDOM fill of a new tensor (kinds in ffi/op_table.ts)
HLGM_EXPORT char* hlgm_random(int32_t kind, const int64_t* shape, int32_t ndim, double lo, double hi,
                              int32_t dtype, int32_t device, Box** out) {
  PROTECT({
    at::Tensor t = at::empty(ints(shape, ndim), options_of(dtype, device));
    hlgm_ops::random_(kind, t, lo, hi);
    out[0] = wrap(t);
  })
}

HLGM_EXPORT char* hlgm_to(Box* b, int32_t device, int32_t dtype, int32_t copy, Box** out) {
  PROTECT({
    at::ScalarType st = dtype < 0 ? b->t.scalar_type() : dtype_of(dtype);
    out[0] = wrap(b->t.to(device_of(device), st, /*non_blocking=*/false, copy != 0));
  })
}

// ---- random state ----

HLGM_EXPORT char* hlgm_manual_seed(double seed) {
  PROTECT(at::manual_seed(static_cast<uint64_t>(seed)))
}

// The default generator of a device: the CPU's (device < 0) or CUDA device N's, each with its
// own stream (a CUDA run's random fills and flips draw from its device's).
static at::Generator default_generator(int32_t device) {
  return device < 0 ? at::detail::getDefaultCPUGenerator()
                    : at::globalContext().defaultGenerator(device_of(device));
}

HLGM_EXPORT char* hlgm_get_rng_state(int32_t device, Box** out) {
  PROTECT({
    auto gen = default_generator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    out[0] = wrap(gen.get_state());
  })
}

HLGM_EXPORT char* hlgm_set_rng_state(int32_t device, Box* state) {
  PROTECT({
    auto gen = default_generator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state->t);
  })
}

// ---- autograd ----

// Grad mode is thread-local in libtorch; synchronous symbols run on Deno's main thread,
// so the JS side sets it here around noGrad() scopes.
HLGM_EXPORT void hlgm_set_grad_enabled(int32_t on) { c10::GradMode::set_enabled(on != 0); }
HLGM_EXPORT int32_t hlgm_is_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }

HLGM_EXPORT char* hlgm_set_requires_grad(Box* b, int32_t on) {
  PROTECT({
    if (on == 0 && !b->t.is_leaf()) {
      throw std::invalid_argument(
          "requiresGrad can only be turned off on leaf tensors; use detach() for a tensor "
          "cut from the graph");
    }
    b->t.set_requires_grad(on != 0);
  })
}

// out[0] = null when the tensor has no gradient yet.
HLGM_EXPORT char* hlgm_get_grad(Box* b, Box** out) {
  PROTECT({
    const at::Tensor& g = b->t.grad();
    out[0] = g.defined() ? wrap(g) : nullptr;
  })
}

// grad = null clears the gradient (set_to_none).
HLGM_EXPORT char* hlgm_set_grad(Box* b, Box* grad) {
  PROTECT(b->t.mutable_grad() = grad == nullptr ? at::Tensor() : grad->t)
}

HLGM_EXPORT char* hlgm_backward(Box* b, Box* grad, int32_t retain_graph, int32_t create_graph) {
  PROTECT({
    torch::autograd::variable_list grads;
    if (grad != nullptr) grads.push_back(grad->t);
    torch::autograd::backward({b->t}, grads, retain_graph != 0, create_graph != 0);
  })
}

// grad_outputs may hold nulls (= ones for scalars); out[i] = null for unused inputs.
HLGM_EXPORT char* hlgm_autograd_grad(Box** outputs, Box** grad_outputs, int32_t n_outputs,
                                     Box** inputs, int32_t n_inputs, int32_t retain_graph,
                                     int32_t create_graph, int32_t allow_unused, Box** out) {
  PROTECT({
    torch::autograd::variable_list gos;
    bool any = false;
    for (int32_t i = 0; i < n_outputs; i++) any = any || (grad_outputs != nullptr && grad_outputs[i] != nullptr);
    if (any) {
      for (int32_t i = 0; i < n_outputs; i++) {
        gos.push_back(grad_outputs[i] != nullptr ? grad_outputs[i]->t : at::ones_like(outputs[i]->t));
      }
    }
    // Always asked with allow_unused so the error below names the input; libtorch's own
    // message differs between versions and, before 2.x, does not say which input.
    auto result = torch::autograd::grad(tensors(outputs, n_outputs), tensors(inputs, n_inputs), gos,
                                        retain_graph != 0, create_graph != 0, /*allow_unused=*/true);
    for (int32_t i = 0; allow_unused == 0 && i < n_inputs; i++) {
      if (!result[i].defined()) {
        throw std::invalid_argument("input " + std::to_string(i) + " (of " + std::to_string(n_inputs) +
                                    ") was not used to compute the outputs; pass allowUnused to get null "
                                    "for it");
      }
    }
    for (int32_t i = 0; i < n_inputs; i++) out[i] = result[i].defined() ? wrap(result[i]) : nullptr;
  })
}

HLGM_EXPORT char* hlgm_detach(Box* b, Box** out) { PROTECT(out[0] = wrap(b->t.detach())) }

// dst now refers to src's data (torch's `param.data = src`): identity, requires_grad and any
// references to dst (optimizers, modules) stay valid. Used to move parameters between devices.
HLGM_EXPORT char* hlgm_set_data(Box* dst, Box* src) {
  PROTECT({
    dst->t.set_data(src->t);
    live_bytes += static_cast<int64_t>(dst->t.nbytes()) - dst->bytes;
    dst->bytes = static_cast<int64_t>(dst->t.nbytes());
  })
}

// ---- measurement ----

// Runs `n` scalar additions inside C++ (with the same handle allocation the FFI path does)
// and writes ns per op: the bench subtracts it from the JS-side cost to isolate FFI overhead.
HLGM_EXPORT char* hlgm_bench_native_add(int32_t n, double* ns_per_op) {
  PROTECT({
    at::Tensor a = at::ones({1});
    at::Tensor b = at::ones({1});
    auto start = std::chrono::steady_clock::now();
    for (int32_t i = 0; i < n; i++) {
      Box* r = wrap(at::add(a, b));
      hlgm_free(r);
    }
    auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
    ns_per_op[0] = ns.count() / n;
  })
}

HLGM_EXPORT int32_t hlgm_noop(int32_t x) { return x; }
