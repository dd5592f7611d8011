"""The built-in k-means algorithm (``algorithm_name="kmeans"``, image ``…/kmeans:1``).

``spec`` declares its hyperparameters, metrics and tunable ranges (light, safe to import
anywhere); ``config`` turns a job's hyperparameters into a checked :class:`KMeansConfig`;
``__main__`` is the training program, run as ``python -m sageyard.programs.kmeans``.
"""
