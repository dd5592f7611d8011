"""The built-in linear learner (``algorithm_name="linear-learner"``, image ``…/linear-learner:1``).

``spec`` declares its hyperparameters, metrics and tunable ranges (light, safe to import
anywhere); ``config`` turns a job's hyperparameters into a checked :class:`LinearConfig`;
``model`` is the numpy trainer and the saved model; ``__main__`` is the training program,
run as ``python -m sageyard.programs.linear_learner``.
"""
