"""One host on its node: staging, config files, environment, exit and per-host uploads."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from sageyard.runtime.host import (
    HostPlacement,
    HostSetupError,
    exit_of,
    prepare_host,
    upload_host,
)
from sageyard.runtime.layout import JobRoot
from sageyard.runtime.plan import ChannelPlan, HostGroup, HostPlan
from sageyard.storage import ObjectStore

HOSTS = ("algo-1", "algo-2")


def _plan(tmp_path: Path, **changes: object) -> HostPlan:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "rows.csv").write_text("1,2\n")
    fields: dict[str, object] = {
        "job_name": "job",
        "host": "algo-2",
        "hosts": HOSTS,
        "groups": (HostGroup("main", "ml.m5.large", HOSTS),),
        "entry_script": "train.py",
        "hyperparameters": {"epochs": "3"},
        "channels": (ChannelPlan("train", str(data)),),
    }
    fields.update(changes)
    return HostPlan(**fields)  # type: ignore[arg-type]


def _placement(tmp_path: Path, **changes: object) -> HostPlacement:
    fields: dict[str, object] = {
        "root": tmp_path / "hosts" / "algo-2",
        "log": tmp_path / "logs" / "algo-2.log",
        "envs_dir": tmp_path / "envs",
        "master_port": 29500,
        "master_addr": "127.0.0.1",
    }
    fields.update(changes)
    return HostPlacement(**fields)  # type: ignore[arg-type]


def test_prepare_host_stages_inputs_and_writes_the_contract(
    tmp_path: Path, objects: ObjectStore
) -> None:
    prepared = prepare_host(_plan(tmp_path), _placement(tmp_path), objects)
    root = prepared.root
    assert (root.channel_dir("train") / "rows.csv").read_text() == "1,2\n"  # copied
    resources = json.loads((root.config_dir / "resourceconfig.json").read_text())
    assert (resources["current_host"], resources["hosts"]) == ("algo-2", list(HOSTS))
    env = prepared.launch.env
    assert (env["SM_CURRENT_HOST"], env["SM_MASTER_ADDR"], env["SM_MASTER_PORT"]) == (
        "algo-2",
        "127.0.0.1",
        "29500",
    )
    assert env["SM_MODEL_DIR"] == str(root.model_dir)
    assert prepared.launch.argv[1:] == ["train.py", "--epochs", "3"]
    assert prepared.launch.cwd == root.code_dir


def test_a_torchrun_host_runs_the_script_under_torchrun_with_its_rank(
    tmp_path: Path, objects: ObjectStore
) -> None:
    plan = _plan(tmp_path, distributed={"Torchrun": {"ProcessCountPerNode": 3}})
    launch = prepare_host(plan, _placement(tmp_path, master_addr=None), objects).launch
    assert launch.argv[1:] == [
        "-m",
        "torch.distributed.run",
        "--nnodes=2",
        "--nproc-per-node=3",
        "--node-rank=1",  # algo-2
        "--master-addr=algo-1",  # resolved by the job's /etc/hosts
        "--master-port=29500",
        "--tee=3",
        "train.py",
        "--epochs",
        "3",
    ]
    assert launch.env["TORCHELASTIC_LOG_LINE_PREFIX_TEMPLATE"] == "[rank${rank}]: "
    config = json.loads(launch.env["SM_DISTRIBUTED_CONFIG"])
    assert config == {"process_count_per_node": 3, "smp": None}  # as the real SDK writes it
    assert not (tmp_path / "logs" / "algo-2.log").exists()  # nothing to say: the count is set


def test_an_smp_host_gives_its_ranks_torch_sagemaker_and_the_full_smp_config(
    tmp_path: Path, objects: ObjectStore
) -> None:
    from sageyard.runtime.smp import SITE_DIR, config

    smp = {"tensor_parallel_degree": 2}
    plan = _plan(tmp_path, distributed={"Torchrun": {"ProcessCountPerNode": 2, "Smp": smp}})
    launch = prepare_host(plan, _placement(tmp_path, master_addr=None), objects).launch
    assert launch.env["PYTHONPATH"].split(os.pathsep)[0] == str(SITE_DIR)
    written = json.loads(launch.env["SM_DISTRIBUTED_CONFIG"])
    assert written["smp"] == {**dict.fromkeys(config.DEFAULTS), "tensor_parallel_degree": 2}
    plain = _plan(tmp_path, distributed={"Torchrun": {"ProcessCountPerNode": 2}})
    without = prepare_host(plain, _placement(tmp_path, master_addr=None), objects).launch
    assert str(SITE_DIR) not in without.env.get("PYTHONPATH", "")


def test_torchrun_ranks_get_their_share_of_the_hosts_cpus(
    tmp_path: Path, objects: ObjectStore
) -> None:
    plan = _plan(tmp_path, distributed={"Torchrun": {"ProcessCountPerNode": 2}})
    launch = prepare_host(plan, _placement(tmp_path, cpus=5), objects).launch
    assert launch.env["OMP_NUM_THREADS"] == "2"  # 5 CPUs for 2 ranks
    chosen = _plan(
        tmp_path,
        distributed={"Torchrun": {"ProcessCountPerNode": 2}},
        environment={"OMP_NUM_THREADS": "7"},
    )
    placement = _placement(tmp_path, cpus=5, root=tmp_path / "chosen")
    assert prepare_host(chosen, placement, objects).launch.env["OMP_NUM_THREADS"] == "7"


def test_torchrun_runs_a_process_per_gpu_else_one_and_says_so(
    tmp_path: Path, objects: ObjectStore
) -> None:
    plan = _plan(tmp_path, distributed={"Torchrun": {"ProcessCountPerNode": None}})
    on_gpus = prepare_host(plan, _placement(tmp_path, gpus=("0", "1")), objects).launch
    assert "--nproc-per-node=2" in on_gpus.argv
    on_cpu = prepare_host(plan, _placement(tmp_path, root=tmp_path / "cpu"), objects).launch
    assert "--nproc-per-node=1" in on_cpu.argv
    said = (tmp_path / "logs" / "algo-2.log").read_text()
    assert "[sageyard] Torchrun: 1 process on this host" in said


MPI_JOB = {"MPI": {"ProcessCountPerNode": 2, "MpiAdditionalOptions": ["-x", "A=1"]}}


def test_an_mpi_job_runs_mpirun_on_algo_1_and_an_agent_on_the_others(
    tmp_path: Path, objects: ObjectStore
) -> None:
    placement = _placement(tmp_path, agent_port=4000, agent_token="secret")
    worker = prepare_host(_plan(tmp_path, distributed=MPI_JOB), placement, objects).launch
    assert worker.argv == [sys.executable, "-m", "sageyard.runtime.mpi", "serve"]
    assert (worker.env["SAGEYARD_MPI_PORT"], worker.env["SAGEYARD_MPI_TOKEN"]) == (
        "4000",
        "secret",
    )
    first = _plan(tmp_path, distributed=MPI_JOB, host="algo-1")
    placement = _placement(tmp_path, root=tmp_path / "algo-1", agent_port=4000)
    launch = prepare_host(first, placement, objects).launch
    assert launch.argv[:4] == [sys.executable, "-m", "sageyard.runtime.mpi", "launch"]
    assert json.loads(launch.argv[4]) == {
        "hosts": ["algo-1", "algo-2"],
        "processes": 2,
        "options": ["-x", "A=1"],
        "python": sys.executable,
        "script": ["train.py", "--epochs", "3"],
    }
    config = json.loads(launch.env["SM_DISTRIBUTED_CONFIG"])
    assert config == {"process_count_per_node": 2, "mpi_additional_options": ["-x", "A=1"]}


def test_a_missing_local_channel_is_the_jobs_mistake(tmp_path: Path, objects: ObjectStore) -> None:
    plan = _plan(tmp_path, channels=(ChannelPlan("train", str(tmp_path / "nowhere")),))
    with pytest.raises(HostSetupError, match="ClientError: Channel 'train'") as caught:
        prepare_host(plan, _placement(tmp_path), objects)
    assert caught.value.retryable is False


def test_the_failure_reason_is_read_from_this_attempts_log_only(tmp_path: Path) -> None:
    root = JobRoot(tmp_path / "root")
    root.create()
    log = tmp_path / "host.log"
    log.write_text("Traceback (most recent call last):\nOldError: attempt one\n")
    start = log.stat().st_size
    with open(log, "a") as out:
        out.write("Traceback (most recent call last):\nValueError: attempt two\n")
    ended = exit_of(1, root, log, start)
    assert ended.failure_text is not None
    assert "attempt two" in ended.failure_text and "attempt one" not in ended.failure_text
    assert exit_of(0, root, log).failure_text is None
    assert exit_of(-9, root, log).failure_text is None  # killed, and nothing written
    root.failure_file.write_text("OOM in step 3")
    assert exit_of(-9, root, log).failure_text == "OOM in step 3"


def test_upload_host_uploads_checkpoints_and_names_the_folders_to_merge(
    tmp_path: Path, objects: ObjectStore
) -> None:
    root = JobRoot(tmp_path / "root")
    root.create()
    (root.path / "checkpoints").mkdir()
    (root.path / "checkpoints" / "step-1.pt").write_text("c")
    plan = _plan(tmp_path, checkpoint_uri="s3://bucket/ckpt/")
    outputs = upload_host(plan, root, objects)
    assert objects.list("s3://bucket/ckpt/") == ["s3://bucket/ckpt/step-1.pt"]
    assert (outputs.model_dir, outputs.output_data_dir) == (root.model_dir, root.output_data_dir)


def test_the_jobs_own_interpreter_comes_first_on_path(tmp_path: Path, objects: ObjectStore) -> None:
    import os
    import sys

    prepared = prepare_host(_plan(tmp_path), _placement(tmp_path), objects)
    path = prepared.launch.env["PATH"].split(os.pathsep)
    assert path[0] == str(Path(sys.executable).parent)  # python, pip, torchrun: the job's
    assert path.count(path[0]) == 1
