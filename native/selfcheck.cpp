// Kernel self-check: a tiny conv2d forward + backward in float32 and in bfloat16 (the kernels
// fp32 and bf16-mixed training use, oneDNN included when enabled) against the same computation
// in float64 (libtorch's plain
// kernels, which oneDNN does not handle). Some libtorch builds return wrong convolution
// gradients through oneDNN on some CPUs (Debian 13's 2.6 on AVX-512), silently; the library
// runs this once per process and turns oneDNN off when the two disagree.
#include "shim.h"

#include <torch/csrc/autograd/autograd.h>

#include <cmath>

// Deterministic values in [-1, 1] (no RNG: the check must not move the user's random stream).
static at::Tensor wave(at::IntArrayRef shape, double phase, at::ScalarType dtype) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return at::arange(n, at::TensorOptions().dtype(at::kDouble)).mul(0.7548776662).add(phase).sin().reshape(shape).to(dtype);
}

// Autocast off for the check's lifetime (restored after): called from inside a user's autocast
// scope, its float32 case would otherwise run in bfloat16.
struct NoAutocast {
  bool cpu = hlgm::autocast_enabled(at::kCPU), cuda = hlgm::autocast_enabled(at::kCUDA);
  NoAutocast() {
    hlgm::set_autocast_enabled(at::kCPU, false);
    hlgm::set_autocast_enabled(at::kCUDA, false);
  }
  ~NoAutocast() {
    hlgm::set_autocast_enabled(at::kCPU, cpu);
    hlgm::set_autocast_enabled(at::kCUDA, cuda);
  }
};

struct ConvCase {
  std::vector<int64_t> x, w;
  int64_t stride, padding;
};

// Worst error of one case in dtype `low` (float32 or bfloat16), relative to the float64 result's
// largest magnitude, over the output and the input, weight and bias gradients. NaN when any
// value in `low` is NaN.
static double case_error(const ConvCase& c, at::ScalarType low, bool simulate_fault) {
  double worst = 0;
  std::vector<at::Tensor> ref;
  for (at::ScalarType dtype : {at::kDouble, low}) {
    at::Tensor x = wave(c.x, 0.1, dtype).requires_grad_(true);
    at::Tensor w = wave(c.w, 0.2, dtype).mul_(0.5).requires_grad_(true);
    at::Tensor b = wave({c.w[0]}, 0.3, dtype).requires_grad_(true);
    at::Tensor y = at::conv2d(x, w, b, {c.stride, c.stride}, {c.padding, c.padding});
    at::Tensor g = wave(y.sizes(), 0.4, dtype);
    auto grads = torch::autograd::grad({y}, {x, w, b}, {g});
    std::vector<at::Tensor> got = {y.detach(), grads[0], grads[1], grads[2]};
    if (dtype == at::kDouble) {
      ref = got;
      continue;
    }
    // Stands in for a broken kernel in tests: only while oneDNN is on, like the real fault.
    if (simulate_fault && at::globalContext().userEnabledMkldnn()) got[1] = got[1].add(8.0);
    for (size_t i = 0; i < got.size(); i++) {
      double scale = ref[i].abs().max().item<double>();
      double err = (got[i].to(at::kDouble) - ref[i]).abs().max().item<double>();
      if (std::isnan(err)) return std::nan("");
      worst = std::max(worst, err / std::max(scale, 1e-12));
    }
  }
  return worst;
}

// out[0] = worst relative error over every case in float32, out[1] the same in bfloat16 (what
// bf16-mixed training runs; NaN if any value was NaN).
HLGM_EXPORT char* hlgm_conv_check(int32_t simulate_fault, double* out) {
  PROTECT({
    c10::AutoGradMode grad_on(true);
    NoAutocast no_autocast;
    // Shapes as the issue that found the fault (3 channels, padding 1), one grey-image layer
    // like the shallow CNN's first, and a strided ResNet-like layer.
    static const std::vector<ConvCase> cases = {
        {{2, 3, 6, 6}, {4, 3, 3, 3}, 1, 1},
        {{4, 1, 12, 12}, {8, 1, 5, 5}, 1, 2},
        {{2, 8, 8, 8}, {16, 8, 3, 3}, 2, 1},
    };
    for (int i = 0; i < 2; i++) {
      double worst = 0;
      for (const ConvCase& c : cases) {
        double err = case_error(c, i == 0 ? at::kFloat : at::kBFloat16, simulate_fault != 0);
        if (std::isnan(err)) {
          worst = err;
          break;
        }
        worst = std::max(worst, err);
      }
      out[i] = worst;
    }
  })
}

// out = [built with oneDNN, oneDNN enabled].
HLGM_EXPORT void hlgm_mkldnn_state(int32_t* out) {
  out[0] = at::hasMKLDNN() ? 1 : 0;
  out[1] = at::globalContext().userEnabledMkldnn() ? 1 : 0;
}

HLGM_EXPORT void hlgm_set_mkldnn_enabled(int32_t on) { at::globalContext().setUserEnabledMkldnn(on != 0); }
