"""Reinforcement learning from AI feedback (``algorithm_name="rlaif"``): GRPO with TRL.

``spec`` declares its ``PROGRAM`` (options, prompt-only dataset rows, metrics, tunable
ranges, the allowed reward models and the facade class; light); ``__main__`` is the
training program, run as ``python -m sageyard.programs.rlaif``. Its rewards come from a
judge (:mod:`sageyard.programs._judges`) answering a reward prompt for each completion;
what it shares with RLVR lives in :mod:`sageyard.programs._rl`.
"""
