"""``sagemaker.core.helper``: the real SDK's home of :class:`Session` (``session_helper``)."""
