"""SMP v2 for real: ``Torchrun(smp=SMP(...))`` jobs of 2 hosts x 2 processes whose script is
written for SageMaker's SMP containers (``import torch.sagemaker as tsm``, ``tsm.init()``,
``tsm.transform``, PyTorch's FSDP wrapper) train a small Llama to the loss curve of one
unsharded process, with each rank holding only its part of the weights."""

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

#: A tiny Llama; every rank builds it from the same seed, as SMP scripts do.
MODEL = """
import torch
from transformers import LlamaConfig, LlamaForCausalLM

def build():
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=32)
    return LlamaForCausalLM(config)

def batches():
    return torch.randint(0, 64, (8, 16), generator=torch.Generator().manual_seed(1))
"""

#: As a script for SageMaker's SMP containers writes it: tsm.init, tsm.transform, then
#: PyTorch's FSDP wrapper with a transformer auto-wrap policy; each data-parallel rank
#: (tsm.state.dp_rank) takes its share of the global batch of 8 sequences.
SMP_SCRIPT = """
import functools, json
import torch, torch.distributed as dist
import torch.sagemaker as tsm
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
from transformers.models.llama.modeling_llama import LlamaDecoderLayer
from model import batches, build

dist.init_process_group("gloo")
tsm.init()
model = tsm.transform(build())
policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={LlamaDecoderLayer})
model = FSDP(model, auto_wrap_policy=policy)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data, state = batches(), tsm.state
share = len(data) // state.dp_size
batch = data[state.dp_rank * share:(state.dp_rank + 1) * share]
for step in range(STEPS):
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    mean = loss.detach().clone()
    dist.all_reduce(mean)
    if dist.get_rank() == 0:
        print("LOSS", step, mean.item() / dist.get_world_size(), flush=True)
q_proj = model.model.layers[0].self_attn.q_proj.weight
info = {"rank": state.rank, "tp": [state.tp_rank, state.tp_size], "dp": [state.dp_rank,
    state.dp_size], "shard": state.hybrid_shard_degree, "rep": state.ranker.get_rep_rank(
    state.rank), "local": q_proj.to_local().numel(), "full": q_proj.numel()}
print("RANKINFO " + json.dumps(info), flush=True)
dist.barrier()
dist.destroy_process_group()
""".replace("STEPS", str(STEPS))


def _unsharded_losses() -> list[float]:
    namespace: dict = {}
    exec(MODEL, namespace)
    model, data = namespace["build"](), namespace["batches"]()
    optimizer = __import__("torch").optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(STEPS):
        loss = model(input_ids=data, labels=data).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def _smp_trainer(make_trainer: MakeTrainer, smp: SMP) -> object:
    trainer = make_trainer(
        SMP_SCRIPT,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=Torchrun(process_count_per_node=2, smp=smp),
    )
    source_dir = Path(trainer.source_code.source_dir)  # type: ignore[union-attr]
    (source_dir / "model.py").write_text(MODEL)
    return trainer


@pytest.mark.parametrize(
    ("smp", "layout"),
    [
        # 2 replicas of 2 shards: each rank holds half of every weight
        (SMP(hybrid_shard_degree=2), {"tp": 1, "dp": 4, "reps": 2, "fraction": 2}),
        # tensor-parallel pairs, replicated: half of q_proj's heads on each rank
        (SMP(tensor_parallel_degree=2), {"tp": 2, "dp": 2, "reps": 2, "fraction": 2}),
        # tensor-parallel pairs, sharded over the other pair: a quarter on each rank
        (
            SMP(tensor_parallel_degree=2, hybrid_shard_degree=2),
            {"tp": 2, "dp": 2, "reps": 1, "fraction": 4},
        ),
    ],
    ids=["hybrid-shard", "tensor-parallel", "both"],
)
def test_an_smp_job_trains_to_the_unsharded_loss_curve(
    make_trainer: MakeTrainer, smp: SMP, layout: dict
) -> None:
    trainer = _smp_trainer(make_trainer, smp)
    trainer.train(logs=False)  # type: ignore[attr-defined]
    job = trainer._latest_training_job  # type: ignore[attr-defined]
    assert job is not None and job.training_job_status == "Completed"
    lines = job.logs()
    losses = [float(m.group(1)) for m in map(re.compile(r".*LOSS \d+ (\S+)$").match, lines) if m]
    assert losses == pytest.approx(_unsharded_losses(), abs=1e-5)
    infos = sorted(
        (json.loads(line.split("RANKINFO ", 1)[1]) for line in lines if "RANKINFO " in line),
        key=lambda info: info["rank"],
    )
    assert [info["rank"] for info in infos] == [0, 1, 2, 3]
    tp, dp = layout["tp"], layout["dp"]
    assert [info["tp"] for info in infos] == [[r % tp, tp] for r in range(4)]
    assert [info["dp"] for info in infos] == [[r // tp, dp] for r in range(4)]
    assert {info["rep"] for info in infos} == set(range(layout["reps"]))
    assert {info["local"] * layout["fraction"] for info in infos} == {infos[0]["full"]}
    hyperparameters = job.describe()["HyperParameters"]
    assert json.loads(hyperparameters["mp_parameters"]) == smp.model_dump(exclude_none=True)


def test_degrees_that_do_not_divide_the_world_are_refused_before_the_job_starts(
    make_trainer: MakeTrainer,
) -> None:
    trainer = _smp_trainer(make_trainer, SMP(tensor_parallel_degree=3))
    with pytest.raises(ConfigurationError, match=r"tensor_parallel_degree \(3\) must divide"):
        trainer.train(logs=False)  # type: ignore[attr-defined]
    assert trainer._latest_training_job is None  # type: ignore[attr-defined]
