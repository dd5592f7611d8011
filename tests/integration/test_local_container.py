"""Mode.LOCAL_CONTAINER against a stand-in Docker: an engine socket that answers /_ping and
a ``docker`` command that does what ``docker run`` does with our arguments (bind mounts in
a private mount namespace, the env file, the working directory, the entry point).

No Docker engine runs on the development machines; these tests pin the whole path from
ModelTrainer to the ``docker`` command lines and back, with real processes.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageyard.runtime.sandbox import isolation_available
from sageyard.train import ModelTrainer
from sageyard.train.configs import Compute, InputData, Mode, SourceCode
from tests.fake_docker import calls as _calls
from tests.fake_docker import stand_in_docker
from tests.integration.conftest import tar_members

pytestmark = pytest.mark.skipif(
    not isolation_available(), reason="the stand-in docker needs mount namespaces (root)"
)


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with stand_in_docker(tmp_path, monkeypatch) as state:
        yield state


def _trainer(tmp_path: Path, body: str, **kwargs: object) -> ModelTrainer:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text(textwrap.dedent(body))
    return ModelTrainer(
        training_mode=Mode.LOCAL_CONTAINER,
        training_image="my-registry/my-image:1",
        source_code=SourceCode(source_dir=str(code), entry_script="train.py"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_job_runs_in_the_image_with_the_job_root_at_opt_ml(
    fake_docker: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("1,2\n")
    trainer = _trainer(
        tmp_path,
        """
        import os, sys
        print("ARGS", sys.argv[1:], os.getcwd())
        print("DATA", os.listdir(os.environ["SM_CHANNEL_TRAIN"]))
        try:
            open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv"), "w")
        except OSError:
            print("READ-ONLY")
        open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("in-container")
        """,
        hyperparameters={"epochs": 2},
        environment={"API_KEY": "k3y-value"},
    )
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=str(data))], logs=False
    )
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    assert "ARGS ['--epochs', '2'] /opt/ml/input/data/code" in job.logs()
    assert "DATA ['rows.csv']" in job.logs()
    # a small channel is the job's own copy, writable as on SageMaker; the data is intact
    assert "READ-ONLY" not in job.logs() and (data / "rows.csv").read_text() == "1,2\n"
    assert job.model_artifacts is not None
    members = tar_members(job.model_artifacts.s3_model_artifacts, tmp_path)
    assert members == {"model.txt": b"in-container"}
    (run,) = [call for call in _calls(fake_docker) if call[0] == "run"]
    assert run[run.index("--entrypoint") + 1 :] == [
        "python",
        "my-registry/my-image:1",
        "train.py",
        "--epochs",
        "2",
    ]
    volumes = [run[i + 1] for i, arg in enumerate(run) if arg == "-v"]
    assert volumes[0].endswith("/hosts/algo-1:/opt/ml")  # the small channel copied inside
    assert "k3y-value" not in " ".join(run)  # secrets travel in the env file, not argv
    env_file = Path(run[run.index("--env-file") + 1])
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert "PATH" not in env  # the image's own environment is kept
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"


def test_several_hosts_share_a_network_named_after_the_job(
    fake_docker: Path, tmp_path: Path
) -> None:
    trainer = _trainer(
        tmp_path,
        "import os; print('HOST', os.environ['SM_CURRENT_HOST'], os.environ['SM_MASTER_ADDR'])",
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=2),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    assert sorted(line for line in job.logs() if "HOST" in line) == [
        "[algo-1] HOST algo-1 algo-1",
        "[algo-2] HOST algo-2 algo-1",
    ]
    calls = _calls(fake_docker)
    network = f"sageyard-{job.training_job_name}"
    assert ["network", "create", network] in calls
    assert ["network", "rm", network] in calls
    runs = [call for call in calls if call[0] == "run"]
    assert {run[run.index("--network-alias") + 1] for run in runs} == {"algo-1", "algo-2"}


def test_an_image_without_source_code_runs_its_own_entry_point(fake_docker: Path) -> None:
    trainer = ModelTrainer(training_mode=Mode.LOCAL_CONTAINER, training_image="my-registry/algo:1")
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    assert job.logs() == ["image entry point of my-registry/algo:1 train"]


def test_stop_sends_the_signal_through_docker_kill(fake_docker: Path, tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, "import time; print('up', flush=True); time.sleep(60)")
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    deadline = time.monotonic() + 30
    while "up" not in job.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    job.stop()
    job.wait(timeout=30)
    assert job.training_job_status == "Stopped"
    name = f"{job.training_job_name}-algo-1"
    assert ["kill", "--signal=TERM", name] in _calls(fake_docker)
