"""``sageyard server`` for real: boto3's own clients, pointed at a server in this process by
``endpoint_url`` only, create, describe, list and stop training jobs that run as jobs from
the facade do; its errors reach boto3 as SageMaker's; with credentials configured, a caller
without the secret can neither create nor read jobs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.settings import Settings
from sageyard.server import RunningServer, check_binding

pytest.importorskip("uvicorn")

KEY_ID, SECRET = "AKIDSAGEYARDTEST", "the-server-secret"


@pytest.fixture
def signed_server() -> Iterator[RunningServer]:
    with RunningServer(Settings.from_env(), credentials={KEY_ID: SECRET}) as running:
        yield running


def _client(
    server: RunningServer, service: str = "sagemaker", key: str = KEY_ID, secret: str = SECRET
) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        endpoint_url=server.url,
        region_name="us-west-2",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def _request(name: str, code: str = "print('hello from the wire')") -> dict[str, Any]:
    """A CreateTrainingJob request as boto3 users write it: an image and an entry point."""
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
        "AlgorithmSpecification": {
            "TrainingImage": "python:3.11",
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python3", "-c", code],
        },
        "OutputDataConfig": {"S3OutputPath": "s3://wire-bucket/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def _wait(client: Any, name: str, seconds: float = 60) -> dict[str, Any]:
    deadline = time.time() + seconds
    while True:
        described: dict[str, Any] = client.describe_training_job(TrainingJobName=name)
        if described["TrainingJobStatus"] not in ("InProgress", "Stopping"):
            return described
        assert time.time() < deadline, described["TrainingJobStatus"]
        time.sleep(0.2)


def test_a_job_created_with_boto3_runs_and_describes_in_sagemakers_shapes(
    server: RunningServer,
) -> None:
    from datetime import datetime

    from sageyard.jobs.service import TrainingJobService

    client = _client(server)
    created = client.create_training_job(**_request("wire-job"))
    assert created["TrainingJobArn"].endswith(":training-job/wire-job")
    described = _wait(client, "wire-job")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    # botocore parsed the epoch seconds as datetimes: the answer fits its own shapes
    assert isinstance(described["CreationTime"], datetime)
    assert described["CreationTime"] <= described["TrainingEndTime"]
    statuses = [t["Status"] for t in described["SecondaryStatusTransitions"]]
    assert statuses[0] == "Starting" and statuses[-1] == "Completed"
    assert described["AlgorithmSpecification"]["ContainerEntrypoint"][0] == "python3"
    assert described["ModelArtifacts"]["S3ModelArtifacts"].startswith("s3://wire-bucket/output/")
    # the same job the facade sees, with the script's own output
    logs = TrainingJobService(Settings.from_env()).paths("wire-job").log("algo-1").read_text()
    assert "hello from the wire" in logs


def test_container_arguments_reach_the_entry_point(server: RunningServer) -> None:
    from sageyard.jobs.service import TrainingJobService

    client = _client(server)
    request = _request("wire-args", "import sys; print('ARGS', sys.argv[1:])")
    request["AlgorithmSpecification"]["ContainerArguments"] = ["--name", "two words"]
    client.create_training_job(**request)
    assert _wait(client, "wire-args")["TrainingJobStatus"] == "Completed"
    logs = TrainingJobService(Settings.from_env()).paths("wire-args").log("algo-1").read_text()
    assert "ARGS ['--name', 'two words']" in logs


def test_list_training_jobs_filters_sorts_and_pages(server: RunningServer) -> None:
    client = _client(server)
    for name in ("list-b", "list-a", "list-c", "other-d"):
        client.create_training_job(**_request(name))
    for name in ("list-b", "list-a", "list-c", "other-d"):
        _wait(client, name)
    everything = client.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
    newest_first = [s["TrainingJobName"] for s in everything]
    assert newest_first == ["other-d", "list-c", "list-a", "list-b"]
    assert {s["TrainingJobStatus"] for s in everything} == {"Completed"}
    pages, token = [], None
    while True:
        page = client.list_training_jobs(
            NameContains="list-",
            SortBy="Name",
            SortOrder="Ascending",
            MaxResults=2,
            **({"NextToken": token} if token else {}),
        )
        pages.append([s["TrainingJobName"] for s in page["TrainingJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [["list-a", "list-b"], ["list-c"]]
    # boto3's own paginator follows the same tokens
    paginator = client.get_paginator("list_training_jobs")
    names = [
        summary["TrainingJobName"]
        for page in paginator.paginate(StatusEquals="Completed", PaginationConfig={"PageSize": 3})
        for summary in page["TrainingJobSummaries"]
    ]
    assert names == newest_first
    later = everything[0]["CreationTime"]
    assert client.list_training_jobs(CreationTimeAfter=later)["TrainingJobSummaries"] == []
    assert client.list_training_jobs(StatusEquals="Failed")["TrainingJobSummaries"] == []
    assert client.list_training_jobs(WarmPoolStatusEquals="Available")["TrainingJobSummaries"] == []
    assert everything[0]["TrainingEndTime"] >= everything[0]["CreationTime"]


def test_stop_training_job_stops_a_running_job(server: RunningServer) -> None:
    client = _client(server)
    client.create_training_job(**_request("wire-stop", "import time; time.sleep(60)"))
    deadline = time.time() + 60
    while client.describe_training_job(TrainingJobName="wire-stop")["SecondaryStatus"] != (
        "Training"
    ):
        assert time.time() < deadline
        time.sleep(0.1)
    client.stop_training_job(TrainingJobName="wire-stop")
    described = _wait(client, "wire-stop")
    assert described["TrainingJobStatus"] == "Stopped"


def test_errors_reach_boto3_as_sagemakers(server: RunningServer) -> None:
    client = _client(server)
    with pytest.raises(ClientError) as missing:
        client.describe_training_job(TrainingJobName="no-such-job")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Requested resource not found" in missing.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as stopped:
        client.stop_training_job(TrainingJobName="no-such-job")
    assert stopped.value.response["Error"]["Code"] == "ValidationException"
    client.create_training_job(**_request("twice"))
    with pytest.raises(ClientError) as again:
        client.create_training_job(**_request("twice"))
    assert again.value.response["Error"]["Code"] == "ResourceInUse"
    bad = _request("bad-instance")
    bad["AlgorithmSpecification"]["TrainingInputMode"] = "Sometimes"
    with pytest.raises(ClientError) as invalid:
        client.create_training_job(**bad)
    assert invalid.value.response["Error"]["Code"] == "ValidationException"
    assert "'Sometimes'" in invalid.value.response["Error"]["Message"]
    names = [s["TrainingJobName"] for s in client.list_training_jobs()["TrainingJobSummaries"]]
    assert names == ["twice"]  # nothing of the refused job was written
    with pytest.raises(ClientError) as page:
        client.list_training_jobs(NextToken="not-a-token")
    assert page.value.response["Error"]["Code"] == "ValidationException"


def _post(server: RunningServer, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """A raw POST (no SDK): the status and the JSON answer."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        server.url + "/", data=body, headers={"X-Amz-Target": target}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_unknown_operations_and_bodies_are_refused_with_what_is_answered(
    server: RunningServer,
) -> None:
    status, answer = _post(server, "SageMaker.CreateEndpoint", b"{}")
    assert status == 400
    assert answer["__type"] == "UnknownOperationException"
    assert "DescribeTrainingJob" in answer["message"]
    status, answer = _post(server, "SageMaker.ListTrainingJobs", b"[1")
    assert (status, answer["__type"]) == (400, "SerializationException")


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: RunningServer) -> None:
    import http.client

    from sageyard.server.app import MAX_BODY

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("POST", "/")
    connection.putheader("X-Amz-Target", "SageMaker.ListTrainingJobs")
    connection.putheader("Content-Length", str(MAX_BODY + 1))
    connection.endheaders()  # the body never comes: the answer does not wait for it
    answer = connection.getresponse()
    assert (answer.status, json.loads(answer.read())["__type"]) == (413, "RequestEntityTooLarge")
    connection.close()


def test_sts_and_iam_answer_what_the_sdk_asks_before_it_trains(server: RunningServer) -> None:
    settings = Settings.from_env()
    identity = _client(server, "sts").get_caller_identity()
    assert identity["Account"] == settings.account_id
    assert identity["Arn"] == f"arn:aws:iam::{settings.account_id}:user/{KEY_ID}"
    iam = _client(server, "iam")
    role = iam.get_role(RoleName="SageMakerRole")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{settings.account_id}:role/SageMakerRole"
    simulated = iam.simulate_principal_policy(
        PolicySourceArn=role["Arn"], ActionNames=["sagemaker:CreateTrainingJob"]
    )
    assert [r["EvalDecision"] for r in simulated["EvaluationResults"]] == ["allowed"]


def test_with_credentials_every_request_must_be_signed_with_the_secret(
    signed_server: RunningServer,
) -> None:
    from botocore import UNSIGNED
    from botocore.config import Config

    owner = _client(signed_server)
    owner.create_training_job(**_request("owned"))
    assert _wait(owner, "owned")["TrainingJobStatus"] == "Completed"
    attacker = _client(signed_server, secret="a-guess")
    for call, kwargs in (
        (attacker.create_training_job, _request("stolen")),
        (attacker.describe_training_job, {"TrainingJobName": "owned"}),
        (attacker.list_training_jobs, {}),
        (attacker.stop_training_job, {"TrainingJobName": "owned"}),
    ):
        with pytest.raises(ClientError) as refused:
            call(**kwargs)
        assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    stranger = _client(signed_server, key="AKIDUNKNOWN")
    with pytest.raises(ClientError) as unknown:
        stranger.list_training_jobs()
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"
    import boto3

    unsigned = boto3.session.Session().client(
        "sagemaker",
        endpoint_url=signed_server.url,
        region_name="us-west-2",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as anonymous:
        unsigned.create_training_job(**_request("anonymous"))
    assert anonymous.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    with pytest.raises(ClientError):
        _client(signed_server, "sts", secret="a-guess").get_caller_identity()
    # nothing the attacker sent was created
    names = [s["TrainingJobName"] for s in owner.list_training_jobs()["TrainingJobSummaries"]]
    assert names == ["owned"]


def test_other_addresses_need_credentials() -> None:
    with pytest.raises(ConfigurationError, match="SAGEYARD_SERVER_ACCESS_KEY_ID"):
        check_binding("0.0.0.0", None)
    with pytest.raises(ConfigurationError):
        check_binding("10.1.2.3", {})
    check_binding("0.0.0.0", {KEY_ID: SECRET})
    check_binding("127.0.0.1", None)
    check_binding("::1", None)
    check_binding("localhost", None)


def test_cloudwatch_logs_serve_each_hosts_lines_as_the_sdk_reads_them(
    server: RunningServer,
) -> None:
    client, logs = _client(server), _client(server, "logs")
    code = "import os; print('line one'); print('token', os.environ['API_TOKEN']); print('done')"
    request = _request("logged", code)
    request["ResourceConfig"]["InstanceCount"] = 2
    request["Environment"] = {"API_TOKEN": "hunter2-secret"}
    client.create_training_job(**request)
    assert _wait(client, "logged")["TrainingJobStatus"] == "Completed"
    group = "/aws/sagemaker/TrainingJobs"
    streams = logs.describe_log_streams(
        logGroupName=group, logStreamNamePrefix="logged/", orderBy="LogStreamName"
    )["logStreams"]
    names = [s["logStreamName"] for s in streams]
    assert [n.rsplit("-", 1)[0] for n in names] == ["logged/algo-1", "logged/algo-2"]
    # as sagemaker-core's LogStreamHandler reads: from the head, until a page is empty
    messages, token = [], None
    while True:
        page = logs.get_log_events(
            logGroupName=group,
            logStreamName=names[0],
            startFromHead=True,
            **({"nextToken": token} if token else {}),
        )
        messages += [event["message"] for event in page["events"]]
        if not page["events"]:
            assert page["nextForwardToken"] == token  # the same token until new lines come
            break
        token = page["nextForwardToken"]
    assert "line one" in messages and "done" in messages
    assert not any("hunter2-secret" in message for message in messages)  # masked
    assert all(isinstance(e["timestamp"], int) for e in page["events"] or [{"timestamp": 0}])
    newest = logs.get_log_events(logGroupName=group, logStreamName=names[1], limit=1)
    assert [e["message"] for e in newest["events"]] == ["done"]
    with pytest.raises(ClientError) as group_missing:
        logs.describe_log_streams(logGroupName="/aws/lambda/other")
    assert group_missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as stream_missing:
        logs.get_log_events(logGroupName=group, logStreamName="logged/algo-9-1")
    assert stream_missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_get_log_events_pages_a_long_log_by_position_and_reads_on_from_there(
    server: RunningServer,
) -> None:
    """Forward tokens are positions in the host's log (bytes read so far): a page starts
    where the last ended, 10,000 events at most; a backward token gives the page before."""
    client, logs = _client(server), _client(server, "logs")
    code = "print('\\n'.join(f'line-{i:05d}' for i in range(12000)))"
    client.create_training_job(**_request("long-log", code))
    assert _wait(client, "long-log")["TrainingJobStatus"] == "Completed"
    group = "/aws/sagemaker/TrainingJobs"
    (stream,) = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="long-log/")[
        "logStreams"
    ]
    name = stream["logStreamName"]

    def page(**kwargs: Any) -> dict[str, Any]:
        return dict(logs.get_log_events(logGroupName=group, logStreamName=name, **kwargs))

    first = page(startFromHead=True)
    numbered = [e["message"] for e in first["events"] if e["message"].startswith("line-")]
    assert len(first["events"]) == 10_000 and numbered[0] == "line-00000"
    second = page(nextToken=first["nextForwardToken"])
    assert "line-11999" in [e["message"] for e in second["events"]]
    assert second["nextBackwardToken"] == "b/" + first["nextForwardToken"][2:]
    end = page(nextToken=second["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == second["nextForwardToken"]
    assert int(end["nextForwardToken"][2:]) == stream["storedBytes"]  # the whole log, read
    before = page(nextToken=second["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == [e["message"] for e in first["events"]]
    small = page(startFromHead=True, limit=3)
    following = page(nextToken=small["nextForwardToken"], limit=3)
    assert [e["message"] for e in small["events"] + following["events"]] == [
        e["message"] for e in first["events"][:6]
    ]
    with pytest.raises(ClientError, match="is not one this server gave"):
        page(nextToken="f/x")


#: A trial in the training toolkit's contract: its hyperparameters come as --name value.
TRIAL = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
args, _ = parser.parse_known_args()
print(f"score={(args.x - 0.3) ** 2:.6f}")
"""


def test_a_tuning_job_from_boto3_runs_toolkit_trials_and_lists_them(
    server: RunningServer, tmp_path: Path
) -> None:
    import io
    import tarfile

    s3, client = _client(server, "s3"), _client(server)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = TRIAL.encode()
        info = tarfile.TarInfo("trial.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    s3.create_bucket(Bucket="tuning-code")
    s3.put_object(Bucket="tuning-code", Key="hpo/sourcedir.tar.gz", Body=archive.getvalue())
    definition = {
        "StaticHyperParameters": {
            "sagemaker_program": '"trial.py"',
            "sagemaker_submit_directory": '"s3://tuning-code/hpo/sourcedir.tar.gz"',
        },
        "AlgorithmSpecification": {
            "TrainingImage": "python:3.11",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "score", "Regex": "score=([0-9.]+)"}],
        },
        "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
        "OutputDataConfig": {"S3OutputPath": "s3://tuning-code/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    client.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="wire-tuning",
        HyperParameterTuningJobConfig={
            "Strategy": "Random",
            "RandomSeed": 3,
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "score"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]
            },
        },
        TrainingJobDefinition=definition,
    )
    deadline = time.time() + 120
    while True:
        described = client.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="wire-tuning"
        )
        if described["HyperParameterTuningJobStatus"] != "InProgress":
            break
        assert time.time() < deadline
        time.sleep(0.3)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 3
    best = described["BestTrainingJob"]
    trials = client.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="wire-tuning", SortBy="FinalObjectiveMetricValue"
    )["TrainingJobSummaries"]
    assert len(trials) == 3 and trials[0]["TrainingJobName"] == best["TrainingJobName"]
    values = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in trials]
    assert values == sorted(values)  # the best (lowest) first
    for trial in trials:
        x = float(trial["TunedHyperParameters"]["x"])
        assert trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
            (x - 0.3) ** 2, abs=1e-5
        )
    listed = client.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert [(t["HyperParameterTuningJobName"], t["Strategy"]) for t in listed] == [
        ("wire-tuning", "Random")
    ]
    with pytest.raises(ClientError) as missing:
        client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="none")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


def test_the_model_registry_reads_as_sagemakers(server: RunningServer) -> None:
    from sageyard.models.registry import ModelRegistry

    registry = ModelRegistry(Settings.from_env())
    registry.create_group("tuned-models", "fine-tuned SmolLM2")
    for run in ("run-a", "run-b"):
        registry.register(
            "tuned-models",
            {
                "model_artifact_uri": f"s3://models/{run}/model.tar.gz",
                "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
                "training_job_name": run,
                "final_metrics": {"train_loss": 0.5},
            },
        )
    client = _client(server)
    group = client.describe_model_package_group(ModelPackageGroupName="tuned-models")
    assert group["ModelPackageGroupDescription"] == "fine-tuned SmolLM2"
    assert group["ModelPackageGroupArn"].endswith(":model-package-group/tuned-models")
    groups = client.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == ["tuned-models"]
    packages = client.list_model_packages(
        ModelPackageGroupName="tuned-models", SortBy="CreationTime", SortOrder="Ascending"
    )["ModelPackageSummaryList"]
    assert [p["ModelPackageVersion"] for p in packages] == [1, 2]
    second = client.describe_model_package(ModelPackageName=packages[1]["ModelPackageArn"])
    assert second["ModelPackageGroupName"] == "tuned-models"
    assert second["ModelPackageVersion"] == 2
    # sageyard's own fields ride along, beside boto3's shape
    status, raw = _post(
        server,
        "SageMaker.DescribeModelPackage",
        json.dumps({"ModelPackageName": "tuned-models/2"}).encode(),
    )
    assert status == 200 and raw["Sageyard"]["TrainingJobName"] == "run-b"
    paged = client.list_model_packages(ModelPackageGroupName="tuned-models", MaxResults=1)
    assert len(paged["ModelPackageSummaryList"]) == 1 and paged["NextToken"]
    with pytest.raises(ClientError) as missing:
        client.describe_model_package_group(ModelPackageGroupName="none-such")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
