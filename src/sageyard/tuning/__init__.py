"""The tuning service: hyperparameter tuning jobs over Optuna's ask/tell interface.

A tuning job is a row in the job store watched by its own detached supervisor; each trial
is an ordinary training job created through the training-job engine.
"""
