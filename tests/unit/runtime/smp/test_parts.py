"""The pieces of sageyard's ``torch.sagemaker`` that need no process group: how sequences
split under context parallelism, which ranks replicate one another, what the tensor- and
expert-parallel transforms refuse, and SMP's MoE settings."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from sageyard.core.exceptions import ConfigurationError  # noqa: E402
from sageyard.runtime.smp.config import resolve  # noqa: E402
from sageyard.runtime.smp.tsm import _context, _experts, _transform  # noqa: E402
from sageyard.runtime.smp.tsm._state import Ranker  # noqa: E402
from sageyard.runtime.smp.tsm.moe.moe_config import MoEConfig  # noqa: E402


def test_a_sequence_splits_into_mirrored_chunks_that_cover_it_once() -> None:
    sequence = torch.arange(16)[None]
    shares = [_context.split_for_cp_rank(sequence, rank, 4) for rank in range(4)]
    assert shares[0].tolist() == [[0, 1, 14, 15]] and shares[3].tolist() == [[6, 7, 8, 9]]
    for rank, share in enumerate(shares):  # each token's position is where it came from
        assert torch.equal(_context.positions(4, rank, 4, share.device), share[0])
    assert sorted(torch.cat(shares, dim=1)[0].tolist()) == list(range(16))
    with pytest.raises(ConfigurationError, match="pad sequences to a multiple of 8"):
        _context.split_for_cp_rank(torch.arange(12)[None], 0, 4)


def test_the_replication_groups_hold_the_same_shard() -> None:
    ranker = Ranker(resolve({"hybrid_shard_degree": 2, "tensor_parallel_degree": 2}, 8))
    assert ranker.get_rep_groups() == [[0, 4], [1, 5], [2, 6], [3, 7]]  # 2 replicas of 4
    assert [ranker.get_rep_rank(rank) for rank in range(8)] == [0, 0, 0, 0, 1, 1, 1, 1]


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(4, 4)


def test_tensor_parallelism_needs_layers_it_can_split() -> None:
    with pytest.raises(ConfigurationError, match="'packed_colwise', which sageyard's SMP"):
        _transform._styles_of(_Tiny(), {"proj": "packed_colwise"})
    assert _transform._styles_of(_Tiny(), {"nothing.*": "colwise"}) == {}

    class Config:
        num_attention_heads, num_key_value_heads = 6, 3

    model = _Tiny()
    model.config = Config()  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match=r"num_key_value_heads \(3\) does not divide"):
        _transform._check_heads(model, 2)


def test_expert_parallelism_needs_experts_that_divide() -> None:
    with pytest.raises(ConfigurationError, match="_Tiny has none"):
        _experts.apply(_Tiny(), None, 0, 2)  # type: ignore[arg-type]

    class Experts(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.num_experts = 3
            self.gate_up_proj = torch.nn.Parameter(torch.zeros(3, 8, 4))

    holder = torch.nn.Module()
    holder.experts = Experts()
    assert _experts.is_experts(holder.experts) and not _experts.is_experts(_Tiny())
    with pytest.raises(ConfigurationError, match=r"3 experts do not divide over .* \(2\)"):
        _experts.apply(holder, None, 0, 2)  # type: ignore[arg-type]


def test_moe_config_has_smps_defaults_and_checks_its_balancing() -> None:
    config = MoEConfig()
    assert (config.smp_moe, config.random_seed, config.moe_load_balancing) == (
        True,
        12345,
        "sinkhorn",
    )
    with pytest.raises(ValueError, match="moe_load_balancing='even'"):
        MoEConfig(moe_load_balancing="even")


def test_delayed_init_says_what_is_missing() -> None:
    from sageyard.runtime.smp.tsm.delayed_param import DelayedParamIniter

    with pytest.raises(ConfigurationError, match="pass init_method_using_config"):
        DelayedParamIniter(_Tiny())
    with torch.device("meta"):
        model = _Tiny()
    initer = DelayedParamIniter(model, init_method_using_config=lambda module: None)
    with (
        pytest.raises(ConfigurationError, match=r"2 tensor\(s\) are still on the meta device"),
        initer.validate_params_and_buffers_inited(),
    ):
        pass
    initer.get_param_init_fn()(model.proj)  # gives the layer memory, then its init
    assert not initer.model.proj.weight.is_meta
