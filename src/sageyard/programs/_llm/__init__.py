"""What the fine-tuning programs (SFT and DPO) share, one concept per module.

A fine-tuning job has three channels: ``model`` (a Hugging Face causal LM folder, or a
``model.tar.gz`` of one from an earlier job), ``train`` and, optionally, ``validation``
(JSONL files checked by the program's ``ProgramSpec.dataset``). Its hyperparameters are
the program's options (``ProgramSpec.options``) plus ``training_type`` (``lora`` or
``full``), ``base_model`` and the ``mlflow_*`` settings.

- :mod:`.options` — the options every technique takes (and LoRA's), per training type;
- :mod:`.request` — a job's hyperparameters → a checked :class:`~.request.Request`;
- :mod:`.data` — the datasets' shared row rules, and reading a channel's rows in the job;
- :mod:`.model` — the ``model`` channel's folder, loading it, precision and LoRA;
- :mod:`.flow` — :func:`~.flow.fine_tune`: what every program does around its TRL trainer;
- :mod:`.outputs` — the saved model, adapter and metadata;
- :mod:`.metrics` — trainer log events → ``#metrics`` lines, and the metric definitions;
- :mod:`.mlflow` — MLflow runs, when a job names an experiment.

Each program reads its request and data first, so a bad request fails in a second: torch,
transformers, TRL, PEFT and MLflow are imported inside the functions that need them, never
at module level, and :mod:`.options`, :mod:`.request`, :mod:`.data` and :mod:`.metrics`
(what the programs' ``spec.py`` use) import none of them.
"""
