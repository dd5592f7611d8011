"""``sagemaker.core.utils``: the real SDK's waiter errors live in :mod:`.exceptions`."""
