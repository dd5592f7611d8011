"""Judges of reinforcement learning from AI feedback (RLAIF): reward prompts and the models
that answer them.

``prompts.py``: the built-in reward prompts, rendering a sample's prompt, parsing a score;
``judges.py``: the ``Judge`` interface (an OpenAI-compatible endpoint, a local model) and
the scorer the GRPO reward function calls.
"""
