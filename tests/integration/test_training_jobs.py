"""Real training jobs, run as real processes, checked against the job contract."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.core.resources import TrainingJob
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.runtime.sandbox import isolation_available
from sageyard.train.configs import (
    CheckpointConfig,
    Compute,
    InputData,
    MetricDefinition,
    RetryStrategy,
    SourceCode,
    StoppingCondition,
    TensorBoardOutputConfig,
)
from tests.integration.conftest import MakeTrainer, tar_members

CONTRACT_SCRIPT = """
    import json, os, sys
    env = {k: v for k, v in os.environ.items() if k.startswith("SM_") or k == "TRAINING_JOB_NAME"}
    print("ARGV", json.dumps(sys.argv[1:]))
    print("ENV", json.dumps(env))
    root = os.path.dirname(os.environ["SM_MODEL_DIR"])
    for name in ("hyperparameters.json", "resourceconfig.json", "inputdataconfig.json"):
        with open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], name)) as f:
            print("CONFIG", name, f.read().replace("\\n", " "))
    print("DATA", sorted(os.listdir(os.environ["SM_CHANNEL_TRAIN"])))
    print("CWD", os.getcwd())
    for epoch in range(3):
        print(f"Train Loss: {1 / (epoch + 1):.3f}")
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
        f.write("weights")
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w") as f:
        f.write("report")
"""


def _job_root(name: str, host: str = "algo-1") -> Path:
    """A host's job root on this machine (the sandbox lets a script write only there)."""
    return Settings.from_env().jobs_dir / name / "hosts" / host


def _lines(job: TrainingJob, prefix: str) -> list[str]:
    return [line[len(prefix) + 1 :] for line in job.logs() if line.startswith(prefix + " ")]


def test_a_job_sees_the_sagemaker_contract_and_produces_artifacts(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1,2\n")
    trainer = make_trainer(
        CONTRACT_SCRIPT,
        hyperparameters={"epochs": 3, "lr": 0.1, "flag": True, "name": "x", "sagemaker_x": 1},
        environment={"MY_VAR": "1"},
    ).with_metric_definitions([MetricDefinition(name="train:loss", regex="Train Loss: ([0-9.]+)")])

    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=str(data))], logs=False
    )

    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed"
    assert job.secondary_status == "Completed"
    assert job.training_job_name.startswith("python-job-")
    assert json.loads(_lines(job, "ARGV")[0]) == [
        "--epochs",
        "3",
        "--lr",
        "0.1",
        "--flag",
        "true",
        "--name",
        "x",
    ]
    env = json.loads(_lines(job, "ENV")[0])
    assert env["SM_HPS"] == json.dumps(
        {"epochs": 3, "lr": 0.1, "flag": True, "name": "x", "sagemaker_x": 1}
    )
    assert env["SM_HP_EPOCHS"] == "3"
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_CHANNELS"] == '["train"]'
    assert env["TRAINING_JOB_NAME"] == job.training_job_name
    assert _lines(job, "DATA") == ["['a.csv']"]
    if isolation_available():
        assert env["SM_MODEL_DIR"] == "/opt/ml/model"
        assert _lines(job, "CWD") == ["/opt/ml/input/data/code"]
    assert job.hyper_parameters == {
        "epochs": "3",
        "lr": "0.1",
        "flag": "true",
        "name": "x",
        "sagemaker_x": "1",
    }
    assert [(m.metric_name, m.value) for m in job.final_metric_data_list] == [("train:loss", 0.333)]
    assert [m.value for m in job.metrics("train:loss")] == [1.0, 0.5, 0.333]
    assert job.model_artifacts is not None
    uri = job.model_artifacts.s3_model_artifacts
    assert uri.endswith(f"/{job.training_job_name}/output/model.tar.gz")
    assert tar_members(uri, tmp_path) == {"model.txt": b"weights"}
    output = uri.replace("model.tar.gz", "output.tar.gz")
    assert tar_members(output, tmp_path) == {"report.txt": b"report"}
    description = job.describe()
    for key in (
        "TrainingJobArn",
        "AlgorithmSpecification",
        "RoleArn",
        "ResourceConfig",
        "StoppingCondition",
        "SecondaryStatusTransitions",
        "TrainingStartTime",
        "TrainingEndTime",
        "BillableTimeInSeconds",
        "InputDataConfig",
    ):
        assert key in description, key
    statuses = [t["Status"] for t in description["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]


def test_logs_are_streamed_to_the_caller(
    make_trainer: MakeTrainer, capsys: pytest.CaptureFixture[str]
) -> None:
    make_trainer("print('hello from the job')").train()
    out = capsys.readouterr().out
    assert "hello from the job" in out
    assert "Training - " in out and "Completed - " in out


def test_the_caller_sees_the_end_at_once_not_at_its_next_poll(make_trainer: MakeTrainer) -> None:
    # the supervisor rings the job's doorbell when it writes the end (jobs/doorbell.py)
    trainer = make_trainer("import time; time.sleep(0.5)")
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    job.wait(poll=60)
    assert job.training_job_status == "Completed"
    ended = job.describe()["SecondaryStatusTransitions"][-1]["StartTime"].timestamp()
    assert time.time() - ended < 10  # not the 60 s poll


def test_failure_file_becomes_the_failure_reason(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer("""
        import os, sys
        with open(os.environ["SM_OUTPUT_FAILURE"], "w") as f:
            f.write("DataError: column 3 is empty")
        sys.exit(3)
    """)
    with pytest.raises(TrainingJobFailedError) as caught:
        trainer.train(logs=False)
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert error.status == "Failed"
    assert error.failure_reason == "DataError: column 3 is empty"
    assert error.job_name == trainer._latest_training_job.training_job_name  # type: ignore[union-attr]


def test_traceback_end_becomes_the_failure_reason(make_trainer: MakeTrainer) -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        make_trainer("1 / 0").train(logs=False)


def test_max_runtime_stops_the_job_and_keeps_what_it_saved(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    trainer = make_trainer(
        """
        import os, signal, sys, time
        def on_term(*_):
            open(os.path.join(os.environ["SM_MODEL_DIR"], "last.txt"), "w").write("saved")
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
        print("sleeping", flush=True)
        time.sleep(60)
        """,
        stopping_condition=StoppingCondition(max_runtime_in_seconds=1),
    )
    started = time.monotonic()
    trainer.train(logs=False)  # a Stopped job does not raise
    assert time.monotonic() - started < 15
    job = trainer._latest_training_job
    assert job is not None
    assert (job.training_job_status, job.secondary_status) == ("Stopped", "MaxRuntimeExceeded")
    assert job.model_artifacts is not None
    assert tar_members(job.model_artifacts.s3_model_artifacts, tmp_path) == {"last.txt": b"saved"}


def test_a_job_that_ignores_sigterm_is_killed_after_the_grace(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer(
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
        """,
        stopping_condition=StoppingCondition(max_runtime_in_seconds=1),
    )
    started = time.monotonic()
    trainer.train(logs=False)
    assert 2.5 < time.monotonic() - started < 15  # 1 s runtime + 2 s grace (SAGEYARD_STOP_GRACE)
    assert trainer._latest_training_job.training_job_status == "Stopped"  # type: ignore[union-attr]


def test_stop_on_request(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer("import time; print('up', flush=True); time.sleep(60)")
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    _wait_for(lambda: job.refresh().secondary_status == "Training")
    job.stop()
    job.wait()
    assert job.training_job_status == "Stopped"
    assert job.secondary_status == "Stopped"


def test_kill_9_of_the_supervisor_marks_the_job_failed_and_ends_its_processes(
    make_trainer: MakeTrainer, service: TrainingJobService, tmp_path: Path
) -> None:
    token = f"kill9-{os.getpid()}-{time.monotonic_ns()}"  # in the script's argv: found in /proc
    trainer = make_trainer(
        """
        import time
        time.sleep(120)
    """,
        hyperparameters={"token": token},
    )
    trainer.train(wait=False)
    name = trainer._latest_training_job.training_job_name  # type: ignore[union-attr]
    _wait_for(lambda: bool(_pids_with(token)))
    script_pids = _pids_with(token)
    owner = service.store.get(name).owner  # type: ignore[union-attr]
    assert owner is not None
    os.kill(int(owner.split(":")[1]), signal.SIGKILL)
    _wait_for(lambda: TrainingJob.get(name).training_job_status == "Failed")
    job = TrainingJob.get(name)
    assert "supervisor" in (job.failure_reason or "")
    _wait_for(lambda: not any(_alive(pid) for pid in script_pids))


def _pids_with(token: str) -> list[int]:
    """The pids (as this machine sees them) of the processes whose command line has ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and entry != str(os.getpid()):
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if token.encode() in cmdline and b"bwrap" not in cmdline:
                found.append(int(entry))
    return found


def test_twenty_jobs_at_once_all_complete(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer("import time; time.sleep(0.05); print('done')")
    names = []
    for _ in range(20):
        trainer.train(wait=False)
        names.append(trainer._latest_training_job.training_job_name)  # type: ignore[union-attr]
    assert len(set(names)) == 20
    for name in names:
        TrainingJob(name).wait(timeout=120)
    statuses = {TrainingJob.get(name).training_job_status for name in names}
    assert statuses == {"Completed"}


@pytest.mark.parametrize("large", [False, True])
def test_a_job_cannot_change_its_input_data(
    make_trainer: MakeTrainer, tmp_path: Path, large: bool
) -> None:
    from sageyard.runtime.staging import WRITABLE_COPY_BYTES

    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("original\n")
    if large:  # mounted read-only where the host has a mount namespace, not copied
        (data / "more.bin").write_bytes(b"\0" * (WRITABLE_COPY_BYTES + 1))
    trainer = make_trainer("""
        import os
        path = os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")
        try:
            with open(path, "w") as f:
                f.write("changed")
            print("WROTE")
        except OSError as error:
            print("REFUSED", error.errno)
    """)
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=str(data))], logs=False
    )
    assert (data / "rows.csv").read_text() == "original\n"
    logs = trainer._latest_training_job.logs()  # type: ignore[union-attr]
    if large and isolation_available():
        assert any(line.startswith("REFUSED") for line in logs)
    elif not large:  # a small channel is the job's own copy, writable as on SageMaker
        assert "WROTE" in logs


def test_without_isolation_data_is_copied_and_paths_point_into_the_job_root(
    make_trainer: MakeTrainer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_ISOLATION", "off")
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("original\n")
    trainer = make_trainer("""
        import os
        print("MODEL", os.environ["SM_MODEL_DIR"])
        open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv"), "w").write("changed")
    """)
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=str(data))], logs=False
    )
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    assert (data / "rows.csv").read_text() == "original\n"
    model_dir = _lines(job, "MODEL")[0]
    assert model_dir.startswith(os.environ["SAGEYARD_HOME"]) and model_dir.endswith("/model")


def test_hard_coded_opt_ml_paths_work(make_trainer: MakeTrainer, tmp_path: Path) -> None:
    if not isolation_available():
        pytest.skip("needs mount namespaces (root on Linux)")
    trainer = make_trainer("""
        open("/opt/ml/model/m.txt", "w").write("m")
        open("/opt/ml/checkpoints/c.txt", "w").write("c")
    """)
    trainer.with_checkpoint_config(CheckpointConfig(s3_uri="s3://my-bucket/ckpt"))
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.model_artifacts is not None
    assert tar_members(job.model_artifacts.s3_model_artifacts, tmp_path) == {"m.txt": b"m"}


def test_checkpoints_are_uploaded_and_restored_into_the_next_job(
    make_trainer: MakeTrainer,
) -> None:
    script = """
        import os
        folder = "/opt/ml/checkpoints" if os.path.isdir("/opt/ml/checkpoints") else None
        folder = os.environ.get("CKPT", folder)
        print("FOUND", sorted(os.listdir(folder)))
        n = len(os.listdir(folder))
        open(os.path.join(folder, f"step-{n}.pt"), "w").write(str(n))
    """
    trainer = make_trainer(script, checkpoint_config=CheckpointConfig(s3_uri="s3://ckpts/run-1"))
    if not isolation_available():
        pytest.skip("the script relies on /opt/ml/checkpoints")
    trainer.train(logs=False)
    assert _lines(trainer._latest_training_job, "FOUND") == ["[]"]  # type: ignore[arg-type]
    trainer.train(logs=False)
    assert _lines(trainer._latest_training_job, "FOUND") == ["['step-0.pt']"]  # type: ignore[arg-type]


def test_several_hosts_run_at_once_with_their_own_roots(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    trainer = make_trainer(
        """
        import json, os
        host = os.environ["SM_CURRENT_HOST"]
        print("HOST", host, os.environ["SM_CURRENT_HOST_RANK"], os.environ["SM_HOSTS"])
        open(os.path.join(os.environ["SM_MODEL_DIR"], host + ".txt"), "w").write(host)
        open(os.path.join(os.environ["SM_MODEL_DIR"], "shared.txt"), "w").write(host)
        """,
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=3),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    hosts = sorted(line.split()[2] for line in job.logs() if " HOST " in line)
    assert hosts == ["algo-1", "algo-2", "algo-3"]
    assert job.model_artifacts is not None
    members = tar_members(job.model_artifacts.s3_model_artifacts, tmp_path)
    assert members["shared.txt"] == b"algo-3"  # later hosts win
    assert {"algo-1.txt", "algo-2.txt", "algo-3.txt"} <= set(members)


def test_a_job_waits_for_a_slot_and_max_pending_time_stops_it(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "1")
    busy = make_trainer("import time; time.sleep(4)")
    busy.train(wait=False)
    _wait_for(lambda: busy._latest_training_job.refresh().secondary_status == "Training")  # type: ignore[union-attr]
    waiting = make_trainer(
        "print('ran')", stopping_condition=StoppingCondition(max_pending_time_in_seconds=1)
    )
    waiting.train(logs=False)  # SageMaker stops a job pending past MaxPendingTimeInSeconds
    assert waiting._latest_training_job.training_job_status == "Stopped"  # type: ignore[union-attr]
    statuses = [t.status for t in waiting._latest_training_job.secondary_status_transitions]  # type: ignore[union-attr]
    assert "Pending" in statuses and statuses[-1] == "Stopped"
    queued = make_trainer("print('ran')")
    queued.train(logs=False)  # runs once the slot frees
    assert queued._latest_training_job.training_job_status == "Completed"  # type: ignore[union-attr]


def test_secrets_are_masked_in_logs_and_describe(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer(
        "import os; print('token is', os.environ['API_TOKEN'])",
        environment={"API_TOKEN": "s3cr3t-value", "PLAIN": "visible"},
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None
    assert job.describe()["Environment"] == {"API_TOKEN": "********", "PLAIN": "visible"}
    assert "token is ********" in job.logs()
    assert not any("s3cr3t-value" in line for line in job.logs())


def test_gpu_instance_types_run_on_the_cpu_with_a_warning(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer(
        "import os; print('GPUS', os.environ['SM_NUM_GPUS'])",
        compute=Compute(instance_type="ml.p3.2xlarge"),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    assert _lines(job, "GPUS") == ["0"]
    assert any("GPU" in warning for warning in job.warnings)


def test_command_runs_through_the_shell_without_hyperparameters(
    code_dir, make_trainer: MakeTrainer
) -> None:
    folder = code_dir("import sys; print('ARGS', sys.argv[1:])")
    trainer = make_trainer(
        None,
        source_code=SourceCode(source_dir=str(folder), command="echo start && python train.py x"),
        hyperparameters={"epochs": 2},
    )
    trainer.train(logs=False)
    assert trainer._latest_training_job.logs() == ["start", "ARGS ['x']"]  # type: ignore[union-attr]


def test_requirements_are_installed_once_per_requirements_file(
    code_dir, make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    folder = code_dir("import tinypkg; print('TINY', tinypkg.VALUE)")
    _write_wheel(folder / "tinypkg-0.1-py3-none-any.whl")
    (folder / "requirements.txt").write_text("./tinypkg-0.1-py3-none-any.whl\n")
    code = SourceCode(
        source_dir=str(folder), entry_script="train.py", requirements="requirements.txt"
    )
    first = make_trainer(None, source_code=code)
    first.train(logs=False)
    logs = first._latest_training_job.logs()  # type: ignore[union-attr]
    assert "TINY 42" in logs
    assert any(line.startswith("Installing requirements") for line in logs)
    second = make_trainer(None, source_code=code)
    started = time.monotonic()
    second.train(logs=False)
    logs = second._latest_training_job.logs()  # type: ignore[union-attr]
    assert "TINY 42" in logs
    assert not any(line.startswith("Installing requirements") for line in logs)
    assert any("already installed" in line for line in logs)
    assert time.monotonic() - started < 10


def test_retry_strategy_retries_after_an_infrastructure_failure(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    trainer = make_trainer("""
        import os, signal
        path = os.path.join(os.path.dirname(os.environ["SM_MODEL_DIR"]), "attempts")
        count = int(open(path).read()) if os.path.exists(path) else 0
        open(path, "w").write(str(count + 1))
        if count == 0:
            os.kill(os.getpid(), signal.SIGKILL)  # like the out-of-memory killer
        print("second attempt")
    """)
    trainer.with_retry_strategy(RetryStrategy(maximum_retry_attempts=2))
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    assert "Restarting" in [t.status for t in job.secondary_status_transitions]
    assert (_job_root(job.training_job_name) / "attempts").read_text() == "2"


def test_script_errors_are_not_retried(make_trainer: MakeTrainer, tmp_path: Path) -> None:
    trainer = make_trainer(
        "import os; root = os.path.dirname(os.environ['SM_MODEL_DIR'])\n"
        "open(os.path.join(root, 'attempts'), 'a').write('x'); raise SystemExit(1)"
    )
    trainer.with_retry_strategy(RetryStrategy(maximum_retry_attempts=3))
    with pytest.raises(TrainingJobFailedError):
        trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None
    assert (_job_root(job.training_job_name) / "attempts").read_text() == "x"


def test_tensorboard_output_is_uploaded(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer("""
        import os
        folder = os.path.join(os.path.dirname(os.environ["SM_OUTPUT_DIR"]), "output", "tensorboard")
        open(os.path.join(folder, "events.out"), "w").write("tb")
    """)
    trainer.with_tensorboard_output_config(
        TensorBoardOutputConfig(s3_output_path="s3://tboard/logs")
    )
    trainer.train(logs=False)
    from sageyard.core.settings import Settings
    from sageyard.storage import object_store_for

    store = object_store_for(Settings.from_env())
    name = trainer._latest_training_job.training_job_name  # type: ignore[union-attr]
    assert store.list("s3://tboard/logs/") == [
        f"s3://tboard/logs/{name}/tensorboard-output/events.out"
    ]


def test_hyperparameters_from_a_yaml_file(make_trainer: MakeTrainer, tmp_path: Path) -> None:
    path = tmp_path / "hp.yaml"
    path.write_text("epochs: 4\nlr: 0.5\nname: run\n")
    trainer = make_trainer("import sys; print('ARGS', sys.argv[1:])", hyperparameters=str(path))
    trainer.train(logs=False)
    assert trainer._latest_training_job.logs() == [  # type: ignore[union-attr]
        "ARGS ['--epochs', '4', '--lr', '0.5', '--name', 'run']"
    ]


def test_uncompressed_output(make_trainer: MakeTrainer) -> None:
    from sageyard.train.configs import OutputDataConfig

    trainer = make_trainer(
        "import os; open(os.path.join(os.environ['SM_MODEL_DIR'], 'w.bin'), 'w').write('w')",
        output_data_config=OutputDataConfig(
            s3_output_path="s3://out/models", compression_type="NONE"
        ),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.model_artifacts is not None
    name = job.training_job_name
    assert job.model_artifacts.s3_model_artifacts == f"s3://out/models/{name}/output/model/"
    from tests.integration.conftest import read_object

    assert read_object(f"s3://out/models/{name}/output/model/w.bin") == b"w"


def _write_wheel(path: Path) -> None:
    """A pure-Python wheel made by hand (pip installs it offline)."""
    import base64
    import hashlib
    import zipfile

    files = {
        "tinypkg/__init__.py": b"VALUE = 42\n",
        "tinypkg-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n",
        "tinypkg-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(path, "w") as wheel:
        for name, content in files.items():
            wheel.writestr(name, content)
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
            record.append(f"{name},sha256={digest.decode()},{len(content)}")
        record.append("tinypkg-0.1.dist-info/RECORD,,")
        wheel.writestr("tinypkg-0.1.dist-info/RECORD", "\n".join(record) + "\n")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_for(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_gpu_instance_types_get_distinct_gpus(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from sageyard.executors.local_slots import machine_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")  # what this machine offers
    machine_gpus.cache_clear()
    try:
        body = """
            import os, time
            line = os.environ["SM_CURRENT_HOST"] + " " + os.environ["CUDA_VISIBLE_DEVICES"]
            root = os.path.dirname(os.environ["SM_MODEL_DIR"])
            open(os.path.join(root, "num-gpus"), "w").write(os.environ["SM_NUM_GPUS"])
            print("GPU", line, flush=True)
            time.sleep(1.5)
        """
        two_hosts = make_trainer(
            body, compute=Compute(instance_type="ml.p3.2xlarge", instance_count=2)
        )
        one_host = make_trainer(body, compute=Compute(instance_type="ml.g5.12xlarge"))  # 4 GPUs
        two_hosts.train(wait=False)
        one_host.train(wait=False)
        first, second = two_hosts._latest_training_job, one_host._latest_training_job
        assert first is not None and second is not None
        first.wait(timeout=60)
        second.wait(timeout=60)
    finally:
        machine_gpus.cache_clear()
    assert (first.training_job_status, second.training_job_status) == ("Completed", "Completed")
    assert not first.warnings
    devices = [line.split()[-1] for line in first.logs() if " GPU " in line]
    assert sorted(devices) in (["0", "1"], ["2", "3"])
    # The 4-GPU job cannot share: it ran once the first job had released its two GPUs.
    assert [line.split()[-1] for line in second.logs() if line.startswith("GPU")] == ["0,1,2,3"]
    assert second.warnings == []
    assert (_job_root(second.training_job_name) / "num-gpus").read_text() == "4"


def test_pipe_mode_streams_each_epoch_through_a_fifo(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    import gzip

    plain, packed = tmp_path / "plain", tmp_path / "packed"
    plain.mkdir()
    packed.mkdir()
    (plain / "a.csv").write_text("1,2\n")
    (plain / "b.csv").write_text("3,4\n")
    (packed / "a.csv.gz").write_bytes(gzip.compress(b"5,6\n"))
    trainer = make_trainer(
        """
        import os, stat, struct
        base = os.environ["SM_CHANNEL_TRAIN"]
        for epoch in range(2):
            path = f"{base}_{epoch}"
            assert stat.S_ISFIFO(os.stat(path).st_mode), path
            print("EPOCH", epoch, repr(open(path).read()))
        print("GZIP", repr(open(os.environ["SM_CHANNEL_PACKED"] + "_0").read()))
        data = open(os.environ["SM_CHANNEL_RECORDS"] + "_0", "rb").read()
        magic, length = struct.unpack("<II", data[:8])
        print("RECORD", hex(magic), length, data[8:8 + length])
        """,
        training_input_mode="Pipe",
    )
    from sageyard.train.configs import Channel, DataSource, S3DataSource

    session = trainer._session()
    uri = session.upload_data(str(plain / "a.csv"), bucket="pipes", key_prefix="records")
    trainer.train(
        input_data_config=[
            InputData(channel_name="train", data_source=str(plain)),
            Channel(channel_name="packed", compression_type="Gzip", data_source=_fs(packed)),
            Channel(
                channel_name="records",
                record_wrapper_type="RecordIO",
                data_source=DataSource(s3_data_source=S3DataSource(s3_uri=uri)),
            ),
        ],
        logs=False,
    )
    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed", job.failure_reason
    assert _lines(job, "EPOCH") == ["0 '1,2\\n3,4\\n'", "1 '1,2\\n3,4\\n'"]
    assert _lines(job, "GZIP") == ["'5,6\\n'"]
    assert _lines(job, "RECORD") == ["0xced7230a 4 b'1,2\\n'"]


def _fs(path: Path):  # type: ignore[no-untyped-def]
    from sageyard.train.configs import DataSource, FileSystemDataSource

    return DataSource(
        file_system_data_source=FileSystemDataSource(
            file_system_id="fs-local",
            file_system_access_mode="ro",
            file_system_type="EFS",
            directory_path=str(path),
        )
    )


def test_a_pending_job_can_be_stopped(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "1")
    busy = make_trainer("import time; time.sleep(3)")
    busy.train(wait=False)
    _wait_for(lambda: busy._latest_training_job.refresh().secondary_status == "Training")  # type: ignore[union-attr]
    waiting = make_trainer("print('should not run')")
    waiting.train(wait=False)
    job = waiting._latest_training_job
    assert job is not None
    _wait_for(lambda: job.refresh().secondary_status == "Pending")
    job.stop()
    job.wait(timeout=30)
    assert (job.training_job_status, job.secondary_status) == ("Stopped", "Stopped")
    assert job.logs() == []


def test_a_job_whose_supervisor_went_silent_elsewhere_is_marked_failed(
    service: TrainingJobService,
) -> None:
    """An owner on another machine cannot be asked about its pid: the heartbeat decides."""
    from sageyard.jobs.spec import HostGroupSpec, TrainingJobSpec
    from sageyard.store import JobRecord
    from sageyard.train.configs import StoppingCondition

    spec = TrainingJobSpec(
        training_job_name="remote-job",
        role_arn="arn:aws:iam::000000000000:role/r",
        host_groups=[HostGroupSpec(name="g", instance_type="ml.m5.xlarge", count=1)],
        output_path="s3://bucket-a/out",
        stopping_condition=StoppingCondition(),
        entry_script="train.py",
    )
    now = time.time()
    service.store.create(
        JobRecord(
            name="remote-job",
            kind="TrainingJob",
            status="InProgress",
            secondary_status="Training",
            parent=None,
            created_at=now - 100,
            updated_at=now - 100,
            heartbeat_at=now - 60,
            owner="another-machine:4242:1",
            document={"spec": spec.model_dump(mode="json")},
        )
    )
    job = TrainingJob.get("remote-job")
    assert job.training_job_status == "Failed"
    assert "no heartbeat" in (job.failure_reason or "")
    assert job.secondary_status_transitions[-1].status == "Interrupted"


def test_source_code_args_follow_the_hyperparameters(
    make_trainer: MakeTrainer, code_dir: Any
) -> None:
    folder = code_dir("import sys\nprint('ARGV', sys.argv[1:])\n")
    script = make_trainer(
        None,
        source_code=SourceCode(source_dir=str(folder), entry_script="train.py", args=["--x", 5]),
        hyperparameters={"epochs": 2},
    )
    script.train(logs=False)
    assert script._latest_training_job is not None
    assert _lines(script._latest_training_job, "ARGV") == ["['--epochs', '2', '--x', '5']"]
    command = make_trainer(
        None,
        source_code=SourceCode(
            source_dir=str(folder), command="python train.py", args=["two words", "$HOME"]
        ),
    )
    command.train(logs=False)
    assert command._latest_training_job is not None
    assert _lines(command._latest_training_job, "ARGV") == ["['two words', '$HOME']"]


def test_a_tar_gz_source_dir_is_unpacked_into_the_code(
    make_trainer: MakeTrainer, code_dir: Any, tmp_path: Path
) -> None:
    import tarfile

    folder = code_dir("import helper\nprint('FROM', helper.NAME)\n")
    (folder / "helper.py").write_text("NAME = 'archive'\n")
    archive = tmp_path / "code.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("train.py", "helper.py"):
            tar.add(folder / name, arcname=name)
    trainer = make_trainer(
        None, source_code=SourceCode(source_dir=str(archive), entry_script="train.py")
    )
    trainer.train(logs=False)
    assert trainer._latest_training_job is not None
    assert _lines(trainer._latest_training_job, "FROM") == ["archive"]
    assert trainer.output_data.endswith(
        f"/{trainer._latest_training_job.training_job_name}/output/output.tar.gz"
    )
