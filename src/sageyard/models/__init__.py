"""The model hub and registry behind fine-tuning.

- :mod:`~sageyard.models.catalog` — the models sageyard knows (licences, gated flags);
- :mod:`~sageyard.models.hub` — a model reference → a local Hugging Face folder;
- :mod:`~sageyard.models.options` — the fine-tuning hyperparameter specs;
- :mod:`~sageyard.models.datasets` — JSONL dataset checks, shared with the in-job programs;
- :mod:`~sageyard.models.registry` — model package groups and versions in the job store.

Nothing here imports torch or transformers at module level.
"""
