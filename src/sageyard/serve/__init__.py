"""``sagemaker.serve`` is out of scope: sageyard trains models, it does not serve them.

Importing this package raises an ImportError that says so, so that code written for the
real SDK stops at the line that needs serving, with a message instead of an
``AttributeError`` later.
"""

raise ImportError(
    "sageyard trains models; it does not serve them: sagemaker.serve (ModelBuilder, "
    "endpoints, predictors) has no sageyard counterpart. A job's model is the model.tar.gz "
    "at TrainingJob.model_artifacts.s3_model_artifacts (in sageyard's object store); serve "
    "it with the tool of your choice."
)
