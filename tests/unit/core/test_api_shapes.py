"""Every other shape of the SageMaker API, built on first use from botocore's service model.

The real SDK is not installed here: what it has is recorded under ``data/``
(``real_shape_names.txt``: every class of its ``sagemaker.core.shapes``;
``real_shape_fields.txt``: the fields of some of them).
"""

from __future__ import annotations

import copy
import datetime
import json
import pickle
import subprocess
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import sageyard.core.shapes as shapes
from sageyard.core.exceptions import ConfigurationError
from sageyard.core.shapes import Shape, _api, api_name, from_request, to_request

DATA = Path(__file__).parent / "data"

#: Classes of the real ``sagemaker.core.shapes`` that sageyard does not offer, and why.
#: The model card's content schema (``sagemaker.core.shapes.model_card_shapes``): not API
#: shapes (sageyard has no model cards). Its ``InferenceSpecification`` shadows the API's in
#: the real module; here that name is the API shape (the one ``ModelPackage`` nests).
MODEL_CARD = frozenset(
    {
        "AdditionalInformation",
        "BarChartMetric",
        "BusinessDetails",
        "ContainersItem",
        "EvaluationDetailsItem",
        "Function",
        "IntendedUses",
        "LinearGraphMetric",
        "MatrixMetric",
        "MetricGroupsItem",
        "ModelCardContent",
        "ModelOverview",
        "ObjectiveFunction",
        "RiskRating",
        "SimpleMetric",
        "TrainingDetails",
        "TrainingEnvironment",
        "TrainingHyperParameter",
        "TrainingJobDetails",
        "TrainingMetric",
    }
)
#: Shapes of other services the real generator merges in: SageMaker Runtime (invoking
#: endpoints: sageyard does not serve), Feature Store Runtime (no feature store) and
#: SageMaker Metrics. sageyard builds from the ``sagemaker`` service model alone.
OTHER_SERVICES = frozenset(
    {
        "AccessForbidden",
        "BatchGetMetricsResponse",
        "BatchGetRecordError",
        "BatchGetRecordIdentifier",
        "BatchGetRecordResponse",
        "BatchGetRecordResultDetail",
        "BatchPutMetricsError",
        "BatchWriteRecordEntry",
        "BatchWriteRecordError",
        "BatchWriteRecordResponse",
        "FeatureValue",
        "GetRecordResponse",
        "InternalDependencyException",
        "InternalFailure",
        "InternalStreamFailure",
        "InvokeEndpointAsyncOutput",
        "InvokeEndpointOutput",
        "InvokeEndpointWithResponseStreamOutput",
        "ListRecordsResponse",
        "MetricQuery",
        "MetricQueryResult",
        "ModelError",
        "ModelNotReadyException",
        "ModelStreamError",
        "PayloadPart",
        "RawMetricData",
        "ResponseStream",
        "ServiceUnavailable",
        "ValidationError",
    }
)
EXCLUDED = MODEL_CARD | OTHER_SERVICES


def _real_names() -> list[str]:
    lines = (DATA / "real_shape_names.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def _real_fields() -> dict[str, list[tuple[str, bool]]]:
    recorded = {}
    for line in (DATA / "real_shape_fields.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, fields = line.partition(": ")
            recorded[name] = [(f.rstrip("*"), f.endswith("*")) for f in fields.split()]
    return recorded


def _hand_written(name: str) -> bool:
    return name in shapes.__all__


# -- which names there are --------------------------------------------------------------------


def test_the_recorded_lists_are_whole() -> None:
    names = _real_names()
    assert len(names) == len(set(names)) > 850
    assert set(names) >= EXCLUDED, sorted(EXCLUDED - set(names))
    assert not EXCLUDED & set(shapes.__all__)


def test_every_real_shape_is_importable_except_the_documented_ones() -> None:
    missing = []
    for name in _real_names():
        if name in EXCLUDED:
            continue
        value = getattr(shapes, name, None)
        if not (isinstance(value, type) and issubclass(value, BaseModel)):
            missing.append(name)
    import botocore

    # recorded with botocore 1.44.8: an older botocore may lack the newest shapes
    assert not missing, (missing, f"botocore {botocore.__version__}")


def test_the_examples_import_as_statements() -> None:
    namespace: dict[str, Any] = {}
    exec(
        "from sageyard.core.shapes import AlgorithmSpecification, ResourceConfig, VpcConfig, "
        "HyperParameterTuningJobConfig, ParameterRanges, ModelPackageConfig, "
        "InferenceSpecification",
        namespace,
    )
    assert namespace["VpcConfig"] is shapes.VpcConfig


def test_every_structure_of_the_api_is_offered() -> None:
    structures = {
        name for name, shape in _api.service_shapes().items() if shape["type"] == "structure"
    }
    assert _api.names() == structures - {"BaseModel"}
    assert {"CreateTrainingJobRequest", "DescribeTrainingJobResponse"} <= _api.names()


def test_dir_lists_the_hand_written_and_the_built_names() -> None:
    listed = dir(shapes)
    assert listed == sorted(listed)
    assert set(shapes.__all__) <= set(listed)
    assert _api.names() <= set(listed)
    assert "BaseModel" not in listed  # the API shape of that name would shadow pydantic's


@pytest.mark.parametrize(
    "name", ["NoSuchShape", "TrainingInstanceType", "TrainingInstanceTypes", "BaseModel"]
)
def test_names_the_api_does_not_offer_raise_attribute_error(name: str) -> None:
    # TrainingInstanceType is a string shape and TrainingInstanceTypes a list: not classes
    with pytest.raises(AttributeError, match=name):
        getattr(shapes, name)
    with pytest.raises(ImportError, match=name):
        exec(f"from sageyard.core.shapes import {name}", {})
    assert not hasattr(shapes, "lower_case_name")


PROBE = """
import json, sys
import sageyard.core.shapes as shapes
from sageyard.core.shapes import Channel, Compute
found = {n: hasattr(shapes, n) for n in ("__wrapped__", "_private", "lower", "__path__")}
before = "sageyard.core.shapes._api" in sys.modules
from sageyard.core.shapes import VpcConfig
print(json.dumps({"found": found, "before": before, "class": VpcConfig.__name__,
                  "after": "sageyard.core.shapes._api" in sys.modules}))
"""


def test_importing_the_shapes_does_not_load_the_service_model() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "found": {"__wrapped__": False, "_private": False, "lower": False, "__path__": True},
        "before": False,  # neither the hand-written names nor other lookups load it
        "class": "VpcConfig",
        "after": True,
    }


# -- how a structure becomes a class ----------------------------------------------------------


def test_fields_match_the_real_sdk() -> None:
    recorded = _real_fields()
    assert len(recorded) >= 25
    for name, real in recorded.items():
        cls = getattr(shapes, name)
        ours = [(field, info.is_required()) for field, info in cls.model_fields.items()]
        if _hand_written(name):  # sageyard's own: every real field, its own defaults
            assert {f for f, _ in real} <= {f for f, _ in ours}, name
        else:  # the same names, order and required ones (a newer botocore may add some)
            known = {f for f, _ in real}
            assert [item for item in ours if item[0] in known] == real, name


@pytest.mark.parametrize(
    ("member", "field"),
    [
        ("S3Uri", "s3_uri"),
        ("KmsKeyId", "kms_key_id"),
        ("VolumeSizeInGB", "volume_size_in_gb"),
        ("VpcConfig", "vpc_config"),
        ("AutoMLJobName", "auto_ml_job_name"),
        ("EnableSageMakerMetricsTimeSeries", "enable_sage_maker_metrics_time_series"),
        ("MLflowConfig", "m_lflow_config"),  # the real SDK's snake-casing, kept exactly
        ("Lambda", "lambda_"),
        ("ModelConfig", "model_config_"),
    ],
)
def test_member_names_become_the_real_field_names(member: str, field: str) -> None:
    assert _api.field_name(member) == field


def test_the_api_spelling_is_kept_where_pascal_case_would_differ() -> None:
    summary = shapes.AutoMLJobSummary
    assert api_name(summary, "auto_ml_job_name") == "AutoMLJobName"
    step = shapes.PipelineExecutionStepMetadata
    assert "lambda_" in step.model_fields
    assert step(lambda_={"Arn": "arn:l"}).to_request() == {"Lambda": {"Arn": "arn:l"}}
    assert from_request(step, {"Lambda": {"Arn": "arn:l"}}, "Metadata").lambda_ is not None


def test_required_members_are_required_and_the_others_none() -> None:
    with pytest.raises(ValidationError, match="subnets"):
        shapes.VpcConfig(security_group_ids=["sg-1"])
    resources = shapes.ResourceConfig()
    assert all(value is None for _, value in resources)
    # the service leaves it out of some responses (the real SDK's override)
    assert not shapes.S3ModelDataSource.model_fields["s3_uri"].is_required()


def _args(cls: type[BaseModel], field: str) -> tuple[Any, ...]:
    annotation = cls.model_fields[field].annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation, *typing.get_args(annotation))


def test_members_are_typed() -> None:
    assert _args(shapes.ResourceConfig, "instance_groups") == (
        list[shapes.InstanceGroup],
        shapes.InstanceGroup,
    )
    assert _args(shapes.ResourceConfig, "instance_count")[0] is int
    assert _args(shapes.HyperParameterTuningJobConfig, "resource_limits")[0] is (
        shapes.ResourceLimits
    )
    assert _args(shapes.ModelPackageContainerDefinition, "environment") == (
        dict[str, str],
        str,
        str,
    )
    assert _args(shapes.TrainingJob, "creation_time")[0] is datetime.datetime
    assert _args(shapes.ContinuousParameterRange, "scaling_type")[0] is str  # an enum
    with pytest.raises(ValidationError):
        shapes.VpcConfig(security_group_ids="sg-1", subnets=["subnet-1"])
    with pytest.raises(ValidationError):
        shapes.ResourceConfig(instance_count="many")
    with pytest.raises(ValidationError, match="no_such_field"):
        shapes.ResourceConfig(no_such_field=1)


def test_recursive_shapes_nest_themselves() -> None:
    search = shapes.SearchExpression
    request = {"SubExpressions": [{"SubExpressions": [{"Operator": "And"}]}], "Operator": "Or"}
    parsed = from_request(search, request, "SearchExpression")
    assert isinstance(parsed.sub_expressions[0].sub_expressions[0], search)
    assert parsed.to_request() == request


def test_built_classes_are_cached_shapes_that_pickle() -> None:
    vpc = shapes.VpcConfig
    assert vpc is shapes.VpcConfig and issubclass(vpc, Shape)
    assert vpc.__module__ == "sageyard.core.shapes" and "SageMaker API" in (vpc.__doc__ or "")
    value = vpc(security_group_ids=["sg-1"], subnets=["subnet-1"])
    assert pickle.loads(pickle.dumps(value)) == value
    with pytest.raises(ValidationError):
        value.subnets = "subnet-1"  # assignments are validated


def test_hand_written_shapes_take_precedence_where_the_api_nests_them() -> None:
    assert shapes.Channel.__module__ == "sageyard.core.shapes._training"
    definition = shapes.HyperParameterTrainingJobDefinition
    assert _args(definition, "input_data_config")[1] is shapes.Channel
    channel = {"ChannelName": "code", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/k"}}}
    with pytest.raises(ConfigurationError, match="reserved"):  # sageyard's own rule
        from_request(
            definition,
            {**_sample("HyperParameterTrainingJobDefinition"), "InputDataConfig": [channel]},
            "TrainingJobDefinition",
        )


def test_hand_written_shapes_with_api_names_take_every_member() -> None:
    for name in shapes.__all__:
        if name not in _api.names():
            continue
        members = _api.service_shapes()[name]["members"]
        fields = getattr(shapes, name).model_fields
        assert {_api.field_name(m) for m in members} <= set(fields), name
        assert {api_name(getattr(shapes, name), _api.field_name(m)) for m in members} == set(
            members
        ), name


# -- round trips through the API's spelling --------------------------------------------------

#: Valid requests for the hand-written shapes (their rules: S3 URIs, instance types, ...),
#: each with its defaults spelled out so that it renders back the same.
HAND_WRITTEN_SAMPLES: dict[str, dict[str, Any]] = {
    "S3DataSource": {
        "S3Uri": "s3://bucket/prefix",
        "S3DataType": "S3Prefix",
        "S3DataDistributionType": "FullyReplicated",
        "AttributeNames": ["a"],
        "InstanceGroupNames": ["g"],
        "ModelAccessConfig": {"AcceptEula": True},
        "HubAccessConfig": {"HubContentArn": "arn:hub"},
    },
    "FileSystemDataSource": {
        "FileSystemId": "fs-1",
        "FileSystemAccessMode": "ro",
        "FileSystemType": "EFS",
        "DirectoryPath": "/data",
    },
    "MetricDefinition": {"Name": "loss", "Regex": "loss=([0-9.]+)"},
    "StoppingCondition": {"MaxRuntimeInSeconds": 60, "MaxPendingTimeInSeconds": 60},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out", "KmsKeyId": "k"},
    "CheckpointConfig": {"S3Uri": "s3://bucket/ckpt", "LocalPath": "/opt/ml/checkpoints"},
    "TensorBoardOutputConfig": {
        "S3OutputPath": "s3://bucket/tb",
        "LocalPath": "/opt/ml/output/tensorboard",
    },
    "InstanceGroup": {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "InstanceGroupName": "g",
    },
    "InstancePreference": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1},
    "Tag": {"Key": "team", "Value": "ml"},
    "RetryStrategy": {"MaximumRetryAttempts": 2},
    "InfraCheckConfig": {"EnableInfraCheck": True},
    "RemoteDebugConfig": {"EnableRemoteDebug": False},
    "SessionChainingConfig": {"EnableSessionTagChaining": True},
    "TrainingRepositoryAuthConfig": {"TrainingRepositoryCredentialsProviderArn": "arn:p"},
    "TrainingImageConfig": {"TrainingRepositoryAccessMode": "Platform"},
    "ShuffleConfig": {"Seed": 7},
    "ModelAccessConfig": {"AcceptEula": True},
    "HubAccessConfig": {"HubContentArn": "arn:hub"},
    "DatasetSource": {
        "DatasetArn": "arn:aws:sagemaker:us-west-2:000000000000:hub-content/h/DataSet/d/1"
    },
    "PlacementSpecification": {"InstanceCount": 1, "UltraServerId": "u"},
    "InstancePlacementConfig": {"EnableMultipleJobs": True},
    "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9},
    "HyperParameterTuningJobStrategyConfig": {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}
    },
    "ParentHyperParameterTuningJob": {"HyperParameterTuningJobName": "parent"},
    "HyperParameterTuningJobWarmStartConfig": {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
        "WarmStartType": "TransferLearning",
    },
    "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3},
    "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"},
    "TuningJobCompletionCriteria": {"TargetObjectiveMetricValue": 0.9},
    "HyperParameterTuningInstanceConfig": {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    },
}
HAND_WRITTEN_SAMPLES["ModelPackageConfig"] = {
    "ModelPackageGroupArn": "arn:aws:sagemaker:us-west-2:000000000000:model-package-group/g",
    "SourceModelPackageArn": "arn:aws:sagemaker:us-west-2:000000000000:model-package/g/1",
}
HAND_WRITTEN_SAMPLES["DataSource"] = {"S3DataSource": HAND_WRITTEN_SAMPLES["S3DataSource"]}
HAND_WRITTEN_SAMPLES["Channel"] = {
    "ChannelName": "train",
    "DataSource": HAND_WRITTEN_SAMPLES["DataSource"],
    "ContentType": "text/csv",
    "InputMode": "File",
    "ShuffleConfig": {"Seed": 7},
}

_SCALAR_SAMPLES: dict[str, Any] = {
    "integer": 1,
    "long": 2,
    "boolean": True,
    "float": 1.5,
    "double": 2.5,
    "timestamp": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    "blob": b"bytes",
}


def _sample(name: str, depth: int = 0) -> Any:
    """A request for the API shape ``name``: every member down to depth 2, then the
    required ones (lists of one, maps of one key, the first value of an enum)."""
    shape = _api.service_shapes()[name]
    kind = shape["type"]
    if kind == "structure":
        if _hand_written(name):
            assert name in HAND_WRITTEN_SAMPLES, f"add a sample request for {name}"
            return copy.deepcopy(HAND_WRITTEN_SAMPLES[name])
        required = set(shape.get("required", []))
        return {
            member: _sample(ref["shape"], depth + 1)
            for member, ref in shape["members"].items()
            if depth < 2 or member in required
        }
    if kind == "list":
        return [_sample(shape["member"]["shape"], depth + 1)]
    if kind == "map":
        return {"key": _sample(shape["value"]["shape"], depth + 1)}
    if kind == "string":
        return shape["enum"][0] if "enum" in shape else "text"
    return _SCALAR_SAMPLES[kind]


def test_every_built_shape_round_trips_through_the_api_spelling() -> None:
    failures = []
    for name in sorted(_api.names()):
        if _hand_written(name):
            continue
        request = _sample(name)
        try:
            parsed = from_request(getattr(shapes, name), request, name)
        except ConfigurationError as error:
            failures.append(f"{name}: {error}")
            continue
        if to_request(parsed) != request:
            failures.append(f"{name}: renders {to_request(parsed)!r}")
    assert not failures, failures[:5]


def test_hand_written_samples_round_trip() -> None:
    for name, request in HAND_WRITTEN_SAMPLES.items():
        assert to_request(from_request(getattr(shapes, name), request, name)) == request, name


def test_a_request_shape_validates_a_boto3_style_request() -> None:
    request: Mapping[str, Any] = {
        "TrainingJobName": "job",
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "RoleArn": "arn:aws:iam::000000000000:role/r",
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }
    parsed = from_request(shapes.CreateTrainingJobRequest, request, "CreateTrainingJob")
    assert parsed.resource_config.instance_type == "ml.m5.xlarge"
    assert parsed.to_request() == request
    with pytest.raises(ConfigurationError, match="RoleArn"):
        from_request(
            shapes.CreateTrainingJobRequest,
            {k: v for k, v in request.items() if k != "RoleArn"},
            "CreateTrainingJob",
        )
