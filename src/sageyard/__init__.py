"""sageyard: SageMaker's ``sagemaker.train`` API, running for real on your own machines.

Example:
    >>> from sageyard.train import ModelTrainer
    >>> from sageyard.train.configs import SourceCode
"""

__version__ = "0.1.0"
