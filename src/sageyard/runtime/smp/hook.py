"""``import torch.sagemaker`` in a job with SMP: an import hook that names :mod:`.tsm`.

PyTorch's own package has no ``sagemaker`` module (SageMaker's SMP containers add one), so
:func:`install` puts a finder on ``sys.meta_path`` that answers for ``torch.sagemaker`` and
its submodules with the modules of :mod:`sageyard.runtime.smp.tsm`: the same module
objects under both names, so ``torch.sagemaker.state is sageyard.runtime.smp.tsm.state``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

PUBLIC = "torch.sagemaker"
IMPLEMENTATION = "sageyard.runtime.smp.tsm"


class _Alias(importlib.abc.Loader):
    """Loads a ``torch.sagemaker`` name as the already imported implementation module."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self._own = (module.__name__, module.__spec__, module.__loader__)
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (the implementation module ran when it was imported): give it
        back its own name, which the import system replaced with the public one."""
        module.__name__, module.__spec__, module.__loader__ = self._own


class TorchSagemakerFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch.sagemaker`` and ``torch.sagemaker.*`` in :data:`IMPLEMENTATION`."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PUBLIC and not fullname.startswith(PUBLIC + "."):
            return None
        implementation = IMPLEMENTATION + fullname[len(PUBLIC) :]
        if importlib.util.find_spec(implementation) is None:
            return None
        module = importlib.import_module(implementation)
        return importlib.machinery.ModuleSpec(
            fullname,
            _Alias(implementation),
            is_package=hasattr(module, "__path__"),
        )


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once): before the path finder, which would
    otherwise load a submodule a second time from the aliased package's folder."""
    if not any(isinstance(finder, TorchSagemakerFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, TorchSagemakerFinder())
