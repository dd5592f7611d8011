"""``torch.sagemaker.moe``: mixture-of-experts settings (``moe_config.MoEConfig``)."""
