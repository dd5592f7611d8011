"""``torch.sagemaker`` inside torchrun (2 processes, gloo): the state before and after
``tsm.init()``, PyTorch's FSDP wrapper sharding with FSDP2, SMP's checkpoint helpers
saving and loading the shards, and the tensor-parallel random generator."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sageyard.runtime.smp import SITE_DIR

pytest.importorskip("torch")

SCRIPT = r"""
import json, os, sys
import torch, torch.distributed as dist
import torch.sagemaker as tsm
from torch.distributed.fsdp import FSDPModule, FullyShardedDataParallel as FSDP
from torch.sagemaker.distributed.checkpoint.state_dict_loader import load
from torch.sagemaker.distributed.checkpoint.state_dict_saver import (
    async_save, maybe_finalize_async_calls)
from torch.sagemaker.distributed.checkpoint.state_dict_utils import (
    SMStateDictType, init_optim_state, sm_state_dict_type)

report = {}
try:
    tsm.state.rank
except RuntimeError as error:
    report["before"] = str(error)
tsm.init()  # starts the process group itself
state = tsm.state
report.update(rank=state.rank, world=state.world_size, shard=state.hybrid_shard_degree,
    groups=state.ranker.get_rep_groups(), seed=state.random_seed,
    offloading=state.sm_activation_offloading)

def build():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))

model = FSDP(build())
report["fsdp2"] = isinstance(model, FSDPModule)
report["local"] = model[0].weight.to_local().shape[0]
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
model(torch.randn(3, 4)).sum().backward()
optimizer.step()
folder = sys.argv[1]
with sm_state_dict_type(model, SMStateDictType.SM_LOCAL_STATE_DICT):
    saved = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
async_save(saved, checkpoint_id=folder)
report["finalized"] = maybe_finalize_async_calls(blocking=True)

fresh = FSDP(build())
fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=0.1)
init_optim_state(fresh_optimizer, skip_empty_param=True)
loaded = {"model": fresh.state_dict(), "optimizer": fresh_optimizer.state_dict()}
load(loaded, checkpoint_id=folder)
fresh.load_state_dict(loaded["model"])
report["same"] = all(
    torch.equal(a.to_local(), b.to_local())
    for a, b in zip(model.parameters(), fresh.parameters()))
report["steps"] = [s["step"].item() for s in loaded["optimizer"]["state"].values()]

tracker = state.get_rng_state_tracker()
before = torch.random.get_rng_state()
with tracker.fork():
    first = torch.rand(2).tolist()
report["rng_untouched"] = torch.equal(before, torch.random.get_rng_state())
with tracker.fork():
    report["rng_moves_on"] = torch.rand(2).tolist() != first

# a model built on the meta device gets its weights once sharded (SMP's delayed init)
from torch.sagemaker.delayed_param import DelayedParamIniter
from transformers import LlamaConfig, LlamaForCausalLM

config = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
    num_attention_heads=2, num_key_value_heads=2)
with torch.device("meta"):
    lm = LlamaForCausalLM(config)
initer = DelayedParamIniter(lm)
with initer.validate_params_and_buffers_inited():
    lm = FSDP(lm, param_init_fn=initer.get_param_init_fn(),
        post_param_init_fn=initer.get_post_param_init_fn())
report["rope"] = torch.allclose(
    lm.model.rotary_emb.inv_freq, LlamaForCausalLM(config).model.rotary_emb.inv_freq)
report["std"] = lm.model.layers[0].mlp.up_proj.weight.full_tensor().std().item()
tokens = torch.randint(0, 64, (2, 8), generator=torch.Generator().manual_seed(1))
report["delayed_loss"] = lm(input_ids=tokens, labels=tokens).loss.item()
del model, fresh, lm
with open(os.path.join(sys.argv[2], f"{report['rank']}.json"), "w") as out:
    json.dump(report, out)  # a file each: the ranks share one stdout
dist.barrier()
dist.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tsm_in_two_ranks(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "PYTHONPATH": str(SITE_DIR),
        "OMP_NUM_THREADS": "1",
        "SM_HP_MP_PARAMETERS": json.dumps({"hybrid_shard_degree": 2, "random_seed": 7}),
    }
    done = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2",
            f"--master-port={_free_port()}", str(script), str(tmp_path / "checkpoint"),
            str(tmp_path),
        ],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    reports = [json.loads((tmp_path / f"{rank}.json").read_text()) for rank in range(2)]
    assert len(reports) == 2
    for report in reports:
        assert report["before"].startswith("torch.sagemaker.state is read before tsm.init()")
        assert (report["world"], report["shard"], report["seed"]) == (2, 2, 7)
        assert report["groups"] == [[0], [1]]  # one replica of two shards
        assert report["offloading"] is False
        assert report["fsdp2"] and report["local"] == 4  # half of Linear(4, 8)'s rows
        assert report["finalized"] == [0] and report["same"] and report["steps"] == [1.0] * 4
        assert report["rng_untouched"] and report["rng_moves_on"]
        assert report["rope"] and report["std"] == pytest.approx(0.02, rel=0.5)  # its init
        assert report["delayed_loss"] == pytest.approx(reports[0]["delayed_loss"])  # one model
        assert 3.0 < report["delayed_loss"] < 5.5  # about log(64): initialised, not garbage
