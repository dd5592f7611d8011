"""Fixtures for every test: an isolated SAGEYARD_HOME, and real servers to test against.

Every test gets its own ``SAGEYARD_HOME`` (and so its own SQLite store, object store, job
folders and slot locks), with short heartbeats and stop grace so failure paths are quick.
``moto_endpoint`` is an S3 server; ``postgres_url`` a fresh database on the server that
``SAGEYARD_TEST_POSTGRES_URL`` names (start one with ``eval "$(bash .ci/postgres.sh | tail
-1)"``; without it the PostgreSQL tests skip, except under CI, where they fail so that CI
never skips them silently); ``ray_cluster`` a local Ray cluster of two nodes.
"""

from __future__ import annotations

import logging
import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MOTO_REGION = "us-west-2"

# The shipped conformance suites' plain asserts get pytest's detailed messages (registered
# before any test module imports them).
pytest.register_assert_rewrite("sageyard.testing")


@pytest.fixture(autouse=True)
def sageyard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "sageyard-home"
    monkeypatch.setenv("SAGEYARD_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SAGEYARD_HEARTBEAT_SECONDS", "1")
    monkeypatch.setenv("SAGEYARD_STOP_GRACE_SECONDS", "2")
    # The real SDK's config.yaml: none from this machine unless a test writes one.
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg-etc"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-home"))
    for name in (
        "SAGEYARD_STORE_URL",
        "SAGEYARD_S3_ENDPOINT_URL",
        "SAGEYARD_ROLE",
        "SAGEYARD_SLOTS",
        "SAGEYARD_STRICT_GPU",
        "SAGEYARD_STRICT_CONTAINER",
        "SAGEYARD_ISOLATION",
        "SAGEYARD_EXECUTOR",
        "SAGEYARD_INSTANCE_QUOTA",
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE",
        "SAGEMAKER_USER_CONFIG_OVERRIDE",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto S3 server on 127.0.0.1 and a free port, with dummy credentials set."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "sageyard")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "sageyard")
        mp.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
        mp.delenv("AWS_PROFILE", raising=False)
        werkzeug_log = logging.getLogger("werkzeug")  # one line per request otherwise
        level = werkzeug_log.level
        werkzeug_log.setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()
            werkzeug_log.setLevel(level)


@pytest.fixture(scope="module")
def ray_cluster(moto_endpoint: str) -> Iterator[Any]:
    """A local Ray cluster of two nodes (2 CPUs each, no dashboard: a
    ``ray.cluster_utils.Cluster``; ``.address`` is its address), this process connected to
    it as a driver, as sageyard's Ray executor connects. Its nodes start with the moto
    server's credentials in their environment (as a real cluster's nodes have theirs). A
    test that adds a node removes one before it ends: the others expect two. One per test
    module, shut down after it: an idle cluster's daemons would slow every later test."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False}
    )
    try:
        # a node address of its own, as a second machine has: a driver started on this
        # machine (a supervisor) then attaches to the head node's raylet, never to one a
        # test removes
        cluster.add_node(num_cpus=2, node_ip_address="127.0.0.2")
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, namespace="sageyard", log_to_driver=False)
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def reset_moto(endpoint: str) -> None:
    """Drop every bucket the moto server holds."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``slow`` tests (real runs on the 135M model: minutes on a CPU) unless they are
    asked for with ``-m slow`` (or any ``-m`` expression naming them)."""
    if "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with `pytest -m slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the server of ``SAGEYARD_TEST_POSTGRES_URL``, dropped after."""
    base = os.environ.get("SAGEYARD_TEST_POSTGRES_URL")
    if not base:
        message = (
            "SAGEYARD_TEST_POSTGRES_URL is not set; start a server with "
            '`eval "$(bash .ci/postgres.sh | tail -1)"`.'
        )
        if _ci():
            pytest.fail(message + " PostgreSQL tests must not be skipped in CI.")
        pytest.skip(message)
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    if base.startswith("postgres://"):
        base = "postgresql://" + base[len("postgres://") :]
    url = make_url(base)
    database = f"sageyard_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
