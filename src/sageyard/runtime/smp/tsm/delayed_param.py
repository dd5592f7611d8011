"""``torch.sagemaker.delayed_param``: build a model on the meta device, and give it its
weights only once FSDP has sharded it, so no rank ever holds the whole model.

As SMP documents it::

    with torch.device("meta"):               # or accelerate's init_empty_weights()
        model = AutoModelForCausalLM.from_config(config)
    initer = DelayedParamIniter(model)
    with initer.validate_params_and_buffers_inited():
        model = FSDP(model, param_init_fn=initer.get_param_init_fn(),
                     post_param_init_fn=initer.get_post_param_init_fn())

In a job with SMP the FSDP wrapper shards the meta model with FSDP2, allocates each rank's
shards (``to_empty``) and runs ``param_init_fn`` on every module: a Hugging Face model's own
``_init_weights`` (its rotary embeddings' buffers too), or ``init_method_using_config``.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator

import torch
from torch import nn

from sageyard.core.exceptions import ConfigurationError


def meta_tensors(module: nn.Module, recurse: bool = True) -> list[str]:
    """The names of ``module``'s parameters and buffers still on the meta device."""
    named = itertools.chain(
        module.named_parameters(recurse=recurse), module.named_buffers(recurse=recurse)
    )
    return [name for name, tensor in named if tensor.is_meta]


class DelayedParamIniter:
    """Initialises a meta-device model's modules once they have memory (SMP's class).

    Args:
        model: The model, built on the meta device.
        init_method_using_config: ``fn(module)`` that initialises one module's own
            parameters and buffers; default: the Hugging Face model's ``_init_weights``.
        verbose: Accepted, as SMP does.
    """

    def __init__(
        self,
        model: nn.Module,
        init_method_using_config: Callable[[nn.Module], None] | None = None,
        verbose: bool = False,
    ) -> None:
        initialise = init_method_using_config or getattr(model, "_init_weights", None)
        if initialise is None:
            raise ConfigurationError(
                f"DelayedParamIniter: {type(model).__name__} has no _init_weights (it is not a "
                "Hugging Face model); pass init_method_using_config=fn(module), which "
                "initialises one module's own parameters and buffers."
            )
        self.model, self._initialise, self.verbose = model, initialise, verbose

    def get_param_init_fn(self) -> Callable[[nn.Module], None]:
        """``param_init_fn`` for the FSDP wrapper: one module's own tensors, given memory
        where they have none yet, then initialised."""

        def init(module: nn.Module) -> None:
            if meta_tensors(module, recurse=False):
                device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
                module.to_empty(device=device, recurse=False)
            with torch.no_grad():
                self._initialise(module)

        return init

    def get_post_param_init_fn(self) -> Callable[[nn.Module], None]:
        """``post_param_init_fn``: ties the model's shared weights again, if it ties any."""

        def post(module: nn.Module) -> None:
            tie = getattr(module, "tie_weights", None)
            if module is self.model and callable(tie):
                tie()

        return post

    @contextlib.contextmanager
    def validate_params_and_buffers_inited(self) -> Iterator[None]:
        """After the block, every parameter and buffer of the model has its values."""
        yield
        left = meta_tensors(self.model)
        if left:
            raise ConfigurationError(
                f"DelayedParamIniter: {len(left)} tensor(s) are still on the meta device "
                f"({', '.join(left[:3])}...): wrap the model with FSDP(..., "
                "param_init_fn=initer.get_param_init_fn()) inside this block."
            )
