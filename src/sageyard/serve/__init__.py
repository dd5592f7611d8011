"""``sagemaker.serve`` is out of scope: sageyard trains models, it does not serve them.

Importing this package raises an ImportError that says so, so that code written for the
real SDK stops at the line that needs serving, with a message instead of an
``AttributeError`` later. The real Session's serving methods (``create_endpoint``,
``create_model``, ...) raise the same message, naming the method
(:class:`sageyard.core.session.ServingNotSupportedError`).
"""

from sageyard.core.session import SERVING_NOT_SUPPORTED

raise ImportError(
    SERVING_NOT_SUPPORTED.format(what="sagemaker.serve (ModelBuilder, endpoints, predictors)")
)
