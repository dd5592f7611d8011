"""``torch.sagemaker.distributed``: SMP's distributed checkpointing (``checkpoint``)."""
