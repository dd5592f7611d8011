"""A data-parallel training script: a small MLP on random data, DDP over gloo.

    torchrun --nproc-per-node 2 ddp_mlp.py --steps 300

Rank 0 prints ``TRAINED steps=N seconds=S``: the training loop's own time, from the first
step (the process group and the model are up) to the last. Used by
``benchmarks/distributed_overhead.py``.
"""

import argparse
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    args, _ = parser.parse_known_args()
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(rank)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 1),
    )
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.01)
    x, y = torch.randn(64, 64), torch.randn(64, 1)
    dist.barrier()
    started = time.perf_counter()
    for _ in range(args.steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(ddp(x), y).backward()
        optimizer.step()
    dist.barrier()
    if rank == 0:
        print(f"TRAINED steps={args.steps} seconds={time.perf_counter() - started:.4f}", flush=True)
    dist.destroy_process_group()
