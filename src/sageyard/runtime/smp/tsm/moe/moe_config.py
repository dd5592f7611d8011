"""``torch.sagemaker.moe.moe_config.MoEConfig``: what ``tsm.transform(model, config=...)``
takes for a mixture-of-experts model, with SMP's fields and defaults.

Experts are spread over ``expert_parallel_degree`` ranks whenever that degree is above 1 and
``smp_moe`` is on. Tokens are routed by the model's own router, so training follows the
unsplit model: the load-balancing choice (``moe_load_balancing``), token shuffling and the
auxiliary-loss coefficients are SMP's own MoE layer's, which sageyard does not swap in; they
are kept here as given (``random_seed`` seeds nothing more than ``tsm.init``'s seed does).
"""

from __future__ import annotations

from dataclasses import dataclass

from sageyard.core.exceptions import ConfigurationError

_BALANCING = ("aux_loss", "sinkhorn", "balanced", "none")


@dataclass
class MoEConfig:
    """SMP's MoE settings (its defaults)."""

    smp_moe: bool = True
    random_seed: int = 12345
    moe_load_balancing: str = "sinkhorn"
    global_token_shuffle: bool = False
    moe_all_to_all_dispatcher: bool = True
    moe_aux_loss_coeff: float = 0.001
    moe_z_loss_coeff: float = 0.001
    use_cpu_initialization: bool = False

    def __post_init__(self) -> None:
        if self.moe_load_balancing not in _BALANCING:
            raise ConfigurationError(
                f"MoEConfig(moe_load_balancing={self.moe_load_balancing!r}): use one of "
                f"{', '.join(map(repr, _BALANCING))}."
            )
