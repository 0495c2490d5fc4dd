"""Forward + backward of one model in PyTorch, timed: bench/model_step.ts's step.

Train mode, a batch of random images and labels (made once, on the device), each step:
zero_grad(set_to_none=True), forward, cross_entropy, backward to every parameter; no optimizer
step. The models, with the same parameter names and shapes as hlgm's:
- shallow-cnn: src/models/shallow_cnn.ts (conv 32, conv 64, maxpool 2, dropout .25, fc 128,
  dropout .5, fc 10), 1x28x28;
- resnet18: torchvision.models.resnet18(num_classes=10) with conv1 replaced by a 3x3/1 conv
  (padding 1, no bias) and maxpool by Identity, 3x32x32;
- deit-tiny: a plain-PyTorch ViT with timm's structure and keys (mirrors src/models/deit.ts):
  patch_embed.proj conv, cls_token, pos_embed, 12 pre-norm blocks (LayerNorm eps 1e-6,
  attention with a biased qkv Linear, softmax(q k^T * d**-0.5) v, proj; MLP fc1, exact GELU,
  fc2), final norm, head on the class token; dim 192, 3 heads, 3x32x32 with 4x4 patches.

Prints one JSON object, with the parameter count and every parameter's name and shape.
Malloc behaviour is set by the caller through glibc's environment (see bench/run.ts).

  python3 bench/model_step.py --model shallow-cnn|resnet18|deit-tiny [--device cpu|cuda]
      [--steps 5] [--warmup 2] [--batch 64] [--threads N]
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
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(64 * ((size - 4) // 2) ** 2, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        h = self.dropout1(F.max_pool2d(h, 2)).flatten(1)
        h = self.dropout2(F.relu(self.fc1(h)))
        return self.fc2(h)


def resnet18_cifar(classes=10):
    import torchvision

    m = torchvision.models.resnet18(num_classes=classes)
    m.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(m.conv1.weight, mode="fan_out", nonlinearity="relu")
    m.maxpool = nn.Identity()
    return m


class PatchEmbed(nn.Module):
    def __init__(self, in_channels, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = self.attn_drop((q @ k.transpose(-2, -1)).mul(self.scale).softmax(-1))
        out = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(out))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.drop = nn.Dropout(0.0)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(round(dim * mlp_ratio)))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DeiT(nn.Module):
    """timm's VisionTransformer (deit_tiny_patch16_224 layout), without timm."""

    def __init__(self, classes=10, in_channels=3, size=32, patch=4, dim=192, depth=12, heads=3):
        super().__init__()
        self.patch_embed = PatchEmbed(in_channels, dim, patch)
        tokens = (size // patch) ** 2 + 1
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 1e-6)
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        tokens = self.patch_embed(x)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        h = torch.cat([cls, tokens], 1) + self.pos_embed
        h = self.norm(self.blocks(h))
        return self.head(h[:, 0])


MODELS = {
    "shallow-cnn": (lambda: ShallowCnn(1, 28, 10), (1, 28, 28), 10),
    "resnet18": (lambda: resnet18_cifar(10), (3, 32, 32), 10),
    "deit-tiny": (lambda: DeiT(10, 3, 32, 4), (3, 32, 32), 10),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="shallow-cnn", choices=sorted(MODELS))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        sys.exit(f"model_step.py: device {args.device} requested, but this torch has no CUDA")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    make, shape, classes = MODELS[args.model]
    model = make().to(device).train()
    x = torch.randn(args.batch, *shape, device=device)
    y = torch.randint(0, classes, (args.batch,), device=device)

    def step():
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()

    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times, cpu_times = [], []
    sync()
    for i in range(args.warmup + args.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        sync()
        dt = (time.perf_counter() - t0) * 1000
        if i >= args.warmup:
            times.append(dt)
            cpu_times.append((time.process_time() - c0) * 1000)
    missing = sum(p.grad is None for p in model.parameters())
    if missing:
        sys.exit(f"model_step.py: {missing} parameters got no gradient")

    print(json.dumps({
        "impl": "pytorch",
        "model": args.model,
        "device": args.device,
        "batch": args.batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": torch.get_num_threads(),
        "malloc": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")} or "default",
        "ms_per_step": statistics.median(times),
        "cpu_ms_per_step": statistics.median(cpu_times),
        "ms_min": min(times),
        "ms_mean": statistics.fmean(times),
        "times_ms": [round(t, 2) for t in times],
        "params": sum(p.numel() for p in model.parameters()),
        "param_shapes": [[n, list(p.shape)] for n, p in model.named_parameters()],
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch": torch.__version__,
        "torch_lib_dir": os.path.join(os.path.dirname(torch.__file__), "lib"),
        "gpu": torch.cuda.get_device_name(device) if cuda else None,
    }))


if __name__ == "__main__":
    main()
