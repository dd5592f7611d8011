"""Adversarial jobs against the host sandbox (``runtime/sandbox.py``): each tries to get out
of its box, and the contract (``/opt/ml``, channels, model output) still holds."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.resources import TrainingJob
from sageyard.jobs.service import TrainingJobService
from sageyard.runtime.sandbox import sandbox_kind
from sageyard.train.configs import Compute, InputData, Networking
from tests.integration.conftest import MakeTrainer

pytestmark = pytest.mark.skipif(
    sandbox_kind() != "bwrap",
    reason="bubblewrap cannot build a sandbox here (install bubblewrap; a normal user also "
    "needs unprivileged user namespaces)",
)


def _run(make_trainer: MakeTrainer, body: str, **kwargs: object) -> tuple[TrainingJob, dict]:
    """Run ``body`` (which prints one ``RESULT <json>`` line) as a job; the job and that JSON."""
    trainer = make_trainer(body, **kwargs.pop("trainer", {}))  # type: ignore[arg-type]
    trainer.train(logs=False, **kwargs)
    job = trainer._latest_training_job
    assert job is not None
    lines = [line[7:] for line in job.logs() if line.startswith("RESULT ")]
    assert lines, "\n".join(job.logs())
    return job, json.loads(lines[-1])


def test_the_job_store_and_other_jobs_are_not_visible(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path(os.environ["SAGEYARD_HOME"])
    make_trainer("print('first')").train(logs=False)  # another job, with a folder of its own
    monkeypatch.setenv("SAGEYARD_TEST_SECRET", "hunter2")
    job, seen = _run(
        make_trainer,
        f"""
        import json, os
        home = {str(home)!r}
        def listing(path):
            try:
                return sorted(os.listdir(path))
            except OSError as error:
                return error.errno
        def readable(path):
            try:
                open(path, "rb").read(1)
                return True
            except OSError:
                return False
        print("RESULT", json.dumps({{
            "env": sorted(k for k in os.environ if k.startswith("SAGEYARD")),
            "secret": os.environ.get("SAGEYARD_TEST_SECRET"),
            "store": readable(os.path.join(home, "store.db")),
            "jobs": listing(os.path.join(home, "jobs")),
            "home": listing(home),
            "root_home": listing(os.path.expanduser("~root")),
        }}))
        """,
    )
    assert job.training_job_status == "Completed"
    assert seen["env"] == [] and seen["secret"] is None
    assert seen["store"] is False
    assert seen["jobs"] == [job.training_job_name]  # only its own folder's path
    assert "store.db" not in seen["home"] if isinstance(seen["home"], list) else True
    assert seen["root_home"] in ([], 2) or "/root" not in str(home)


def test_a_read_only_channel_stays_read_only_even_for_mount(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    from sageyard.runtime.staging import WRITABLE_COPY_BYTES

    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("original\n")
    # a channel this large is mounted, not copied (a small one is the job's own copy)
    (data / "more.bin").write_bytes(b"\0" * (WRITABLE_COPY_BYTES + 1))
    job, seen = _run(
        make_trainer,
        """
        import json, os, subprocess
        channel = os.environ["SM_CHANNEL_TRAIN"]
        path = os.path.join(channel, "rows.csv")
        def write():
            try:
                with open(path, "w") as f:
                    f.write("changed")
                return "wrote"
            except OSError as error:
                return error.errno
        first = write()
        tries = []
        for argv in (["mount", "-o", "remount,bind,rw", channel],
                     ["unshare", "-Urm", "mount", "-o", "remount,bind,rw", channel]):
            done = subprocess.run(argv, capture_output=True)
            tries.append(done.returncode)
        print("RESULT", json.dumps({"first": first, "mount": tries, "after": write()}))
        """,
        input_data_config=[InputData(channel_name="train", data_source=str(data))],
    )
    assert job.training_job_status == "Completed"
    assert seen["first"] != "wrote" and seen["after"] != "wrote"
    assert all(code != 0 for code in seen["mount"])
    assert (data / "rows.csv").read_text() == "original\n"


def test_writes_outside_the_job_root_never_reach_this_machine(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    outside = tmp_path / "escaped.txt"
    job, seen = _run(
        make_trainer,
        f"""
        import json, os
        results = {{}}
        for path in ({str(outside)!r}, "/work/escaped.txt", os.path.expanduser("~/escaped"),
                     "/usr/escaped", "/etc/escaped"):
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write("x")
                results[path] = "wrote"
            except OSError as error:
                results[path] = error.errno
        caps = [line.split()[1] for line in open("/proc/self/status")
                if line.startswith("CapEff:")][0]
        model = os.path.join("/opt/ml/model", "model.txt")
        open(model, "w").write("weights")
        print("RESULT", json.dumps({{"writes": results, "caps": caps}}))
        """,
    )
    assert job.training_job_status == "Completed"
    assert not outside.exists()
    assert not Path("/work/escaped.txt").exists()
    assert not (Path.home() / "escaped").exists()
    assert seen["writes"]["/usr/escaped"] != "wrote"
    assert seen["writes"]["/etc/escaped"] != "wrote"
    assert int(seen["caps"], 16) == 0


@pytest.fixture
def local_server() -> Iterator[int]:
    """A TCP server on this machine's 127.0.0.1 that accepts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                server.accept()[0].close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    done.set()
    thread.join()
    server.close()


CONNECT = """
    import json, socket
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        reached = True
    except OSError:
        reached = False
    print("RESULT", json.dumps({{"reached": reached}}))
"""


@pytest.mark.parametrize("isolated", [True, False])
def test_network_isolation_cuts_off_this_machines_services(
    make_trainer: MakeTrainer, service: TrainingJobService, local_server: int, isolated: bool
) -> None:
    job, seen = _run(
        make_trainer,
        CONNECT.format(port=local_server),
        trainer={"networking": Networking(enable_network_isolation=isolated)},
    )
    assert job.training_job_status == "Completed"
    assert seen["reached"] is (not isolated)
    assert service.describe(job.training_job_name)["EnableNetworkIsolation"] is isolated


TWO_HOSTS = """
    import json, os, socket, time
    port = int(os.environ["SM_MASTER_PORT"])
    if os.environ["SM_CURRENT_HOST"] == "algo-1":
        server = socket.create_server(("0.0.0.0", port))
        server.settimeout(20)
        server.accept()[0].close()
        peer = True
    else:
        peer = False
        for _ in range(200):
            try:
                socket.create_connection(("algo-1", port), timeout=1).close()
                peer = True
                break
            except OSError:
                time.sleep(0.05)
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        reached = True
    except OSError:
        reached = False
    print("RESULT", json.dumps({{"host": os.environ["SM_CURRENT_HOST"], "peer": peer,
                                 "reached": reached}}))
"""


@pytest.mark.parametrize("isolated", [True, False])
def test_the_hosts_of_an_isolated_job_reach_each_other_and_nothing_else(
    make_trainer: MakeTrainer, service: TrainingJobService, local_server: int, isolated: bool
) -> None:
    trainer = make_trainer(
        TWO_HOSTS.format(port=local_server),
        compute=Compute(instance_count=2),
        networking=Networking(enable_network_isolation=isolated),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None
    assert job.training_job_status == "Completed", job.describe().get("FailureReason")
    results = [line.split("RESULT ", 1)[1] for line in job.logs() if "] RESULT " in line]
    seen = [json.loads(result) for result in results]  # lines are "[algo-N] RESULT {...}"
    assert sorted(s["host"] for s in seen) == ["algo-1", "algo-2"]
    assert all(s["peer"] for s in seen)
    assert [s["reached"] for s in seen] == [not isolated, not isolated]
    assert service.describe(job.training_job_name)["EnableNetworkIsolation"] is isolated


def test_network_isolation_is_refused_without_a_sandbox(
    make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_ISOLATION", "off")
    trainer = make_trainer("print('x')", networking=Networking(enable_network_isolation=True))
    with pytest.raises(ConfigurationError, match="SAGEYARD_ISOLATION=off"):
        trainer.train(logs=False)


def test_the_contract_holds_in_the_sandbox(make_trainer: MakeTrainer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1,2\n")
    job, seen = _run(
        make_trainer,
        """
        import json, os, tempfile
        open("/opt/ml/model/model.txt", "w").write("weights")
        tempfile.NamedTemporaryFile(dir="/tmp").close()
        print("RESULT", json.dumps({
            "data": sorted(os.listdir("/opt/ml/input/data/train")),
            "cwd": os.getcwd(),
            "config": sorted(os.listdir("/opt/ml/input/config")),
        }))
        """,
        input_data_config=[InputData(channel_name="train", data_source=str(data))],
    )
    assert job.training_job_status == "Completed"
    assert seen["data"] == ["a.csv"]
    assert seen["cwd"] == "/opt/ml/input/data/code"
    assert "hyperparameters.json" in seen["config"]
