"""The same training job, run against each backend: the embedded stores, an S3-protocol
server over HTTP (moto), and a PostgreSQL job store."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageyard.core.resources import TrainingJob
from sageyard.train import ModelTrainer, Session
from sageyard.train.configs import CheckpointConfig, InputData, MetricDefinition, SourceCode
from tests.conftest import reset_moto

SCRIPT = """
    import os
    rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read().split()
    print(f"Train Loss: {1 / len(rows):.3f}")
    os.makedirs("/opt/ml/checkpoints", exist_ok=True) if os.path.isdir("/opt/ml") else None
    open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(str(len(rows)))
"""


@pytest.fixture(params=["embedded", "s3", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "s3":
        endpoint: str = request.getfixturevalue("moto_endpoint")
        reset_moto(endpoint)
        monkeypatch.setenv("SAGEYARD_S3_ENDPOINT_URL", endpoint)
    if request.param == "postgres":
        url = os.environ.get("SAGEYARD_TEST_POSTGRES_URL")
        if not url:
            if os.environ.get("CI", "").lower() not in ("", "0", "false"):
                pytest.fail("SAGEYARD_TEST_POSTGRES_URL must be set in CI")
            pytest.skip("SAGEYARD_TEST_POSTGRES_URL is not set")
        from sqlalchemy import create_engine, text

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:  # a clean schema for this test
            for table in ("metrics", "events", "jobs"):
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
        monkeypatch.setenv("SAGEYARD_STORE_URL", url)
    yield request.param


def test_a_job_runs_end_to_end_on_each_backend(backend: str, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(textwrap.dedent(SCRIPT))
    data = tmp_path / "rows.csv"
    data.write_text("1\n2\n3\n4\n")
    session = Session()
    uri = session.upload_data(str(data), bucket="training-data", key_prefix="rows")
    assert uri == "s3://training-data/rows/rows.csv"

    trainer = ModelTrainer(
        training_image="python:3.11",
        sagemaker_session=session,
        source_code=SourceCode(source_dir=str(code), entry_script="train.py"),
        checkpoint_config=CheckpointConfig(s3_uri="s3://training-data/checkpoints"),
    ).with_metric_definitions([MetricDefinition(name="loss", regex="Train Loss: ([0-9.]+)")])
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source="s3://training-data/rows")],
        logs=False,
    )

    job = TrainingJob.get(trainer._latest_training_job.training_job_name, session)  # type: ignore[union-attr]
    assert job.training_job_status == "Completed"
    assert [(m.metric_name, m.value) for m in job.final_metric_data_list] == [("loss", 0.25)]
    assert job.model_artifacts is not None
    bucket, _, key = job.model_artifacts.s3_model_artifacts.removeprefix("s3://").partition("/")
    downloaded = session.download_data(str(tmp_path / "out"), bucket, key)
    assert [Path(p).name for p in downloaded] == ["model.tar.gz"]
