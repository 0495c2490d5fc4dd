// Fused optimizer updates: one FFI call updates every parameter with torch.optim's exact
// rules (same op order, so results match PyTorch to float rounding). Parameters whose .grad is
// undefined are skipped, as torch.optim does. State tensors live in a caller-owned slot array
// (n slots per kind); null slots are created on first use and written back.
#include "shim.h"

#include <cmath>

static at::Tensor& slot(Box** state, int32_t i, const at::Tensor& like) {
  if (state[i] == nullptr) state[i] = wrap(at::zeros_like(like, at::MemoryFormat::Preserve));
  return state[i]->t;
}

// torch.optim.SGD. state: n momentum buffers (unused when momentum == 0).
HLGM_EXPORT char* hlgm_sgd_step(Box** params, int32_t n, Box** state, double lr, double momentum,
                                double dampening, double weight_decay, int32_t nesterov, int32_t maximize) {
  PROTECT({
    c10::NoGradGuard no_grad;
    for (int32_t i = 0; i < n; i++) {
      at::Tensor& p = params[i]->t;
      const at::Tensor& g = p.grad();
      if (!g.defined()) continue;
      at::Tensor d_p = maximize ? -g : g;
      if (weight_decay != 0) d_p = d_p.add(p, weight_decay);
      if (momentum != 0) {
        if (state[i] == nullptr) {
          state[i] = wrap(d_p.clone().detach());
        } else {
          state[i]->t.mul_(momentum).add_(d_p, 1 - dampening);
        }
        d_p = nesterov ? d_p.add(state[i]->t, momentum) : state[i]->t;
      }
      p.add_(d_p, -lr);
    }
  })
}

// torch.optim.Adadelta. state: 2n slots (square_avg[0..n), acc_delta[n..2n)).
HLGM_EXPORT char* hlgm_adadelta_step(Box** params, int32_t n, Box** state, double lr, double rho, double eps,
                                     double weight_decay, int32_t maximize) {
  PROTECT({
    c10::NoGradGuard no_grad;
    for (int32_t i = 0; i < n; i++) {
      at::Tensor& p = params[i]->t;
      const at::Tensor& g0 = p.grad();
      if (!g0.defined()) continue;
      at::Tensor grad = maximize ? -g0 : g0;
      if (weight_decay != 0) grad = grad.add(p, weight_decay);
      at::Tensor& square_avg = slot(state, i, p);
      at::Tensor& acc_delta = slot(state, n + i, p);
      square_avg.mul_(rho).addcmul_(grad, grad, 1 - rho);
      at::Tensor std = square_avg.add(eps).sqrt_();
      at::Tensor delta = acc_delta.add(eps).sqrt_();
      delta.div_(std).mul_(grad);
      acc_delta.mul_(rho).addcmul_(delta, delta, 1 - rho);
      p.add_(delta, -lr);
    }
  })
}

// torch.optim.Adam (decoupled = 0) and AdamW (decoupled = 1). state: 3n slots (exp_avg,
// exp_avg_sq, max_exp_avg_sq for amsgrad); steps: n per-parameter step counts, incremented here.
HLGM_EXPORT char* hlgm_adam_step(Box** params, int32_t n, Box** state, double* steps, double lr, double beta1,
                                 double beta2, double eps, double weight_decay, int32_t decoupled,
                                 int32_t amsgrad, int32_t maximize) {
  PROTECT({
    c10::NoGradGuard no_grad;
    for (int32_t i = 0; i < n; i++) {
      at::Tensor& p = params[i]->t;
      const at::Tensor& g0 = p.grad();
      if (!g0.defined()) continue;
      at::Tensor grad = maximize ? -g0 : g0;
      at::Tensor& exp_avg = slot(state, i, p);
      at::Tensor& exp_avg_sq = slot(state, n + i, p);
      double step = ++steps[i];
      if (weight_decay != 0) {
        if (decoupled) p.mul_(1 - lr * weight_decay);
        else grad = grad.add(p, weight_decay);
      }
      exp_avg.mul_(beta1).add_(grad, 1 - beta1);
      exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
      double bias_correction1 = 1 - std::pow(beta1, step);
      double bias_correction2 = 1 - std::pow(beta2, step);
      double step_size = lr / bias_correction1;
      double bias_correction2_sqrt = std::sqrt(bias_correction2);
      at::Tensor denom;
      if (amsgrad) {
        at::Tensor& max_sq = slot(state, 2 * n + i, p);
        at::maximum_out(max_sq, max_sq, exp_avg_sq);
        denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps);
      } else {
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
      }
      p.addcdiv_(exp_avg, denom, -step_size);
    }
  })
}

// torch.nn.utils.clip_grad_norm_: scales all gradients so their joint norm is at most
// max_norm; writes the norm before clipping. norm_type <= 0 or inf means the max norm.
HLGM_EXPORT char* hlgm_clip_grad_norm(Box** params, int32_t n, double max_norm, double norm_type,
                                      double* total_norm) {
  PROTECT({
    c10::NoGradGuard no_grad;
    std::vector<at::Tensor> grads;
    for (int32_t i = 0; i < n; i++) {
      if (params[i]->t.grad().defined()) grads.push_back(params[i]->t.grad());
    }
    if (grads.empty()) {
      total_norm[0] = 0;
      return nullptr;
    }
    bool inf = !(norm_type > 0) || std::isinf(norm_type);
    std::vector<at::Tensor> norms;
    for (auto& g : grads) norms.push_back(inf ? g.detach().abs().max() : at::norm(g.detach(), norm_type));
    at::Tensor total = inf ? at::stack(norms).max() : at::norm(at::stack(norms), norm_type);
    at::Tensor coef = at::clamp(max_norm / (total + 1e-6), hlgm::nullopt, 1.0);
    for (auto& g : grads) g.detach().mul_(coef.to(g.device()));
    total_norm[0] = total.item<double>();
  })
}

// Clears (set_to_none) the gradients of n tensors.
HLGM_EXPORT char* hlgm_zero_grads(Box** params, int32_t n) {
  PROTECT(for (int32_t i = 0; i < n; i++) params[i]->t.mutable_grad() = at::Tensor())
}
