"""A data-parallel training script, as for SageMaker's PyTorch containers: torchrun starts
it once per process; DDP averages the gradients over every rank of every host."""

import argparse
import json
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--learning_rate", type=float, default=0.05)
args, _ = parser.parse_known_args()

backend = "nccl" if torch.cuda.is_available() else "gloo"
dist.init_process_group(backend)
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)  # the same initial weights on every rank
model = DistributedDataParallel(torch.nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)
generator = torch.Generator().manual_seed(1)  # the same data set on every rank
x = torch.randn(world * 16, 8, generator=generator)
y = x.sum(dim=1, keepdim=True)
for epoch in range(1, args.epochs + 1):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x[rank::world]), y[rank::world])  # this rank's share
    loss.backward()
    optimizer.step()
    total = loss.detach().clone()
    dist.all_reduce(total)
    if rank == 0:
        print(f"epoch {epoch}: loss {total.item() / world:.4f} over {world} processes", flush=True)
if rank == 0:
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as out:
        json.dump({"world_size": world, "hosts": json.loads(os.environ["SM_HOSTS"])}, out)
del model  # DDP holds the process group: freed before the interpreter shuts down
dist.barrier()  # every rank tears down together
dist.destroy_process_group()
