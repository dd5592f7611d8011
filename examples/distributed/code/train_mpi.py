"""A data-parallel training script, as for SageMaker's MPI (Horovod) containers: mpirun
starts it once per process on every host; each rank computes the gradient of its share of
the batch and an MPI allreduce averages them (what ``hvd.DistributedOptimizer`` does)."""

import argparse
import json
import os

import numpy as np
from mpi4py import MPI

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--learning_rate", type=float, default=0.1)
args, _ = parser.parse_known_args()

comm = MPI.COMM_WORLD
rank, world = comm.Get_rank(), comm.Get_size()
local_rank = int(os.environ["OMPI_COMM_WORLD_LOCAL_RANK"])  # as Horovod's hvd.local_rank()
data = np.random.default_rng(1)  # the same data set on every rank
x = data.standard_normal((world * 16, 8))
y = x.sum(axis=1)
weights = np.zeros(8)
for epoch in range(1, args.epochs + 1):
    mine_x, mine_y = x[rank::world], y[rank::world]  # this rank's share
    error = mine_x @ weights - mine_y
    gradient = np.empty(8)
    comm.Allreduce(2 * mine_x.T @ error / len(mine_y), gradient)  # summed over the ranks
    weights -= args.learning_rate * gradient / world
    loss = comm.allreduce(float(np.mean(error**2))) / world
    if rank == 0:
        print(f"epoch {epoch}: loss {loss:.4f} over {world} processes", flush=True)
hosts = comm.gather(os.environ["SM_CURRENT_HOST"])
if rank == 0:
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as out:
        json.dump({"world_size": world, "hosts": sorted(set(hosts))}, out)
