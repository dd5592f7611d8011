"""A host that cannot be set up, or fails, says why in words a user can act on.

A full disk (ENOSPC, injected at the host's write paths: no tmpfs or root needed) ends the
job Failed with a reason that names the disk and the path, and is not retried; the values of
the job's secret environment variables never appear in a reason; a checkpoint or TensorBoard
``local_path`` outside the job root is mapped into it, never onto a folder of this machine.
"""

from __future__ import annotations

import errno
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import DiskFullError, StorageError
from sageyard.core.settings import Settings
from sageyard.jobs.service import TrainingJobService
from sageyard.jobs.supervisor import Supervisor
from sageyard.runtime import host as host_module
from sageyard.runtime import staging
from sageyard.runtime.host import (
    HostPlacement,
    HostSetupError,
    exit_of,
    failed_rank,
    failure_reason,
    job_folder,
    prepare_host,
    upload_host,
)
from sageyard.runtime.layout import JobRoot
from sageyard.runtime.plan import ChannelPlan, HostGroup, HostPlan
from sageyard.storage import ObjectStore

HOSTS = ("algo-1",)
SECRET = "hunter22-db-password"


def _plan(tmp_path: Path, **changes: Any) -> HostPlan:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "rows.csv").write_text("1,2\n")
    fields: dict[str, Any] = {
        "job_name": "job",
        "host": "algo-1",
        "hosts": HOSTS,
        "groups": (HostGroup("main", "ml.m5.large", HOSTS),),
        "entry_script": "train.py",
        "channels": (ChannelPlan("train", str(data)),),
        "environment": {"DB_PASSWORD": SECRET},
    }
    fields.update(changes)
    return HostPlan(**fields)


def _placement(tmp_path: Path) -> HostPlacement:
    return HostPlacement(
        root=tmp_path / "hosts" / "algo-1",
        log=tmp_path / "logs" / "algo-1.log",
        envs_dir=tmp_path / "envs",
        master_port=29500,
        master_addr="127.0.0.1",
    )


def _no_space(path: object = None) -> OSError:
    if path is None:
        return OSError(errno.ENOSPC, "No space left on device")
    return OSError(errno.ENOSPC, "No space left on device", str(path))


# -- a full disk -------------------------------------------------------------------------------


def test_a_full_disk_while_staging_names_the_disk_and_the_file(
    tmp_path: Path, objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "hosts" / "algo-1" / "input" / "data" / "train" / "rows.csv"

    def full(*args: object, **kwargs: object) -> None:
        raise _no_space(target)

    monkeypatch.setattr(host_module, "stage_channel", full)
    with pytest.raises(HostSetupError) as caught:
        prepare_host(_plan(tmp_path), _placement(tmp_path), objects)
    mount, device = DiskFullError.disk_of(tmp_path)
    disk = f"{device} (mounted on {mount})" if device else mount
    assert caught.value.reason == (
        f"ClientError: No space left on device on {disk} while writing {target}: free space "
        f"on {mount} and try again."
    )
    assert caught.value.retryable is False  # it would fill the disk again


def test_without_a_file_name_the_folder_being_written_is_named(
    tmp_path: Path, objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise StorageError("Could not download s3://b/k: [Errno 28]") from _no_space()

    monkeypatch.setattr(host_module, "stage_channel", full)
    with pytest.raises(HostSetupError, match="No space left on device on ") as caught:
        prepare_host(_plan(tmp_path), _placement(tmp_path), objects)
    channel = tmp_path / "hosts" / "algo-1" / "input" / "data" / "train"
    assert f"while writing {channel}:" in caught.value.reason


def test_cp_running_out_of_space_is_a_disk_full_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = b"cp: error writing '/data/jobs/j/input/data/train/big.bin': No space left on device"

    def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(argv, 1, b"", said)

    monkeypatch.setattr(staging.subprocess, "run", run)
    (tmp_path / "big.bin").write_text("x")
    with pytest.raises(DiskFullError) as caught:
        staging.copy_tree(tmp_path / "big.bin", tmp_path / "out" / "big.bin")
    assert caught.value.path == "/data/jobs/j/input/data/train/big.bin"
    assert caught.value.errno == errno.ENOSPC

    def fails(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(argv, 1, b"", b"cp: cannot stat 'x': Permission denied")

    monkeypatch.setattr(staging.subprocess, "run", fails)
    with pytest.raises(OSError, match="Permission denied"):
        staging.copy_tree(tmp_path / "big.bin", tmp_path / "out" / "big.bin")


def test_a_full_disk_while_uploading_checkpoints_names_the_stores_file(
    tmp_path: Path, objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = JobRoot(tmp_path / "root")
    root.create()
    (root.path / "checkpoints").mkdir()
    (root.path / "checkpoints" / "step-1.pt").write_text("c")

    def full(*args: object, **kwargs: object) -> None:
        raise StorageError("Could not upload to s3://bucket/ckpt/step-1.pt") from _no_space()

    monkeypatch.setattr(host_module, "upload_path", full)
    with pytest.raises(DiskFullError) as caught:
        upload_host(_plan(tmp_path, checkpoint_uri="s3://bucket/ckpt"), root, objects)
    assert caught.value.path.endswith("bucket/ckpt")
    assert "No space left on device on " in str(caught.value)


def test_a_script_that_fills_the_disk_gets_a_reason_naming_it(tmp_path: Path) -> None:
    root = JobRoot(tmp_path / "root")
    root.create()
    log = tmp_path / "host.log"
    log.write_text(
        "Traceback (most recent call last):\n"
        '  File "train.py", line 3, in <module>\n'
        "OSError: [Errno 28] No space left on device: '/opt/ml/model/weights.bin'\n"
    )
    reason = exit_of(1, root, log).failure_text
    assert reason is not None
    mount, _ = DiskFullError.disk_of(root.path)
    assert reason.startswith("AlgorithmError: the script exited with code 1: No space left on ")
    assert f"while writing /opt/ml/model/weights.bin: free space on {mount}" in reason
    assert reason.endswith("No space left on device: '/opt/ml/model/weights.bin'")


def test_a_job_whose_disk_fills_while_staging_ends_failed_and_is_not_retried(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('never runs')\n")
    service = TrainingJobService(settings, launcher=lambda settings, name, log: None)
    record = service.create_training_job(
        {
            "TrainingJobName": "full-disk",
            "AlgorithmSpecification": {"TrainingImage": "python:3.11"},
            "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "RetryStrategy": {"MaximumRetryAttempts": 2},
            "Sageyard": {"SourceCode": {"SourceDir": str(code), "EntryScript": "train.py"}},
        }
    )

    def full(objects: object, code_uri: str, root: JobRoot) -> None:
        raise _no_space(root.code_dir / "train.py")

    monkeypatch.setattr(host_module, "stage_code", full)
    Supervisor(settings, record.name).run()  # in this process, with the local executor
    description = service.describe(record.name)
    assert description["TrainingJobStatus"] == "Failed"
    reason = description["FailureReason"]
    assert reason.startswith("ClientError: No space left on device on ")
    assert "/jobs/full-disk/hosts/algo-1/input/data/code/train.py" in reason
    statuses = [t["Status"] for t in description["SecondaryStatusTransitions"]]
    assert "Restarting" not in statuses


# -- secrets in reasons ------------------------------------------------------------------------


def test_a_setup_reason_never_shows_a_secret(
    tmp_path: Path, objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def leaks(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError(f"https://user:{SECRET}@pypi.example/simple is unreachable")

    monkeypatch.setattr(host_module, "stage_channel", leaks)
    with pytest.raises(HostSetupError) as caught:
        prepare_host(_plan(tmp_path), _placement(tmp_path), objects)
    assert SECRET not in caught.value.reason and "user:********@" in caught.value.reason
    assert SECRET not in str(caught.value)


def test_a_failure_reason_masks_secrets_even_when_cut_to_fit(tmp_path: Path) -> None:
    root = JobRoot(tmp_path / "root")
    root.create()
    log = tmp_path / "host.log"
    filler = "x" * 863  # the excerpt is cut near the first secret
    log.write_text(
        f"Traceback (most recent call last):\nRuntimeError: login {SECRET} {filler} {SECRET}\n"
    )
    reason = exit_of(1, root, log, secrets=[SECRET]).failure_text
    assert reason is not None
    detail = reason.split("\n", 1)[1]
    assert detail.startswith("...") and detail.endswith("xxx ********")
    pieces = {SECRET[i : i + 6] for i in range(len(SECRET) - 5)}
    assert not [piece for piece in pieces if piece in reason]
    root.failure_file.write_text("y" * 1010 + f" {SECRET}")  # the file is cut at 1,024
    reason = exit_of(1, root, log, secrets=[SECRET]).failure_text
    assert reason is not None and not [piece for piece in pieces if piece in reason]


# -- local paths outside the job root ----------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "relative", "mapped"),
    [
        ("/opt/ml/checkpoints", "checkpoints", False),
        ("/opt/ml/checkpoints/", "checkpoints", False),
        ("/opt/ml/model/ckpt", "model/ckpt", False),
        ("/tmp/ckpt", "checkpoints", True),
        ("/home/someone", "checkpoints", True),
        ("/opt/ml/../../etc", "checkpoints", True),
        ("/opt/ml", "checkpoints", True),
        ("/opt/ml/input/data/train", "checkpoints", True),
        ("//opt/ml/checkpoints", "checkpoints", True),
        ("relative/ckpt", "checkpoints", True),
    ],
)
def test_a_local_path_is_always_inside_the_job_root(
    asked: str, relative: str, mapped: bool
) -> None:
    folder = job_folder(asked, "/opt/ml/checkpoints")
    assert (folder.relative, folder.mapped) == (relative, mapped)
    assert folder.host_path(JobRoot(Path("/r"))) == Path("/r") / relative


def test_a_checkpoint_path_outside_the_job_root_is_mapped_into_it(
    tmp_path: Path, objects: ObjectStore
) -> None:
    outside = tmp_path / "host-folder"
    outside.mkdir()
    (outside / "mine.txt").write_text("the user's own file")
    for name in ("step-1.pt", "step-2.pt"):
        objects.put_file(outside / "mine.txt", f"s3://bucket/ckpt/{name}")
    plan = _plan(
        tmp_path,
        checkpoint_uri="s3://bucket/ckpt",
        checkpoint_path=str(outside),
        tensorboard_uri="s3://bucket/tb",
        tensorboard_path=str(tmp_path / "tb-outside"),
    )
    placement = _placement(tmp_path)
    prepared = prepare_host(plan, placement, objects)
    root = prepared.root
    assert sorted(p.name for p in outside.iterdir()) == ["mine.txt"]  # nothing written there
    assert not (tmp_path / "tb-outside").exists()
    assert sorted(p.name for p in (root.path / "checkpoints").iterdir()) == [
        "step-1.pt",
        "step-2.pt",
    ]
    env = prepared.launch.env
    assert env["SM_CHECKPOINT_DIR"] == str(root.path / "checkpoints")
    assert env["SM_TENSORBOARD_DIR"] == str(root.path / "output" / "tensorboard")
    config = json.loads((root.config_dir / "checkpointconfig.json").read_text())
    assert config == {"LocalPath": str(root.path / "checkpoints"), "S3Uri": "s3://bucket/ckpt"}
    log = placement.log.read_text()
    assert f"CheckpointConfig.LocalPath {str(outside)!r} is outside the job root" in log
    assert "$SM_CHECKPOINT_DIR" in log and "writes nothing to" in log

    (root.path / "checkpoints" / "step-3.pt").write_text("3")
    (outside / "not-a-checkpoint.txt").write_text("private")
    upload_host(plan, root, objects)
    assert objects.list("s3://bucket/ckpt/") == [f"s3://bucket/ckpt/step-{n}.pt" for n in (1, 2, 3)]


# -- the pieces --------------------------------------------------------------------------------


def test_secret_values_and_mask_text() -> None:
    from sageyard.runtime.environment import mask_text, secret_values

    environment = {"DB_PASSWORD": "hunter22", "API_KEY": "abc", "MODE": "fast", "A_TOKEN": "t0k3n"}
    assert secret_values(environment) == ["hunter22", "t0k3n"]  # "abc" is too short to mask
    secrets = secret_values(environment)
    assert mask_text("log in with hunter22 and t0k3n", secrets) == (
        "log in with ******** and ********"
    )
    assert mask_text('{"password": "hun\\"ter22"}', ['hun"ter22']) == '{"password": "********"}'
    assert mask_text("hunter22x: 'hunter2\\x00'", ["hunter2\x00"]) == "hunter22x: '********'"
    assert mask_text("ends with hunt", ["hunter22"]) == "ends with hunt"  # a whole-text rule
    assert mask_text("ends with hunt", ["hunter22"], edges=True) == "ends with ********"
    assert mask_text("...ter22 at the cut", ["hunter22"], edges=True) == "...******** at the cut"


def test_disk_full_and_store_errors_say_what_to_do(tmp_path: Path) -> None:
    import pickle

    error = DiskFullError(tmp_path / "a" / ".." / "model.bin")
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    assert error.path == str(tmp_path / "model.bin")
    assert f"while writing {tmp_path / 'model.bin'}: free space on " in str(error)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
    assert DiskFullError.caused(StorageError("upload failed")) is False
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise StorageError("upload failed") from inner
    except StorageError as outer:
        assert DiskFullError.caused(outer) is True

    from sageyard.core.exceptions import StoreError

    locked = StoreError.of(RuntimeError("database is locked"), "postgresql://me:pw@db/x", "read j")
    assert str(locked).startswith("The job store postgresql://me:***@db/x could not read j:")
    assert "pw@" not in str(locked) and "Another process holds the database" in str(locked)
    full = StoreError.of(
        RuntimeError("database or disk is full"), f"sqlite:///{tmp_path}/s.db", "w"
    )
    assert f"while writing {tmp_path}/s.db" in str(full)


def test_a_failed_copy_names_the_file_it_wrote_not_the_one_it_read(tmp_path: Path) -> None:
    from sageyard.runtime.host import disk_full

    copy = OSError(errno.ENOSPC, "No space left on device", "/tmp/src.tar", None, str(tmp_path))
    try:
        raise StorageError("Could not upload to s3://b/k") from copy
    except StorageError as error:
        assert disk_full(error, "/elsewhere").path == str(tmp_path)
    assert disk_full(StorageError("no cause"), tmp_path / "f").path == str(tmp_path / "f")


KILLED = "exited on signal 9 (Killed)."


@pytest.mark.parametrize(
    ("report", "rank", "code"),
    [
        (
            ["MPI_ABORT was invoked on rank 2 in communicator MPI_COMM_WORLD", "with errorcode 1."],
            2,
            1,
        ),
        (
            [
                "the job to be terminated. The first process to do so was:",
                "",
                "  Process name: [[4919,1],2]",
                "  Exit code:    3",
            ],
            2,
            3,
        ),
        (
            ["mpirun noticed that process rank 2 with PID 0 on node algo-2 " + KILLED],
            2,
            -9,
        ),
    ],
)
def test_mpiruns_report_names_the_failed_rank_and_its_own_lines(
    report: list[str], rank: int, code: int
) -> None:
    log = [
        "[1,0]<stdout>:fine",
        "[1,2]<stderr>:Traceback (most recent call last):",
        "[1,2]<stderr>:ValueError: no",
        "[1,12]<stderr>:not rank 2",
        *report,
    ]
    assert failed_rank(log) == (
        rank,
        code,
        ["Traceback (most recent call last):", "ValueError: no"],
    )


def test_a_rank_killed_by_a_signal_is_said_so(tmp_path: Path) -> None:
    root = JobRoot(tmp_path / "algo-1")
    root.create()
    log = tmp_path / "algo-1.log"
    log.write_text(
        "[1,1]<stdout>:working\n"
        f"mpirun noticed that process rank 1 with PID 0 on node algo-1 {KILLED}\n"
    )
    reason = failure_reason(root, log, 137)
    assert reason.startswith("AlgorithmError: rank 1 was killed by SIGKILL"), reason
