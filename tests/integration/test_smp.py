"""SMP v2 for real: ``Torchrun(smp=SMP(...))`` jobs of 2 hosts x 2 processes whose script is
written for SageMaker's SMP containers (``import torch.sagemaker as tsm``, ``tsm.init()``,
``tsm.transform``, PyTorch's FSDP wrapper) train a small Llama (a small Mixtral for experts)
to the loss curve of one unsharded process, for each of SMP's degrees, with each rank
holding only its part of the weights (and of the sequences, under context parallelism)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.train.configs import Compute
from sageyard.train.distributed import SMP, Torchrun
from tests.integration.conftest import MakeTrainer

pytest.importorskip("torch")
pytest.importorskip("transformers")

STEPS = 4

#: Tiny Hugging Face models; every rank builds one from the same seed, as SMP scripts do.
MODEL = """
import torch
from transformers import LlamaConfig, LlamaForCausalLM, MixtralConfig, MixtralForCausalLM

def build(family):
    torch.manual_seed(0)
    shape = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32)
    if family == "mixtral":  # 4 experts, 2 per token
        return MixtralForCausalLM(MixtralConfig(**shape, num_local_experts=4,
            num_experts_per_tok=2))
    return LlamaForCausalLM(LlamaConfig(**shape))

def batches():
    return torch.randint(0, 64, (8, 16), generator=torch.Generator().manual_seed(1))
"""

#: As a script for SageMaker's SMP containers writes it: tsm.init, tsm.transform (with a
#: MoEConfig for the MoE model), then PyTorch's FSDP wrapper with a transformer auto-wrap
#: policy and, optionally, activation checkpointing with offloading; each data-parallel rank
#: (tsm.state.dp_rank) takes its share of the global batch of 8 sequences, and each
#: context-parallel rank its share of those (2 x cp chunks: its own and the mirrored one).
SMP_SCRIPT = """
import argparse, functools, json
import torch, torch.distributed as dist
import torch.sagemaker as tsm
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    apply_activation_checkpointing, offload_wrapper)
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
from torch.sagemaker.moe.moe_config import MoEConfig
from model import batches, build

parser = argparse.ArgumentParser()
parser.add_argument("--family")
args, _ = parser.parse_known_args()  # the job also passes --mp_parameters
dist.init_process_group("gloo")
tsm.init()
model = build(args.family)
block = type(model.model.layers[0])
model = tsm.transform(model, config=MoEConfig() if args.family == "mixtral" else None)
policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={block})
model = FSDP(model, auto_wrap_policy=policy)
if tsm.state.sm_activation_offloading:
    apply_activation_checkpointing(model, check_fn=lambda module: isinstance(module, block))
    model = offload_wrapper(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data, state = batches(), tsm.state
share = len(data) // state.dp_size
batch = data[state.dp_rank * share:(state.dp_rank + 1) * share]
if state.cp_size > 1:
    chunks = batch.chunk(2 * state.cp_size, dim=1)
    batch = torch.cat([chunks[state.cp_rank], chunks[2 * state.cp_size - 1 - state.cp_rank]], 1)
for step in range(STEPS):
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    mean = loss.detach().clone()
    dist.all_reduce(mean)
    if dist.get_rank() == 0:
        print("LOSS", step, mean.item() / dist.get_world_size(), flush=True)
layer = model.module.model.layers[0] if hasattr(model, "module") else model.model.layers[0]
mixtral = args.family == "mixtral"
weight = layer.mlp.experts.gate_up_proj if mixtral else layer.self_attn.q_proj.weight
info = {"rank": state.rank, "tp": [state.tp_rank, state.tp_size], "dp": [state.dp_rank,
    state.dp_size], "cp": [state.cp_rank, state.cp_size], "ep": [state.ep_rank, state.ep_size],
    "rep": state.ranker.get_rep_rank(state.rank), "local": weight.to_local().numel(),
    "full": weight.numel()}
print("RANKINFO " + json.dumps(info), flush=True)
del model, optimizer, layer, weight  # they hold process groups: freed before shutdown
dist.barrier()
dist.destroy_process_group()
""".replace("STEPS", str(STEPS))


def _unsharded_losses(family: str) -> list[float]:
    namespace: dict = {}
    exec(MODEL, namespace)
    model, data = namespace["build"](family), namespace["batches"]()
    optimizer = __import__("torch").optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(STEPS):
        loss = model(input_ids=data, labels=data).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def _smp_trainer(make_trainer: MakeTrainer, smp: SMP, family: str = "llama") -> object:
    trainer = make_trainer(
        SMP_SCRIPT,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=Torchrun(process_count_per_node=2, smp=smp),
        hyperparameters={"family": family},
    )
    source_dir = Path(trainer.source_code.source_dir)  # type: ignore[union-attr]
    (source_dir / "model.py").write_text(MODEL)
    return trainer


@pytest.mark.parametrize(
    ("smp", "family", "layout"),
    [
        # 2 replicas of 2 shards: each rank holds half of every weight; and activation
        # checkpointing with offloading, as SMP's scripts apply it
        (
            SMP(hybrid_shard_degree=2, sm_activation_offloading=True),
            "llama",
            {"tp": 1, "dp": 4, "cp": 1, "ep": 1, "reps": 2, "fraction": 2},
        ),
        # tensor-parallel pairs, replicated: half of q_proj's heads on each rank
        (
            SMP(tensor_parallel_degree=2),
            "llama",
            {"tp": 2, "dp": 2, "cp": 1, "ep": 1, "reps": 2, "fraction": 2},
        ),
        # context-parallel pairs (half of each sequence) over tensor-parallel pairs: one
        # copy of the model, a quarter of q_proj on each rank
        (
            SMP(context_parallel_degree=2, hybrid_shard_degree=2, tensor_parallel_degree=2),
            "llama",
            {"tp": 2, "dp": 1, "cp": 2, "ep": 1, "reps": 1, "fraction": 4},
        ),
        # expert-parallel pairs: 2 of the 4 experts on each rank, sharded over the 2 ranks
        # that hold the same experts
        (
            SMP(expert_parallel_degree=2, hybrid_shard_degree=2),
            "mixtral",
            {"tp": 1, "dp": 4, "cp": 1, "ep": 2, "reps": 2, "fraction": 4},
        ),
    ],
    ids=["hybrid-shard", "tensor-parallel", "context-parallel", "expert-parallel"],
)
def test_an_smp_job_trains_to_the_unsharded_loss_curve(
    make_trainer: MakeTrainer, smp: SMP, family: str, layout: dict
) -> None:
    trainer = _smp_trainer(make_trainer, smp, family)
    trainer.train(logs=False)  # type: ignore[attr-defined]
    job = trainer._latest_training_job  # type: ignore[attr-defined]
    assert job is not None and job.training_job_status == "Completed"
    lines = job.logs()
    # by step: now and then (about 1 CI run in 3) a LOSS line is in the log twice (cause not
    # found yet), so each step's loss is taken once, and a repeat must say the same
    by_step: dict[int, set[float]] = {}
    for match in map(re.compile(r".*LOSS (\d+) (\S+)$").match, lines):
        if match:
            by_step.setdefault(int(match.group(1)), set()).add(float(match.group(2)))
    assert all(len(values) == 1 for values in by_step.values()), by_step
    losses = [next(iter(by_step[step])) for step in sorted(by_step)]
    assert losses == pytest.approx(_unsharded_losses(family), abs=1e-5)
    infos = sorted(
        (json.loads(line.split("RANKINFO ", 1)[1]) for line in lines if "RANKINFO " in line),
        key=lambda info: info["rank"],
    )
    assert [info["rank"] for info in infos] == [0, 1, 2, 3]
    tp, cp, dp, ep = layout["tp"], layout["cp"], layout["dp"], layout["ep"]
    assert [info["tp"] for info in infos] == [[r % tp, tp] for r in range(4)]
    assert [info["cp"] for info in infos] == [[r // tp % cp, cp] for r in range(4)]
    assert [info["dp"] for info in infos] == [[r // (tp * cp), dp] for r in range(4)]
    assert [info["ep"] for info in infos] == [[r // (tp * cp) % ep, ep] for r in range(4)]
    assert {info["rep"] for info in infos} == set(range(layout["reps"]))
    full = 4 * 2 * 64 * 32 if family == "mixtral" else 32 * 32  # every expert's, or q_proj
    assert {info["local"] * layout["fraction"] for info in infos} == {full}
    hyperparameters = job.describe()["HyperParameters"]
    assert json.loads(hyperparameters["mp_parameters"]) == smp.model_dump(exclude_none=True)


def test_degrees_that_do_not_divide_the_world_are_refused_before_the_job_starts(
    make_trainer: MakeTrainer,
) -> None:
    trainer = _smp_trainer(make_trainer, SMP(tensor_parallel_degree=3))
    with pytest.raises(ConfigurationError, match=r"tensor_parallel_degree \(3\) must divide"):
        trainer.train(logs=False)  # type: ignore[attr-defined]
    assert trainer._latest_training_job is None  # type: ignore[attr-defined]
