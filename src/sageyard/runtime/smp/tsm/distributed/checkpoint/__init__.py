"""``torch.sagemaker.distributed.checkpoint``: SMP's checkpoint helpers, on PyTorch's
distributed checkpoint (``torch.distributed.checkpoint``, DCP).

- ``state_dict_saver``: ``save``, ``async_save``, ``maybe_finalize_async_calls``;
- ``state_dict_loader``: ``load``;
- ``state_dict_utils``: ``SMStateDictType``, ``sm_state_dict_type``, ``init_optim_state``.

A model sharded by FSDP2 gives DTensor state dicts (each rank its own shards), which DCP
writes and reads in place, so SMP's local and sharded state dicts are both that.
"""
