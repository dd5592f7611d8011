"""Every process of a job with SMP: ``import torch.sagemaker`` works (runtime/smp/hook.py).

This folder starts the job's ``PYTHONPATH``, so Python's ``site`` imports this module at
start-up. A ``sitecustomize`` of the job's own environment, if any, still runs after it.
"""

import importlib.machinery
import importlib.util
import os
import sys

try:
    from sageyard.runtime.smp.hook import install
except ImportError:  # sageyard is not importable here: no hook, as without SMP
    pass
else:
    install()

_HERE = os.path.dirname(os.path.abspath(__file__))
_rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _rest)
if _spec is not None and _spec.loader is not None and _spec.origin != __file__:
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
