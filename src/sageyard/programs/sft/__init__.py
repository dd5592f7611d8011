"""Supervised fine-tuning of a causal LM (``algorithm_name="sft"``), with TRL's SFTTrainer.

``spec`` declares its ``PROGRAM`` (options, dataset rows, metrics, tunable ranges and the
facade class; light, safe to import anywhere); ``__main__`` is the training program, run
as ``python -m sageyard.programs.sft``. What it shares with DPO lives in
:mod:`sageyard.programs._llm`.
"""
