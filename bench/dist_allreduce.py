"""PyTorch's side of bench/dist.ts: the DDP-style gradient all-reduce alone, on Gloo.

One rank of `torch.distributed` (env:// rendezvous: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT),
one thread. For each model, float32 tensors of the sizes hlgm's rank reported (its parameters,
in order) are grouped into buckets of at most 25 MiB of consecutive tensors, as DDP's
default; each step, after a barrier: flatten a bucket, all_reduce SUM, divide by the world
size, copy back. Prints one JSON line (rank 0): the median ms per model.

    python3 bench/dist_allreduce.py SIZES_JSON [STEPS]
"""

import json
import statistics
import sys
import time

import torch
import torch.distributed as dist

BUCKET_BYTES = 25 * 2**20


def buckets(tensors):
    out, cur, size = [], [], 0
    for t in tensors:
        b = t.numel() * t.element_size()
        if cur and size + b > BUCKET_BYTES:
            out.append(cur)
            cur, size = [], 0
        cur.append(t)
        size += b
    if cur:
        out.append(cur)
    return out


def main():
    sizes = json.loads(open(sys.argv[1]).read())
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    world, rank = dist.get_world_size(), dist.get_rank()
    result = {"torch": torch.__version__}
    for model, numels in sizes.items():
        grads = [torch.randn(n) for n in numels]
        times = []
        for i in range(steps + 1):
            dist.barrier()
            t0 = time.perf_counter()
            for bucket in buckets(grads):
                flat = torch.cat([g.view(-1) for g in bucket])
                dist.all_reduce(flat)
                flat.div_(world)
                offset = 0
                for g in bucket:
                    g.view(-1).copy_(flat[offset:offset + g.numel()])
                    offset += g.numel()
            if i > 0:
                times.append((time.perf_counter() - t0) * 1000)
        result[model] = {"allreduce_alone_ms": round(statistics.median(times), 2)}
    dist.destroy_process_group()
    if rank == 0:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
