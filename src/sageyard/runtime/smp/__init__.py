"""SageMaker model parallelism v2 (SMP) on PyTorch's own FSDP2 and DTensor.

A job whose ``Torchrun`` carries ``smp=SMP(...)`` gets the ``torch.sagemaker`` package its
scripts import (``import torch.sagemaker as tsm``):

- :mod:`.config`: the SMP parameters, checked and resolved against a world size (pure; the
  job service checks a request's degrees with it before anything is written);
- :mod:`.tsm`: ``torch.sagemaker`` itself (``tsm.init``, ``tsm.transform``, ``tsm.state``,
  the checkpoint helpers), imported inside the job;
- :mod:`.hook`: the import hook that makes ``torch.sagemaker`` name :mod:`.tsm`, installed
  by the ``sitecustomize`` in :data:`SITE_DIR`, which the job's ``PYTHONPATH`` starts with.
"""

from __future__ import annotations

from pathlib import Path

#: The folder a job with SMP puts first on its ``PYTHONPATH``: its ``sitecustomize`` installs
#: the ``torch.sagemaker`` hook in every process of the job.
SITE_DIR = Path(__file__).parent / "site"
