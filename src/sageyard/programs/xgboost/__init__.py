"""The built-in XGBoost algorithm (``algorithm_name="xgboost"``, ``…/sagemaker-xgboost:1.7-1``).

``spec`` declares its hyperparameters, metrics and tunable ranges (light, safe to import
anywhere); ``config`` turns a job's hyperparameters into a checked :class:`XGBoostConfig`
(``config.XGBoostConfig``); ``__main__`` is the training program, run as
``python -m sageyard.programs.xgboost``, with its helpers ``reading`` (the channels' data),
``evaluation`` (metrics, early stopping, log lines) and ``checkpoints``.
"""
