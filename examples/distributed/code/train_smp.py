"""A training script for SageMaker's SMP v2 containers: torchrun starts it once per process;
``torch.sagemaker`` splits the model's attention and MLP over tensor-parallel pairs and
PyTorch's FSDP shards the rest over ``hybrid_shard_degree`` ranks, as the job's SMP settings
say. Each data-parallel rank trains on its share of every batch."""

import argparse
import functools
import json
import os

import torch
import torch.distributed as dist
import torch.sagemaker as tsm
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    apply_activation_checkpointing,
    offload_wrapper,
)
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp import ShardingStrategy
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama.modeling_llama import LlamaDecoderLayer

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--learning_rate", type=float, default=0.01)
args, _ = parser.parse_known_args()  # the job also passes --mp_parameters

dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
tsm.init()  # the job's SMP settings
torch.manual_seed(0)  # the same initial weights on every rank
config = LlamaConfig(
    vocab_size=128,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
)
model = tsm.transform(LlamaForCausalLM(config))
model = FSDP(
    model,
    auto_wrap_policy=functools.partial(
        transformer_auto_wrap_policy, transformer_layer_cls={LlamaDecoderLayer}
    ),
    sharding_strategy=ShardingStrategy.HYBRID_SHARD,
)
if tsm.state.sm_activation_offloading:  # offloading goes with activation checkpointing
    apply_activation_checkpointing(
        model, check_fn=lambda module: isinstance(module, LlamaDecoderLayer)
    )
    model = offload_wrapper(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)

state = tsm.state  # tensor-parallel ranks share a batch: data-parallel rank and size
tokens = torch.randint(0, 128, (4 * state.dp_size, 32), generator=torch.Generator().manual_seed(1))
batch = tokens[state.dp_rank :: state.dp_size]
for epoch in range(1, args.epochs + 1):
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    total = loss.detach().clone()
    dist.all_reduce(total)
    if state.rank == 0:
        world = state.world_size
        print(f"epoch {epoch}: loss {total.item() / world:.4f} over {world} processes", flush=True)
if state.rank == 0:
    layout = {
        "world_size": state.world_size,
        "tensor_parallel_degree": state.tensor_parallel_degree,
        "hybrid_shard_degree": state.hybrid_shard_degree,
        "replicas": len(state.ranker.get_rep_groups()[0]),
    }
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as out:
        json.dump(layout, out)
del model, optimizer  # they hold process groups: freed before the interpreter shuts down
dist.barrier()  # every rank tears down together
dist.destroy_process_group()
