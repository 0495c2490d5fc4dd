"""The training step of bench/precision_step.ts in PyTorch, timed: the same models, batches,
optimizers and steps, with torch.autocast for bf16-mixed / fp16-mixed (a GradScaler for fp16) and
model.to(memory_format=torch.channels_last) + channels-last inputs for --channels-last.

`--step masked` is HLGM's denoise step as the trainer runs it: the saliency of the true label
(|d logit_y / d x|, eval mode, under the same autocast), its channel mean, the 50% least salient
pixels of each image filled uniformly in the image's [min, max]; then, in train mode,
CE(f(x), y) + KL(softmax f(x) || softmax f(x~)) (batchmean), backward through both forwards and
one optimizer step. Prints one JSON object.

  python3 bench/precision_step.py --model shallow-cnn|resnet18 [--step plain|masked]
      [--precision fp32|bf16-mixed|fp16-mixed] [--channels-last] [--device cpu|cuda]
      [--steps 5] [--warmup 2] [--batch N] [--threads N]
"""

import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_step import ShallowCnn, resnet18_cifar  # noqa: E402

BATCH = {"shallow-cnn": 256, "resnet18": 64}


def masked_inputs(model, x, y, k, scope):
    model.eval()
    xs = x.detach().requires_grad_()
    with scope():
        logits = model(xs)
    target = logits.gather(1, y[:, None]).sum()
    (g,) = torch.autograd.grad(target, xs)
    model.train()
    b, c, h, w = x.shape
    pixel = g.abs().mean(1).flatten(1)
    idx = pixel.float().topk(int(round(k * h * w)), dim=1, largest=False).indices
    mask = torch.zeros(b, h * w, dtype=torch.bool, device=x.device).scatter_(1, idx, True)
    flat = x.flatten(1)
    lo, hi = flat.min(1).values.view(b, 1, 1, 1), flat.max(1).values.view(b, 1, 1, 1)
    fill = torch.rand_like(x) * (hi - lo) + lo
    return torch.where(mask.view(b, 1, h, w), fill, x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="shallow-cnn", choices=list(BATCH))
    ap.add_argument("--step", default="plain", choices=["plain", "masked"])
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16-mixed", "fp16-mixed"])
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit(f"precision_step.py: device {args.device} requested, but this torch has no CUDA")
    if args.precision == "fp16-mixed" and not cuda:
        sys.exit("precision_step.py: fp16-mixed needs CUDA")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batch = args.batch or BATCH[args.model]
    model = (ShallowCnn(3, 32, 10) if args.model == "shallow-cnn" else resnet18_cifar(10)).to(device)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    opt = (torch.optim.Adadelta(model.parameters(), lr=1.0) if args.model == "shallow-cnn"
           else torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    x = torch.randn(batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if args.precision == "fp32":
        scope = contextlib.nullcontext
    else:
        dtype = torch.bfloat16 if args.precision == "bf16-mixed" else torch.float16
        scope = lambda: torch.autocast(device.type, dtype)  # noqa: E731
    scaler = torch.cuda.amp.GradScaler() if args.precision == "fp16-mixed" else None

    def step():
        xin = x.contiguous(memory_format=fmt)
        masked = masked_inputs(model, xin, y, 0.5, scope) if args.step == "masked" else None
        with scope():
            logits = model(xin)
            loss = F.cross_entropy(logits, y)
            if masked is not None:
                lm = model(masked)
                loss = loss + F.kl_div(lm.log_softmax(1), logits.softmax(1), reduction="batchmean")
        opt.zero_grad(set_to_none=True)
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        return loss.item()  # the trainer reads the step's statistics back each step too

    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times, cpu = [], []
    sync()
    for i in range(args.warmup + args.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        sync()
        if i >= args.warmup:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)

    print(json.dumps({
        "impl": "pytorch",
        "model": args.model,
        "step": args.step,
        "precision": args.precision,
        "channels_last": args.channels_last,
        "device": args.device,
        "batch": batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": torch.get_num_threads(),
        "ms_per_step": statistics.median(times),
        "cpu_ms_per_step": statistics.median(cpu),
        "times_ms": [round(t, 2) for t in times],
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "onednn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        "torch": torch.__version__,
        "torch_lib_dir": os.path.join(os.path.dirname(torch.__file__), "lib"),
        "gpu": torch.cuda.get_device_name(device) if cuda else None,
    }))


if __name__ == "__main__":
    main()
