"""Direct preference optimisation of a causal LM (``algorithm_name="dpo"``), with TRL's DPOTrainer.

``spec`` declares its ``PROGRAM`` (options, dataset rows, metrics, tunable ranges and the
facade class; light, safe to import anywhere); ``__main__`` is the training program, run
as ``python -m sageyard.programs.dpo``. What it shares with SFT lives in
:mod:`sageyard.programs._llm`.
"""
