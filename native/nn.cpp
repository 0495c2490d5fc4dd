// Neural-network functional ops: convolution, pooling, normalisation, activations, losses,
// resampling. Optional tensors arrive as null handles.
#include "shim.h"

HLGM_EXPORT char* hlgm_linear(Box* input, Box* weight, Box* bias, Box** out) {
  PROTECT(out[0] = wrap(at::linear(input->t, weight->t, opt(bias))))
}

// geometry = [stride h, w, padding h, w, dilation h, w]
HLGM_EXPORT char* hlgm_conv2d(Box* input, Box* weight, Box* bias, const int64_t* geometry, int32_t groups,
                              Box** out) {
  PROTECT(out[0] = wrap(at::conv2d(input->t, weight->t, opt(bias), ints(geometry, 2), ints(geometry + 2, 2),
                                   ints(geometry + 4, 2), groups)))
}

// geometry = [kernel h, w, stride h, w, padding h, w, dilation h, w]
HLGM_EXPORT char* hlgm_max_pool2d(Box* input, const int64_t* geometry, int32_t ceil_mode, Box** out) {
  PROTECT(out[0] = wrap(at::max_pool2d(input->t, ints(geometry, 2), ints(geometry + 2, 2),
                                       ints(geometry + 4, 2), ints(geometry + 6, 2), ceil_mode != 0)))
}

// geometry = [kernel h, w, stride h, w, padding h, w]
HLGM_EXPORT char* hlgm_avg_pool2d(Box* input, const int64_t* geometry, int32_t ceil_mode,
                                  int32_t count_include_pad, Box** out) {
  PROTECT(out[0] = wrap(at::avg_pool2d(input->t, ints(geometry, 2), ints(geometry + 2, 2),
                                       ints(geometry + 4, 2), ceil_mode != 0, count_include_pad != 0)))
}

HLGM_EXPORT char* hlgm_adaptive_avg_pool2d(Box* input, const int64_t* size, Box** out) {
  PROTECT(out[0] = wrap(at::adaptive_avg_pool2d(input->t, ints(size, 2))))
}

// Updates running_mean / running_var in place when training.
HLGM_EXPORT char* hlgm_batch_norm(Box* input, Box* weight, Box* bias, Box* running_mean, Box* running_var,
                                  int32_t training, double momentum, double eps, Box** out) {
  PROTECT(out[0] = wrap(at::batch_norm(input->t, opt(weight), opt(bias), opt(running_mean), opt(running_var),
                                       training != 0, momentum, eps, /*cudnn_enabled=*/true)))
}

HLGM_EXPORT char* hlgm_layer_norm(Box* input, const int64_t* shape, int32_t ndim, Box* weight, Box* bias,
                                  double eps, Box** out) {
  PROTECT(out[0] = wrap(at::layer_norm(input->t, ints(shape, ndim), opt(weight), opt(bias), eps,
                                       /*cudnn_enable=*/true)))
}

HLGM_EXPORT char* hlgm_dropout(Box* input, double p, int32_t train, Box** out) {
  PROTECT(out[0] = wrap(at::dropout(input->t, p, train != 0)))
}

HLGM_EXPORT char* hlgm_gelu(Box* input, int32_t tanh_approximation, Box** out) {
  PROTECT(out[0] = wrap(at::gelu(input->t, tanh_approximation ? "tanh" : "none")))
}

// op 0 softmax, 1 log_softmax
HLGM_EXPORT char* hlgm_softmax(int32_t op, Box* input, int32_t dim, Box** out) {
  PROTECT(out[0] = wrap(op == 0 ? at::softmax(input->t, dim) : at::log_softmax(input->t, dim)))
}

// reduction: 0 none, 1 mean, 2 sum (at::Reduction). Targets are class indices (int64).
HLGM_EXPORT char* hlgm_cross_entropy(Box* input, Box* target, Box* weight, int32_t reduction,
                                     int32_t ignore_index, double label_smoothing, Box** out) {
  PROTECT(out[0] = wrap(at::cross_entropy_loss(input->t, target->t, opt(weight), reduction, ignore_index,
                                               label_smoothing)))
}

HLGM_EXPORT char* hlgm_nll_loss(Box* input, Box* target, Box* weight, int32_t reduction, int32_t ignore_index,
                                Box** out) {
  PROTECT(out[0] = wrap(at::nll_loss(input->t, target->t, opt(weight), reduction, ignore_index)))
}

// input is log-probabilities; target is probabilities (or log-probabilities with log_target).
HLGM_EXPORT char* hlgm_kl_div(Box* input, Box* target, int32_t reduction, int32_t log_target, Box** out) {
  PROTECT(out[0] = wrap(at::kl_div(input->t, target->t, reduction, log_target != 0)))
}

HLGM_EXPORT char* hlgm_mse_loss(Box* input, Box* target, int32_t reduction, Box** out) {
  PROTECT(out[0] = wrap(at::mse_loss(input->t, target->t, reduction)))
}

// mode 0 nearest, 1 bilinear; size = [out h, out w]; scales = [h, w] factors used for sampling
// when the caller gave a scale factor (as torch.nn.functional.interpolate), else 0.
HLGM_EXPORT char* hlgm_interpolate(Box* input, int32_t mode, const int64_t* size, double scale_h,
                                   double scale_w, int32_t align_corners, Box** out) {
  PROTECT({
    if (input->t.dim() != 4) {
      throw std::invalid_argument("interpolate expects a 4-D (N, C, H, W) input, got " +
                                  std::to_string(input->t.dim()) + "-D");
    }
    hlgm::optional<double> sh = scale_h > 0 ? hlgm::optional<double>(scale_h) : hlgm::nullopt;
    hlgm::optional<double> sw = scale_w > 0 ? hlgm::optional<double>(scale_w) : hlgm::nullopt;
    at::Tensor r;
    if (mode == 0) r = at::upsample_nearest2d(input->t, ints(size, 2), sh, sw);
    else if (mode == 1) r = at::upsample_bilinear2d(input->t, ints(size, 2), align_corners != 0, sh, sw);
    else unknown_op("interpolate", mode);
    out[0] = wrap(r);
  })
}
