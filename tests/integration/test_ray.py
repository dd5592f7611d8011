"""Jobs on a Ray cluster for real: a local cluster of two nodes (``ray_cluster``), the
object store a moto S3 server, the job store PostgreSQL; only settings change, the API
does not. Each host can tell its node from ``SAGEYARD_RAY_NODE_ID``, and describe records
where each host ran."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.train.configs import Compute
from sageyard.train.distributed import Torchrun
from tests.integration.conftest import MakeTrainer, tar_members
from tests.integration.test_distributed import DDP, _rank_infos, _single_process_weights

pytest.importorskip("ray")

#: Says where it runs, then leaves a model.
WHERE = """
    import json, os, time
    seconds = float(os.environ.get("HOLD", "0"))
    print("WHERE " + json.dumps({
        "host": os.environ["SM_CURRENT_HOST"], "node": os.environ["SAGEYARD_RAY_NODE_ID"]
    }), flush=True)
    time.sleep(seconds)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as out:
        out.write(os.environ["SM_CURRENT_HOST"])
"""


@pytest.fixture
def on_ray(
    ray_cluster: Any, moto_endpoint: str, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Every job of the test runs on the Ray cluster; returns the cluster."""
    monkeypatch.setenv("SAGEYARD_EXECUTOR", "ray")
    monkeypatch.setenv("SAGEYARD_RAY_ADDRESS", ray_cluster.address)
    monkeypatch.setenv("SAGEYARD_S3_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("SAGEYARD_STORE_URL", postgres_url)
    return ray_cluster


def _wheres(lines: list[str]) -> dict[str, str]:
    """host → the Ray node it said it ran on."""
    found = {}
    for line in lines:
        if "WHERE " in line:
            info = json.loads(line.split("WHERE ", 1)[1])
            found[info["host"]] = info["node"]
    return found


def test_the_hosts_of_a_job_run_on_different_nodes(on_ray: Any, make_trainer: MakeTrainer) -> None:
    import ray

    from sageyard.core.settings import Settings
    from sageyard.jobs.service import TrainingJobService

    trainer = make_trainer(WHERE, compute=Compute(instance_type="ml.m5.large", instance_count=2))
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed"
    wheres = _wheres(job.logs())
    assert set(wheres) == {"algo-1", "algo-2"}
    assert len(set(wheres.values())) == 2
    assert set(wheres.values()) <= {node["NodeID"] for node in ray.nodes()}
    described = TrainingJobService(Settings.from_env()).describe(job.training_job_name)
    placement = described["Sageyard"]["Placement"]
    assert placement["Strategy"] == "STRICT_SPREAD"
    assert {h: n["NodeId"] for h, n in placement["Hosts"].items()} == wheres


def test_a_two_node_torchrun_job_trains_as_one_process(
    on_ray: Any, make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    trainer = make_trainer(
        DDP,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=Torchrun(),
        hyperparameters={"lr": 0.1, "steps": 10, "marker": "ray"},
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason
    infos = _rank_infos(job.logs())
    assert [(i["rank"], i["host"], i["world"]) for i in infos] == [
        (0, "algo-1", 2),
        (1, "algo-2", 2),
    ]
    assert infos[0]["sum"] == 3.0  # 1 + 2: the all-reduce crossed the nodes
    members = tar_members(job.model_artifacts.s3_model_artifacts, tmp_path)
    weights = json.loads(members["weights.json"])
    expected = _single_process_weights(0.1, 10)
    flat = [value for part in weights for value in part]
    assert flat == pytest.approx([value for part in expected for value in part], abs=1e-5)


#: A trial: its objective is x, and it says where it ran.
TRIAL = """
    import argparse, json, os, time
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float)
    a, _ = p.parse_known_args()
    print("WHERE " + json.dumps({
        "host": os.environ["SM_CURRENT_HOST"], "node": os.environ["SAGEYARD_RAY_NODE_ID"]
    }), flush=True)
    time.sleep(1)
    print(f"score={a.x}", flush=True)
"""


def test_a_tuning_job_runs_its_trials_on_both_nodes(on_ray: Any, make_trainer: MakeTrainer) -> None:
    from sageyard.core.parameter import ContinuousParameter
    from sageyard.jobs.resource import TrainingJob
    from sageyard.train.tuner import HyperparameterTuner

    trainer = make_trainer(TRIAL, compute=Compute(instance_type="ml.m5.large"))
    tuner = HyperparameterTuner(
        trainer,
        objective_metric_name="score",
        hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0)},
        metric_definitions=[{"Name": "score", "Regex": "score=([0-9.]+)"}],
        strategy="Random",
        max_jobs=4,
        max_parallel_jobs=2,
        random_seed=3,
    )
    tuner.tune()
    assert tuner.describe()["HyperParameterTuningJobStatus"] == "Completed"
    frame = tuner.analytics().dataframe()
    assert len(frame) == 4 and set(frame["TrainingJobStatus"]) == {"Completed"}
    nodes = {
        node
        for name in frame["TrainingJobName"]
        for node in _wheres(TrainingJob(name).logs()).values()
    }
    # two at a time, each trial taking a whole node (ml.m5.large: 2 CPUs): both nodes ran trials
    assert len(nodes) == 2
    best = tuner.best_training_job()
    assert frame["FinalObjectiveValue"].max() == pytest.approx(
        float(frame.set_index("TrainingJobName").loc[best, "FinalObjectiveValue"])
    )


def test_a_job_that_does_not_fit_waits_pending_and_starts_when_the_cluster_frees_up(
    on_ray: Any, make_trainer: MakeTrainer
) -> None:
    big = make_trainer(
        WHERE,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        environment={"HOLD": "6"},
    )
    big.train(wait=False)
    first = big._latest_training_job
    assert first is not None
    deadline = time.time() + 60
    while first.refresh().secondary_status != "Training":
        assert time.time() < deadline, first.secondary_status
        time.sleep(0.2)
    # the command line shows the job's hosts on the two nodes, which it fills
    from click.testing import CliRunner

    from sageyard.cli import main

    shown = CliRunner().invoke(main, ["cluster", "status", "--json"])
    assert shown.exit_code == 0, shown.output
    nodes = json.loads(shown.output)["nodes"]
    assert sorted(host for n in nodes for _, host in n["Jobs"]) == ["algo-1", "algo-2"]
    assert {job for n in nodes for job, _ in n["Jobs"]} == {first.training_job_name}
    assert [n["Free"]["CPU"] for n in nodes] == [0.0, 0.0]
    table = CliRunner().invoke(main, ["cluster", "status"])
    assert "head" in table.output and "worker" in table.output and "0/2" in table.output
    queued = make_trainer(WHERE, compute=Compute(instance_type="ml.m5.large", instance_count=1))
    queued.train(wait=False)
    second = queued._latest_training_job
    assert second is not None
    deadline = time.time() + 30
    while second.refresh().secondary_status != "Pending":
        assert time.time() < deadline, second.secondary_status
        time.sleep(0.2)
    messages = [t.status_message for t in second.secondary_status_transitions or []]
    assert any("Waiting for capacity on the Ray cluster" in str(m) for m in messages)
    second.wait(logs=False)
    first.wait(logs=False)
    assert second.training_job_status == "Completed"
    assert first.training_end_time is not None and second.training_start_time is not None
    # it trained only once the first job's hosts had ended and given their nodes back
    assert second.training_start_time >= first.training_end_time


def test_a_job_whose_host_actor_is_killed_fails_as_infrastructure_and_is_retried(
    on_ray: Any, make_trainer: MakeTrainer
) -> None:

    from sageyard.train.configs import RetryStrategy

    trainer = make_trainer(
        WHERE, compute=Compute(instance_type="ml.m5.large"), environment={"HOLD": "4"}
    )
    trainer.with_retry_strategy(RetryStrategy(maximum_retry_attempts=2))
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    deadline = time.time() + 60
    while not _wheres(job.logs()):
        assert time.time() < deadline
        time.sleep(0.2)
    assert _kill_host_actor(job.training_job_name)
    job.wait(logs=False)
    assert job.training_job_status == "Completed"
    statuses = [t.status for t in job.secondary_status_transitions or []]
    assert "Restarting" in statuses
    messages = " ".join(str(t.status_message) for t in job.secondary_status_transitions or [])
    assert "was lost with its Ray node" in messages


#: Says where it runs and what it sees of the job before it, then leaves a model.
WARM = """
    import json, os
    print("WHERE " + json.dumps({
        "host": os.environ["SM_CURRENT_HOST"], "node": os.environ["SAGEYARD_RAY_NODE_ID"],
        "secret": os.path.exists("/tmp/secret"),
    }), flush=True)
    open("/tmp/secret", "w").write("from the job before")
    name = os.environ["TRAINING_JOB_NAME"]
    open(os.path.join(os.environ["SM_MODEL_DIR"], name + ".txt"), "w").write(name)
"""


def test_a_warm_pool_keeps_the_hosts_actors_on_their_nodes_for_the_next_job(
    on_ray: Any, make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    import ray

    from sageyard.core.resources import TrainingJob as CoreTrainingJob

    compute = Compute(
        instance_type="ml.m5.large", instance_count=2, keep_alive_period_in_seconds=30
    )
    trainer = make_trainer(WARM, compute=compute)
    jobs = []
    for _ in range(2):
        trainer.train(logs=False)
        job = trainer._latest_training_job
        assert job is not None and job.training_job_status == "Completed", job.failure_reason
        jobs.append(job)
        name = job.training_job_name
        _wait_until(lambda name=name: _warm_status(name) == "Available")  # type: ignore[misc]
    first, second = (job.training_job_name for job in jobs)
    assert (_warm_status(first), jobs[0].describe()["WarmPoolStatus"]["ReusedByJob"]) == (
        "Reused",
        second,
    )
    # the same actors, so the same nodes; the second job made none of its own
    wheres = [_wheres(job.logs()) for job in jobs]
    assert wheres[0] == wheres[1] and len(set(wheres[0].values())) == 2
    actors = ray.util.list_named_actors()
    assert sum(name.startswith(f"{first}/") for name in actors) == 2
    assert not any(name.startswith(f"{second}/") for name in actors)
    # a fresh sandbox and only its own model, as on a new instance
    assert all('"secret": false' in line for line in jobs[1].logs() if "WHERE " in line)
    model = jobs[1].describe()["ModelArtifacts"]["S3ModelArtifacts"]
    assert set(tar_members(model, tmp_path)) == {f"{second}.txt"}
    # the pool ends: its actors and placement group go
    CoreTrainingJob.get(second).update(resource_config={"keep_alive_period_in_seconds": 0})
    _wait_until(lambda: _warm_status(second) == "Terminated")
    _wait_until(lambda: not any(n.startswith(f"{first}/") for n in ray.util.list_named_actors()))


def _warm_status(job_name: str) -> str:
    from sageyard.core.settings import Settings
    from sageyard.jobs.service import TrainingJobService

    described = TrainingJobService(Settings.from_env()).describe(job_name)
    return str(described["WarmPoolStatus"]["Status"])


def _wait_until(check: Any, seconds: float = 60.0) -> None:
    deadline = time.time() + seconds
    while not check():
        assert time.time() < deadline, "condition not met in time"
        time.sleep(0.1)


def _kill_host_actor(job_name: str) -> bool:
    """Kill the actor of ``job_name``'s algo-1, as if its node had gone."""
    import ray

    for name in ray.util.list_named_actors():
        if name.startswith(f"{job_name}/algo-1/"):
            ray.kill(ray.get_actor(name, namespace="sageyard"), no_restart=True)
            return True
    return False


def test_what_cannot_run_across_machines_is_refused_before_any_job(
    ray_cluster: Any,
    moto_endpoint: str,
    postgres_url: str,
    make_trainer: MakeTrainer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGEYARD_EXECUTOR", "ray")
    monkeypatch.setenv("SAGEYARD_RAY_ADDRESS", ray_cluster.address)

    def train() -> None:  # a new trainer: its session reads the settings then
        make_trainer(WHERE, compute=Compute(instance_type="ml.m5.large")).train(wait=False)

    with pytest.raises(ConfigurationError, match="set SAGEYARD_S3_ENDPOINT_URL"):
        train()
    monkeypatch.setenv("SAGEYARD_S3_ENDPOINT_URL", moto_endpoint)
    with pytest.raises(ConfigurationError, match="SQLite file"):
        train()
    monkeypatch.setenv("SAGEYARD_STORE_URL", postgres_url)
    monkeypatch.setenv("SAGEYARD_RAY_RESOURCES", '{"ml.m5.large": {"CPUs": 2}}')
    with pytest.raises(ConfigurationError, match=r"SAGEYARD_RAY_RESOURCES\['ml.m5.large'\]"):
        train()
    from sageyard.core.settings import Settings
    from sageyard.store import open_store

    assert open_store(Settings.from_env().store_url).list("TrainingJob") == []


def test_an_mpi_job_runs_its_ranks_on_both_nodes(on_ray: Any, make_trainer: MakeTrainer) -> None:
    import shutil

    pytest.importorskip("mpi4py")
    if shutil.which("mpirun") is None:
        pytest.skip("needs Open MPI's mpirun")
    from sageyard.train.distributed import MPI
    from tests.integration.test_mpi import ALLREDUCE
    from tests.integration.test_mpi import _rank_infos as mpi_rank_infos

    trainer = make_trainer(
        ALLREDUCE,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        distributed=MPI(process_count_per_node=1),
    )
    trainer.train(logs=False)
    job = trainer._latest_training_job
    assert job is not None and job.training_job_status == "Completed", job.failure_reason
    infos = mpi_rank_infos(job.logs())
    assert [(i["rank"], i["host"]) for i in infos] == [(0, "algo-1"), (1, "algo-2")]
    assert {i["sum"] for i in infos} == {3}


def test_stop_and_max_runtime_reach_every_host_on_every_node(
    on_ray: Any, make_trainer: MakeTrainer
) -> None:
    import uuid

    from sageyard.train.configs import StoppingCondition
    from tests.integration.test_distributed import assert_none_left

    marker = uuid.uuid4().hex
    stopped = make_trainer(
        WHERE,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        environment={"HOLD": "120"},
        hyperparameters={"marker": marker},
    )
    stopped.train(wait=False)
    job = stopped._latest_training_job
    assert job is not None
    deadline = time.time() + 60
    while len(_wheres(job.logs())) < 2:
        assert time.time() < deadline
        time.sleep(0.2)
    job.stop()
    job.wait(logs=False)
    assert job.training_job_status == "Stopped"
    assert_none_left(marker)

    marker = uuid.uuid4().hex
    limited = make_trainer(
        WHERE,
        compute=Compute(instance_type="ml.m5.large", instance_count=2),
        environment={"HOLD": "120"},
        hyperparameters={"marker": marker},
        stopping_condition=StoppingCondition(max_runtime_in_seconds=3),
    )
    limited.train(wait=False)
    job = limited._latest_training_job
    assert job is not None
    job.wait(logs=False)
    assert job.training_job_status == "Stopped" and job.secondary_status == "MaxRuntimeExceeded"
    assert_none_left(marker)


@pytest.mark.slow
def test_a_node_that_dies_mid_job_fails_it_as_infrastructure_and_the_retry_runs_elsewhere(
    on_ray: Any, make_trainer: MakeTrainer
) -> None:
    import ray

    from sageyard.train.configs import RetryStrategy

    cluster = on_ray
    # three nodes: the job's two hosts and a spare (an address of its own, as on a machine
    # of its own)
    spare = cluster.add_node(num_cpus=2, node_ip_address="127.0.0.3")
    cluster.wait_for_nodes()
    try:
        trainer = make_trainer(
            WHERE,
            compute=Compute(instance_type="ml.m5.large", instance_count=2),
            environment={"HOLD": "6"},
        )
        trainer.with_retry_strategy(RetryStrategy(maximum_retry_attempts=2))
        trainer.train(wait=False)
        job = trainer._latest_training_job
        assert job is not None
        deadline = time.time() + 60
        while len(first := _wheres(job.logs())) < 2:
            assert time.time() < deadline
            time.sleep(0.2)
        # a node of the job that is not the head (which holds the cluster itself) dies
        head = cluster.head_node.node_id
        doomed_id = next(node for node in first.values() if node != head)
        doomed = next(n for n in cluster.list_all_nodes() if n.node_id == doomed_id)
        cluster.remove_node(doomed, allow_graceful=False)
        job.wait(logs=False)
        assert job.training_job_status == "Completed", job.failure_reason
        transitions = job.secondary_status_transitions or []
        assert "Restarting" in [t.status for t in transitions]
        messages = " ".join(str(t.status_message) for t in transitions)
        assert "was lost with its Ray node" in messages
        # the retry ran every host again (each host's last word), none on the dead node
        final = _wheres(job.logs())
        assert sum("WHERE" in line for line in job.logs()) == 4
        assert doomed_id not in final.values() and len(set(final.values())) == 2
        assert doomed_id not in {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    finally:
        if spare in cluster.list_all_nodes() and len(cluster.list_all_nodes()) > 2:
            cluster.remove_node(spare)


def test_the_supervisor_runs_on_the_cluster_so_the_caller_may_leave(
    on_ray: Any, code_dir: Any, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from sageyard.core.settings import Settings
    from sageyard.store import open_store

    folder = code_dir(WHERE)
    submit = tmp_path / "submit.py"
    submit.write_text(
        "from sageyard.train import ModelTrainer\n"
        "from sageyard.train.configs import Compute, SourceCode\n"
        "trainer = ModelTrainer(training_image='python:3.11', environment={'HOLD': '3'},\n"
        f"    source_code=SourceCode(source_dir={str(folder)!r}, entry_script='train.py'),\n"
        "    compute=Compute(instance_type='ml.m5.large'))\n"
        "trainer.train(wait=False)\n"
        "print(trainer._latest_training_job.training_job_name)\n"
    )
    # the caller submits, then leaves at once
    done = subprocess.run(
        [sys.executable, str(submit)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    name = done.stdout.strip().splitlines()[-1]
    store = open_store(Settings.from_env().store_url)
    deadline = time.time() + 60
    while (record := store.get(name)) is None or not record.owner:
        assert time.time() < deadline
        time.sleep(0.2)
    # its supervisor was started on the head node by the cluster's launcher
    pid = int(record.owner.split(":")[1])
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"SAGEYARD_ON_CLUSTER=1" in environ
    import ray

    from sageyard.executors.ray import NAMESPACE
    from sageyard.jobs.ray_launch import LAUNCHER
    from sageyard.jobs.resource import TrainingJob

    launcher = ray.get_actor(LAUNCHER, namespace=NAMESPACE)
    where = ray.get(launcher.__ray_call__.remote(lambda _: ray.get_runtime_context().get_node_id()))
    assert where == on_ray.head_node.node_id
    # and it is no child of the launcher's Ray worker (which kills its children when it
    # exits): the supervisor outlives its launcher
    ray.kill(launcher)

    job = TrainingJob(name)
    job.wait(logs=False)
    assert job.training_job_status == "Completed"
    assert set(_wheres(job.logs())) == {"algo-1"}


#: Reads its data channel: prints each file and its first line.
READS = """
    import os
    folder = os.environ["SM_CHANNEL_TRAIN"]
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as data:
            print(f"READ {name} {data.readline().strip()}", flush=True)
"""


def test_local_data_is_uploaded_once_for_the_nodes_that_read_it(
    on_ray: Any, make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    from sageyard.core.settings import Settings
    from sageyard.storage import object_store_for
    from sageyard.train.configs import InputData

    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1,2\n")
    (data / "b.csv").write_text("3,4\n")
    objects = object_store_for(Settings.from_env())
    uploads = "s3://sagemaker-us-west-2-000000000000/sageyard-inputs/"
    lines = []
    for _ in range(2):  # the second job finds the first one's upload
        trainer = make_trainer(READS, compute=Compute(instance_type="ml.m5.large"))
        trainer.train(input_data_config=[InputData(channel_name="train", data_source=str(data))])
        job = trainer._latest_training_job
        assert job is not None and job.training_job_status == "Completed", job.failure_reason
        lines.append([line for line in job.logs() if line.startswith("READ")])
        assert len(objects.list(uploads)) == 3  # two files and the marker of a whole upload
    assert lines == [["READ a.csv 1,2", "READ b.csv 3,4"]] * 2


def test_a_fine_tuning_run_goes_onto_the_cluster_unchanged(
    on_ray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("trl")
    # its default instance type here (ml.m5.2xlarge: 8 CPUs) is more than a node of 2 has
    monkeypatch.setenv("SAGEYARD_RAY_RESOURCES", '{"ml.m5.2xlarge": {"CPU": 2}}')
    from sageyard.train.sft_trainer import SFTTrainer
    from tests.llm import make_tiny_model, write_jsonl

    model = make_tiny_model(tmp_path / "tiny")  # a local model folder: uploaded for the nodes
    rows = [{"prompt": f"Q: {f} question", "completion": "yes answer"} for f in ["apple"] * 8]
    trainer = SFTTrainer(
        model=str(model),
        training_type="lora",
        training_dataset=str(write_jsonl(tmp_path / "t.jsonl", rows)),
    )
    hp = trainer.hyperparameters
    hp.max_steps, hp.per_device_train_batch_size, hp.max_seq_length = 2, 4, 32
    job = trainer.train(wait=True)
    assert job.training_job_status == "Completed", job.failure_reason
    from sageyard.core.settings import Settings
    from sageyard.jobs.service import TrainingJobService

    described = TrainingJobService(Settings.from_env()).describe(job.training_job_name)
    [(host, node)] = described["Sageyard"]["Placement"]["Hosts"].items()
    assert host == "algo-1" and node["NodeId"]
    assert [m.value for m in job.metrics("train:loss")]  # its metrics, read from the node's log
    assert described["ModelArtifacts"]["S3ModelArtifacts"].endswith("model.tar.gz")


def test_a_host_no_node_can_hold_is_said_and_ends_at_max_pending_time(
    on_ray: Any, make_trainer: MakeTrainer
) -> None:
    from sageyard.core.settings import Settings
    from sageyard.jobs.service import TrainingJobService
    from sageyard.train.configs import StoppingCondition

    trainer = make_trainer(
        WHERE,
        compute=Compute(instance_type="ml.m5.4xlarge"),  # 16 CPUs; the nodes have 2
        stopping_condition=StoppingCondition(max_pending_time_in_seconds=3),
    )
    trainer.train(wait=False)
    job = trainer._latest_training_job
    assert job is not None
    job.wait(logs=False)
    assert job.training_job_status == "Stopped"
    described = TrainingJobService(Settings.from_env()).describe(job.training_job_name)
    assert any("No node of the Ray cluster has 16 CPU" in w for w in described["Warnings"])
    messages = [t["StatusMessage"] for t in described["SecondaryStatusTransitions"]]
    assert any(
        "no capacity on the Ray cluster within MaxPendingTimeInSeconds" in m for m in messages
    )


#: Says which GPUs it was given, and where.
GPUS = """
    import json, os
    print("GPUS " + json.dumps({
        "visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "count": os.environ["SM_NUM_GPUS"],
        "node": os.environ["SAGEYARD_RAY_NODE_ID"],
    }), flush=True)
"""


def test_a_gpu_instance_type_takes_a_gpu_bundle_on_a_node_that_has_gpus(
    on_ray: Any, make_trainer: MakeTrainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = on_ray
    # a node that says it has a GPU (Ray counts it; no GPU is there to use)
    gpu_node = cluster.add_node(num_cpus=1, num_gpus=1, node_ip_address="127.0.0.4")
    cluster.wait_for_nodes()
    monkeypatch.setenv("SAGEYARD_RAY_RESOURCES", '{"ml.g5.xlarge": {"CPU": 1, "GPU": 1}}')
    try:
        trainer = make_trainer(GPUS, compute=Compute(instance_type="ml.g5.xlarge"))
        trainer.train(logs=False)
        job = trainer._latest_training_job
        assert job is not None and job.training_job_status == "Completed", job.failure_reason
        line = next(line for line in job.logs() if line.startswith("GPUS "))
        seen = json.loads(line[len("GPUS ") :])
        assert seen["node"] == gpu_node.node_id  # the only node with a GPU
        assert seen["visible"] == "0" and seen["count"] == "1"  # Ray's GPU id, as on SageMaker
    finally:
        cluster.remove_node(gpu_node)
