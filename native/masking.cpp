// Saliency-guided masking, fused: rank each sample's saliency, mask the k highest (top) or
// lowest (bottom) entries and fill them, in one call on the tensors' device.
#include "shim.h"

// x: (B, C, H, W). saliency: (B, H, W) to mask whole pixels (all channels), or (B, C, H, W)
// to mask single features. k: entries masked per sample, 0 <= k <= H*W (or C*H*W).
// fill: 0 zero, 1 sample mean, 2 uniform in the sample's [min, max], 3 constant `value`.
// per_channel: mean / min / max per channel of each sample instead of over the whole sample.
// Ties are broken by position (lowest index first), so results are deterministic.
// out = [masked x, mask (bool, same shape as x)].
HLGM_EXPORT char* hlgm_mask_by_saliency(Box* x_box, Box* s_box, int32_t k, int32_t top, int32_t fill,
                                        double value, int32_t per_channel, Box** out) {
  PROTECT({
    const at::Tensor& x = x_box->t;
    const at::Tensor& s = s_box->t;
    if (x.dim() != 4) throw std::invalid_argument("mask: x must be (B, C, H, W), got " + std::to_string(x.dim()) + "-D");
    const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    bool pixels = s.dim() == 3;
    if (pixels ? (s.size(0) != b || s.size(1) != h || s.size(2) != w) : !s.sizes().equals(x.sizes())) {
      throw std::invalid_argument("mask: saliency must be (B, H, W) or (B, C, H, W) matching x " +
                                  c10::str(x.sizes()) + ", got " + c10::str(s.sizes()));
    }
    const int64_t p = pixels ? h * w : c * h * w;
    if (k < 0 || k > p) throw std::invalid_argument("mask: k=" + std::to_string(k) + " outside 0.." + std::to_string(p));
    c10::NoGradGuard no_grad;
    at::Tensor flat = s.detach().reshape({b, p});
    // Select by threshold instead of a full sort: the k-th value (quickselect), everything
    // strictly beyond it, then ties at it by position (lowest index first, as a stable sort).
    at::Tensor mask;
    if (k == 0) {
      mask = at::zeros({b, p}, x.options().dtype(at::kBool));
    } else {
      at::Tensor thr = std::get<0>(at::kthvalue(flat, top ? p - k + 1 : k, 1, true));
      at::Tensor beyond = top ? flat.gt(thr) : flat.lt(thr);
      at::Tensor tie = flat.eq(thr);
      at::Tensor need = beyond.sum(1, true).neg_().add_(k);
      mask = beyond.logical_or_(tie.logical_and(tie.cumsum(1).le(need)));
    }
    mask = pixels ? mask.view({b, 1, h, w}).expand({b, c, h, w}) : mask.view({b, c, h, w});
    std::vector<int64_t> dims = per_channel ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{1, 2, 3};
    at::Tensor xd = x.detach();
    at::Tensor filler;
    switch (fill) {
      case 0: filler = at::zeros_like(xd); break;
      case 1: filler = xd.mean(dims, true).expand_as(xd); break;
      case 2: {
        at::Tensor lo = at::amin(xd, dims, true), hi = at::amax(xd, dims, true);
        filler = at::rand_like(xd).mul_(hi - lo).add_(lo);
        break;
      }
      case 3: filler = at::full_like(xd, value); break;
      default: unknown_op("mask fill", fill);
    }
    out[0] = wrap(at::where(mask, filler, x));
    out[1] = wrap(mask.contiguous());
  })
}
