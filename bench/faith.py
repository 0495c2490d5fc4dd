"""Deletion and insertion curves (20 steps each, zero and blur substrates) of the shallow CNN on
N CIFAR-sized images, in PyTorch, timed: the definition of src/metrics/deletion.ts (and of
tests/fixtures/make_faith_fixtures.py), in batches, under no_grad. Prints one JSON object.

    python3 bench/faith.py [--images 10000] [--batch 500] [--threads N] [--device cpu|cuda]
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ShallowCnn(nn.Module):
    def __init__(self, in_channels=3, size=32, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * ((size - 4) // 2) ** 2, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2).flatten(1)
        return self.fc2(F.relu(self.fc1(h)))


def blur(x):
    size, sigma = 11, 5.0
    g = torch.arange(size, dtype=torch.float32, device=x.device).sub((size - 1) / 2).pow(2)
    g = g.div(-2 * sigma * sigma).exp()
    k2 = g[:, None] * g[None, :]
    c = x.shape[1]
    w = (k2 / k2.sum()).reshape(1, 1, size, size).expand(c, 1, size, size).contiguous()
    return F.conv2d(x, w, padding=(size - 1) // 2, groups=c)


def curve(model, x, saliency, target, mode, steps):
    b, _, h, w = x.shape
    pixels = h * w
    per_step = math.ceil(pixels / steps)
    points = math.ceil(pixels / per_step) + 1
    order = torch.sort(saliency.reshape(b, pixels), dim=1, descending=True, stable=True).indices
    positions = torch.arange(pixels, device=x.device).expand(b, pixels)
    rank = torch.empty_like(order).scatter_(1, order, positions).reshape(b, 1, h, w)
    base = torch.zeros_like(x) if mode == "deletion" else blur(x)
    start, end = (x, base) if mode == "deletion" else (base, x)
    out = []
    for k in range(points):
        probs = model(torch.where(rank < min(k * per_step, pixels), end, start)).softmax(1)
        out.append(probs.gather(1, target[:, None])[:, 0].cpu())
    c = torch.stack(out, 1).to(torch.float64)
    return (c.sum(1) - c[:, 0] / 2 - c[:, -1] / 2) / (points - 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=10000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ShallowCnn().to(a.device).eval()
    x = torch.rand(a.images, 3, 32, 32, device=a.device)
    sal = torch.rand(a.images, 32, 32, device=a.device)
    y = torch.randint(0, 10, (a.images,), device=a.device)
    t0 = time.perf_counter()
    total = 0.0
    with torch.no_grad():
        for s in range(0, a.images, a.batch):
            for mode in ("deletion", "insertion"):
                total += float(curve(model, x[s:s + a.batch], sal[s:s + a.batch], y[s:s + a.batch],
                                     mode, 20).sum())
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "images": a.images, "batch": a.batch, "steps": 20,
                      "auc_sum": total, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
