"""``sageyard cluster status`` without a cluster to read says which setting names it."""

from __future__ import annotations

from click.testing import CliRunner

from sageyard.cli import main


def test_cluster_status_needs_the_ray_address() -> None:
    result = CliRunner().invoke(main, ["cluster", "status"])
    assert result.exit_code == 1
    assert "SAGEYARD_RAY_ADDRESS, which is not set" in result.output
