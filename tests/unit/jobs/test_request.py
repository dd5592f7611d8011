"""CreateTrainingJob requests → validated specs: the rules, straight on request dicts.

These are what an HTTP caller would send; the facade's own tests (tests/unit/train) check
that ModelTrainer builds such requests.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError, ResourceLimitExceeded
from sageyard.core.settings import Settings
from sageyard.jobs.request import validate_training_job
from sageyard.jobs.service import TrainingJobService
from sageyard.storage import ObjectStore
from tests.unit.jobs.conftest import OUTPUT


def with_(request: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``request`` with ``value`` at the dotted ``path`` (None removes it)."""
    changed = copy.deepcopy(request)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return changed


def test_a_minimal_request_gets_the_defaults(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore, code_dir: Path
) -> None:
    job = validate_training_job(request_, settings, objects)
    spec = job.spec
    assert (spec.training_job_name, job.base_name) == ("my-job", None)
    assert job.source_dir == code_dir
    assert spec.hyperparameters == {"epochs": "3"}
    assert [(g.instance_type, g.count) for g in spec.host_groups] == [("ml.m5.xlarge", 1)]
    assert spec.stopping_condition.max_runtime_in_seconds == 86400
    assert spec.compression_type == "Gzip"
    described = spec.request
    assert "Sageyard" not in described
    assert described["ResourceConfig"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert described["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert described["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert described["OutputDataConfig"] == {"S3OutputPath": OUTPUT, "CompressionType": "GZIP"}


def test_a_base_name_instead_of_a_name(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request = with_(with_(request_, "TrainingJobName", None), "Sageyard.BaseJobName", "base")
    assert validate_training_job(request, settings, objects).base_name == "base"
    both = with_(request_, "Sageyard.BaseJobName", "base")
    with pytest.raises(ConfigurationError, match="exactly one of TrainingJobName"):
        validate_training_job(both, settings, objects)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("Unknown", 1, r"CreateTrainingJob has unknown field\(s\) \['Unknown'\]"),
        ("Sageyard.Nope", 1, r"Sageyard has unknown field\(s\) \['Nope'\]"),
        ("RoleArn", None, "RoleArn must be an IAM role ARN"),
        ("HyperParameters", {"epochs": 3}, "convert the values with str"),
        ("OutputDataConfig.S3OutputPath", "/tmp/out", "S3OutputPath: .* must be an S3 URI"),
        ("OutputDataConfig.S3OutputPath", None, "S3OutputPath is required"),
        ("OutputDataConfig.CompressionType", "Zip", "CompressionType"),
        ("ResourceConfig", {"InstanceCount": 0}, "ResourceConfig is invalid: InstanceCount"),
        ("ResourceConfig", {"VolumeSizeInGB": -1}, "ResourceConfig is invalid: VolumeSizeInGB"),
        (
            "ResourceConfig",
            {"InstanceGroups": [{"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}]},
            "InstanceGroups.0.InstanceGroupName: Field required",
        ),
        ("RemoteDebugConfig", {"Enable": True}, "RemoteDebugConfig is invalid"),
        ("Tags", [{"Value": "x"}], r"Tags\[0\] is invalid: Key"),
        ("AlgorithmSpecification.MetricDefinitions", [{"Name": "a"}], "entries are dicts with"),
        ("AlgorithmSpecification.TrainingInputMode", "Stream", "TrainingInputMode must be"),
        ("AlgorithmSpecification.AlgorithmName", "xgboost", "exactly one of TrainingImage"),
        ("StoppingCondition", {"MaxRuntimeInSeconds": 0}, "MaxRuntimeInSeconds"),
        ("StoppingCondition", {"MaxWaitTimeInSeconds": 10}, "only for managed spot"),
        ("EnableManagedSpotTraining", True, "needs StoppingCondition.max_wait_time"),
        ("Sageyard.SourceCode.EntryScript", "missing.py", "'missing.py' is not in source_dir"),
        ("Sageyard.SourceCode.SourceDir", "relative/code", "is not a folder"),
        ("Sageyard.Executor", "ray", "cannot read this machine's embedded object store"),
        ("Sageyard.Executor", "nope", "no executor named 'nope'"),
        (
            "Sageyard.Distributed",
            {"Torchrun": {"ProcessCountPerNode": 2, "Smp": {"ContextParallelDegree": 2}}},
            r"context_parallel_degree \(2\) must divide hybrid_shard_degree \(1\)",
        ),
        ("CheckpointConfig", {"S3Uri": "s3://bucket-x/ck", "LocalPath": "rel"}, "absolute"),
    ],
)
def test_each_rule_names_what_was_given(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    path: str,
    value: Any,
    message: str,
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        validate_training_job(with_(request_, path, value), settings, objects)


def test_metric_definitions_later_ones_win_on_a_name(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    definitions = [
        {"Name": "loss", "Regex": "loss=([0-9.]+)"},
        {"Name": "acc", "Regex": "acc=([0-9.]+)"},
        {"Name": "loss", "Regex": "Loss: ([0-9.]+)"},
    ]
    request = with_(request_, "AlgorithmSpecification.MetricDefinitions", definitions)
    spec = validate_training_job(request, settings, objects).spec
    assert [(d.name, d.regex) for d in spec.metric_definitions] == [
        ("acc", "acc=([0-9.]+)"),
        ("loss", "Loss: ([0-9.]+)"),
    ]


def test_code_without_an_entry_point_is_refused(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request = with_(request_, "Sageyard.SourceCode.EntryScript", None)
    with pytest.raises(ConfigurationError, match="sageyard runs your code"):
        validate_training_job(request, settings, objects)


def test_channels_local_s3_and_file_system(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    objects.put_file(data / "a.csv", "s3://bucket-x/train/a.csv")
    channels = [
        {"ChannelName": "local", "DataSource": {"LocalPath": str(data)}},
        {
            "ChannelName": "s3",
            "DataSource": {
                "S3DataSource": {
                    "S3Uri": "s3://bucket-x/train",
                    "S3DataType": "S3Prefix",
                    "S3DataDistributionType": "ShardedByS3Key",
                }
            },
            "InputMode": "Pipe",
        },
        {
            "ChannelName": "fs",
            "DataSource": {
                "FileSystemDataSource": {
                    "FileSystemId": "fs-1",
                    "FileSystemAccessMode": "ro",
                    "FileSystemType": "EFS",
                    "DirectoryPath": str(data),
                }
            },
        },
    ]
    spec = validate_training_job(
        with_(request_, "InputDataConfig", channels), settings, objects
    ).spec
    assert [(c.name, c.source, c.input_mode) for c in spec.channels] == [
        ("local", str(data), "File"),
        ("s3", "s3://bucket-x/train", "Pipe"),
        ("fs", str(data), "File"),
    ]
    assert spec.channels[1].distribution == "ShardedByS3Key"
    assert spec.request["InputDataConfig"] == channels


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ([{"ChannelName": "a", "DataSource": {"LocalPath": "/no/such"}}], "does not exist"),
        (
            [{"ChannelName": "a", "DataSource": {"S3DataSource": {"S3Uri": "s3://bucket-x/no"}}}],
            "no data under s3://bucket-x/no",
        ),
        ([{"ChannelName": "a", "DataSource": {}}], "exactly one of S3DataSource"),
        (
            [
                {"ChannelName": "a-b", "DataSource": {"LocalPath": "/"}},
                {"ChannelName": "a.b", "DataSource": {"LocalPath": "/"}},
            ],
            "would both be SM_CHANNEL_A_B",
        ),
        (
            [
                {"ChannelName": "a", "DataSource": {"LocalPath": "/"}},
                {"ChannelName": "a", "DataSource": {"LocalPath": "/"}},
            ],
            r"\['a'\] appear more than once",
        ),
        ([{"ChannelName": "a", "DataSource": {"LocalPath": "/"}, "X": 1}], "unknown field"),
    ],
)
def test_bad_channels_are_refused(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    channels: list[dict[str, Any]],
    message: str,
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        validate_training_job(with_(request_, "InputDataConfig", channels), settings, objects)


def test_the_ray_executor_refuses_what_nodes_cannot_share(
    request_: dict[str, Any], objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_EXECUTOR", "ray")
    with pytest.raises(ConfigurationError, match="set SAGEYARD_S3_ENDPOINT_URL"):
        validate_training_job(request_, Settings.from_env(), objects)
    monkeypatch.setenv("SAGEYARD_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match="PostgreSQL URL"):
        validate_training_job(request_, Settings.from_env(), objects)


def test_the_instance_quota_is_a_resource_limit(
    request_: dict[str, Any], objects: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEYARD_INSTANCE_QUOTA", "2")
    request = with_(
        request_, "ResourceConfig", {"InstanceType": "ml.m5.xlarge", "InstanceCount": 3}
    )
    with pytest.raises(ResourceLimitExceeded, match="asks for 3 instances"):
        validate_training_job(request, Settings.from_env(), objects)


def test_a_built_in_algorithm_brings_its_metrics(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request = with_(request_, "AlgorithmSpecification", {"AlgorithmName": "xgboost"})
    request = with_(request, "Sageyard", None)
    mine = {"Name": "validation:auc", "Regex": "mine: ([0-9.]+)"}
    request["AlgorithmSpecification"]["MetricDefinitions"] = [mine]
    spec = validate_training_job(request, settings, objects).spec
    assert spec.builtin_program == "sageyard.programs.xgboost"
    regexes = {d.name: d.regex for d in spec.metric_definitions}
    assert regexes["validation:auc"] == mine["Regex"]  # the request's own wins on a name
    assert len(regexes) > 1
    with pytest.raises(ConfigurationError, match="not a built-in algorithm sageyard knows"):
        validate_training_job(
            with_(request, "AlgorithmSpecification.AlgorithmName", "nope"), settings, objects
        )


def test_the_service_writes_nothing_for_a_bad_request(
    request_: dict[str, Any], settings: Settings, sageyard_home: Path
) -> None:
    service = TrainingJobService(settings)
    with pytest.raises(ConfigurationError):
        service.create_training_job(with_(request_, "RoleArn", None))
    assert not (sageyard_home / "jobs").exists()
    assert service.store.list("TrainingJob") == []


def test_a_model_channel_is_kept_whatever_channels_are_given(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore, tmp_path: Path
) -> None:
    weights, data = tmp_path / "weights", tmp_path / "data"
    weights.mkdir()
    data.mkdir()
    model = {"ChannelName": "model", "DataSource": {"LocalPath": str(weights)}}
    train = {"ChannelName": "train", "DataSource": {"LocalPath": str(data)}}
    request = with_(request_, "Sageyard.ModelChannel", model)
    spec = validate_training_job(with_(request, "InputDataConfig", [train]), settings, objects).spec
    assert [(c.name, c.source) for c in spec.channels] == [
        ("train", str(data)),
        ("model", str(weights)),
    ]
    assert [c["ChannelName"] for c in spec.request["InputDataConfig"]] == ["train", "model"]
    own = {"ChannelName": "model", "DataSource": {"LocalPath": str(data)}}
    spec = validate_training_job(with_(request, "InputDataConfig", [own]), settings, objects).spec
    assert [(c.name, c.source) for c in spec.channels] == [("model", str(data))]  # given wins
    with pytest.raises(ConfigurationError, match=r"Sageyard\.ModelChannel\.ChannelName"):
        validate_training_job(
            with_(request_, "Sageyard.ModelChannel", {"DataSource": {}}), settings, objects
        )


def test_local_container_without_docker_runs_as_processes_with_a_warning(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    request = with_(request_, "Sageyard.Executor", "container")
    spec = validate_training_job(request, settings, objects).spec
    assert spec.executor == "local"
    assert len(spec.warnings) == 1 and "no Docker engine answers" in spec.warnings[0]
    assert "SAGEYARD_STRICT_CONTAINER=1" in spec.warnings[0]
    strict = Settings.from_env({**dict(os.environ), "SAGEYARD_STRICT_CONTAINER": "1"})
    with pytest.raises(ConfigurationError, match="no Docker engine answers"):
        validate_training_job(request, strict, objects)


def test_a_torchrun_request_is_kept_in_the_spec(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    torchrun = with_(request_, "Sageyard.Distributed", {"Torchrun": {"ProcessCountPerNode": 2}})
    spec = validate_training_job(torchrun, settings, objects).spec
    assert spec.distributed == {"Torchrun": {"ProcessCountPerNode": 2}}
    unset = with_(request_, "Sageyard.Distributed", {"Torchrun": {}})
    assert validate_training_job(unset, settings, objects).spec.distributed == {
        "Torchrun": {"ProcessCountPerNode": None}
    }
    assert validate_training_job(request_, settings, objects).spec.distributed is None


def test_an_mpi_request_is_kept_in_the_spec(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    given = {"MPI": {"ProcessCountPerNode": 2, "MpiAdditionalOptions": ["-x", "A=1"]}}
    mpi = with_(request_, "Sageyard.Distributed", given)
    assert validate_training_job(mpi, settings, objects).spec.distributed == given
    unset = with_(request_, "Sageyard.Distributed", {"MPI": {}})
    assert validate_training_job(unset, settings, objects).spec.distributed == {
        "MPI": {"ProcessCountPerNode": None, "MpiAdditionalOptions": []}
    }


@pytest.mark.parametrize(
    ("distributed", "said"),
    [
        ({"MPI": {"ProcessCountPerNode": 0}}, "MPI\\(process_count_per_node=...\\) must be"),
        ({"MPI": {"MpiAdditionalOptions": "-x A=1"}}, "list of strings"),
        ({"MPI": {"MpiAdditionalOptions": ["-x", 1]}}, "list of strings"),
        ({"MPI": {"Hosts": 2}}, "Hosts"),
        ({"MPI": {}, "Torchrun": {}}, "Distributed"),
        ({"Torchrun": {"Smp": {"TensorParallelDegree": 0}}}, "tensor_parallel_degree must be"),
        ({"Torchrun": {"Smp": {"Degree": 2}}}, r"unknown parameter\(s\) \['degree'\]"),
        ({"Torchrun": {"Smp": {"SmActivationOffloading": 1}}}, "must be True or False"),
        ({"Torchrun": {"Smp": {"RandomSeed": -1}}}, "between 0 and"),
        (
            {
                "Torchrun": {
                    "ProcessCountPerNode": 2,
                    "Smp": {"ExpertParallelDegree": 2, "TensorParallelDegree": 2},
                }
            },
            "cannot be combined with tensor_parallel_degree",
        ),
        (
            {"Torchrun": {"ProcessCountPerNode": 2, "Smp": {"TensorParallelDegree": 4}}},
            r"tensor_parallel_degree \(4\) must divide the world size \(2 ranks",
        ),
        (
            {"Torchrun": {"ProcessCountPerNode": 4, "Smp": {"HybridShardDegree": 3}}},
            r"hybrid_shard_degree \(3\) x tensor_parallel_degree \(1\) must divide",
        ),
        ({"Torchrun": {"ProcessCountPerNode": 0}}, "at least 1, but got 0"),
        ({"Torchrun": {"ProcessCountPerNode": "2"}}, "but got '2'"),
        ({"Torchrun": {"ProcessCountPerNode": True}}, "but got True"),
        ({"Torchrun": {"Processes": 2}}, "Processes"),
        ({"Horovod": {}}, "Horovod"),
        ("torchrun", "Distributed"),
    ],
)
def test_a_bad_distributed_request_is_refused(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    distributed: Any,
    said: str,
) -> None:
    with pytest.raises(ConfigurationError, match=said):
        validate_training_job(
            with_(request_, "Sageyard.Distributed", distributed), settings, objects
        )


def test_an_smp_job_keeps_its_parameters_and_gets_mp_parameters(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    smp = {"Torchrun": {"ProcessCountPerNode": 2, "Smp": {"TensorParallelDegree": 2}}}
    spec = validate_training_job(
        with_(request_, "Sageyard.Distributed", smp), settings, objects
    ).spec
    assert spec.distributed == {
        "Torchrun": {"ProcessCountPerNode": 2, "Smp": {"tensor_parallel_degree": 2}}
    }
    assert spec.hyperparameters["mp_parameters"] == '{"tensor_parallel_degree": 2}'
    # the real SDK's hyperparameter is taken when it agrees, and refused when it does not
    given = with_(with_(request_, "Sageyard.Distributed", smp), "HyperParameters", {})
    agreeing = with_(given, "HyperParameters.mp_parameters", '{"tensor_parallel_degree": 2}')
    assert validate_training_job(agreeing, settings, objects).spec.hyperparameters
    other = with_(given, "HyperParameters.mp_parameters", '{"tensor_parallel_degree": 1}')
    with pytest.raises(ConfigurationError, match="disagrees with Torchrun"):
        validate_training_job(other, settings, objects)


def test_torchrun_needs_a_python_entry_script(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    torchrun = with_(request_, "Sageyard.Distributed", {"Torchrun": {}})
    command = with_(
        with_(torchrun, "Sageyard.SourceCode.EntryScript", None),
        "Sageyard.SourceCode.Command",
        "python train.py",
    )
    with pytest.raises(ConfigurationError, match="entry_script"):
        validate_training_job(command, settings, objects)


def test_a_container_entrypoint_is_the_hosts_command(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request = with_(request_, "Sageyard", None)
    request = with_(request, "AlgorithmSpecification.ContainerEntrypoint", ["python3", "-c", "1"])
    request = with_(request, "AlgorithmSpecification.ContainerArguments", ["--a", "two words"])
    spec = validate_training_job(request, settings, objects).spec
    assert (spec.command, spec.arguments) == ("python3 -c 1", ["--a", "two words"])
    assert spec.request["AlgorithmSpecification"]["ContainerEntrypoint"] == ["python3", "-c", "1"]


@pytest.mark.parametrize(
    ("entrypoint", "arguments", "says"),
    [
        (None, ["--a"], "there is none: set ContainerEntrypoint"),
        ("python3 train.py", None, "must be a list of strings"),
        (["python3"], [1], "ContainerArguments must be a list of strings"),
        ([], None, "must hold 1 to 100 strings"),
    ],
)
def test_a_container_entrypoint_that_cannot_run_is_refused(
    request_: dict[str, Any],
    settings: Settings,
    objects: ObjectStore,
    entrypoint: Any,
    arguments: Any,
    says: str,
) -> None:
    request = with_(request_, "Sageyard", None)
    request = with_(request, "AlgorithmSpecification.ContainerEntrypoint", entrypoint)
    request = with_(request, "AlgorithmSpecification.ContainerArguments", arguments)
    with pytest.raises(ConfigurationError, match=says):
        validate_training_job(request, settings, objects)


def test_an_entrypoint_and_an_entry_script_are_one_too_many(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request = with_(request_, "AlgorithmSpecification.ContainerEntrypoint", ["python3"])
    with pytest.raises(ConfigurationError, match="keep one of them"):
        validate_training_job(request, settings, objects)


def test_the_toolkit_contract_names_the_script_and_its_code(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore, tmp_path: Path
) -> None:
    import tarfile

    archive = tmp_path / "sourcedir.tar.gz"
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(script, arcname="train.py")
    objects.put_file(archive, "s3://code-bucket/tuning/sourcedir.tar.gz")
    request = with_(request_, "Sageyard", None)
    hyperparameters = {
        "sagemaker_program": '"train.py"',  # the v2 SDK's JSON-encoded values
        "sagemaker_submit_directory": "s3://code-bucket/tuning/sourcedir.tar.gz",
        "lr": "0.1",
    }
    request = with_(request, "HyperParameters", hyperparameters)
    spec = validate_training_job(request, settings, objects).spec
    assert (spec.entry_script, spec.code_uri) == (
        "train.py",
        "s3://code-bucket/tuning/sourcedir.tar.gz",
    )
    assert spec.hyperparameters["lr"] == "0.1"


def test_a_program_without_its_code_is_refused(
    request_: dict[str, Any], settings: Settings, objects: ObjectStore
) -> None:
    request = with_(request_, "Sageyard", None)
    request = with_(request, "HyperParameters", {"sagemaker_program": "train.py"})
    with pytest.raises(ConfigurationError, match="sagemaker_submit_directory, which is not set"):
        validate_training_job(request, settings, objects)
    missing = with_(
        request,
        "HyperParameters",
        {
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": "s3://code-bucket/none.tar.gz",
        },
    )
    with pytest.raises(ConfigurationError, match="does not exist in the object store"):
        validate_training_job(missing, settings, objects)
