"""What the reinforcement fine-tuning programs (RLVR, RLAIF) share: GRPO through TRL.

``spec.py`` (light): the options (generations per prompt, prompt and response lengths,
temperature, KL ``beta``), the checks of a job's hyperparameters, the prompt-only dataset
rows and the metrics. ``grpo.py`` (heavy, in the job): TRL's ``GRPOTrainer`` whose one
reward function hands every completion to a scorer — the sandboxed reward pool of RLVR,
the judge of RLAIF — and logs the failures and extra metrics.
"""
