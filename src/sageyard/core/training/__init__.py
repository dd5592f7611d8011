"""``sagemaker.core.training``: the real SDK's canonical home of the training configs."""
