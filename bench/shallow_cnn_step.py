"""The shallow-CNN training step of bench/shallow_cnn_step.ts, in PyTorch, timed.

Same architecture (conv 32, conv 64, maxpool 2, dropout .25, fc 128, dropout .5, fc 10), same
batch of random 1x28x28 images and labels, train mode, forward + cross-entropy + backward +
torch.optim.SGD(lr=0.01).step() + zero_grad(set_to_none=True). Prints one JSON object.

Malloc behaviour is set by the caller through glibc's environment variables, e.g. the
settings hlgm's shim applies with mallopt():
  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864

  python3 bench/shallow_cnn_step.py [--device cpu|cuda|cuda:N] [--steps 20] [--warmup 3]
      [--batch 256] [--threads N]
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ShallowCnn(nn.Module):
    def __init__(self, in_channels=1, size=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * ((size - 4) // 2) ** 2, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))
        h = F.dropout(F.max_pool2d(h, 2), 0.25, self.training).flatten(1)
        h = F.dropout(F.relu(self.fc1(h)), 0.5, self.training)
        return self.fc2(h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit(f"shallow_cnn_step.py: device {args.device} requested, but this torch has no CUDA")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ShallowCnn().to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(args.batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)

    def step():
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times = []
    sync()
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        step()
        sync()
        dt = (time.perf_counter() - t0) * 1000
        if i >= args.warmup:
            times.append(dt)

    mallopt_env = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    print(json.dumps({
        "impl": "pytorch",
        "device": args.device,
        "batch": args.batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": torch.get_num_threads(),
        "malloc": mallopt_env or "default",
        "ms_per_step": statistics.median(times),
        "ms_min": min(times),
        "ms_mean": statistics.fmean(times),
        "times_ms": [round(t, 2) for t in times],
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch": torch.__version__,
        "torch_lib_dir": os.path.join(os.path.dirname(torch.__file__), "lib"),
        "gpu": torch.cuda.get_device_name(device) if cuda else None,
        "python": sys.executable,
    }))


if __name__ == "__main__":
    main()
