"""Reinforcement learning from verifiable rewards (``algorithm_name="rlvr"``): GRPO with TRL.

``spec`` declares its ``PROGRAM`` (options, prompt-only dataset rows, metrics, tunable
ranges and the facade class; light, safe to import anywhere); ``__main__`` is the training
program, run as ``python -m sageyard.programs.rlvr``. Its rewards come from a reward
function (the ``reward`` channel's ``lambda_handler`` file, or a preset of
:mod:`sageyard.programs._rewards.presets`) run in sandboxed workers; what it shares with
RLAIF lives in :mod:`sageyard.programs._rl`.
"""
