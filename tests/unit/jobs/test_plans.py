"""A validated job cut into host plans: one per host, each with the job's settings."""

from __future__ import annotations

from pathlib import Path

from sageyard.core.settings import Settings
from sageyard.jobs.plans import host_plans
from sageyard.jobs.request import validate_training_job
from sageyard.storage import ObjectStore


def test_each_host_of_each_group_gets_a_plan(
    tmp_path: Path, settings: Settings, objects: ObjectStore
) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    objects.put_file(tmp_path / "train.py", "s3://bucket/data/train.py")
    request = {
        "TrainingJobName": "job",
        "AlgorithmSpecification": {"TrainingImage": "pytorch-training:2.0-cpu-py310"},
        "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "ResourceConfig": {
            "InstanceGroups": [
                {"InstanceGroupName": "a", "InstanceType": "ml.m5.large", "InstanceCount": 2},
                {"InstanceGroupName": "b", "InstanceType": "ml.c5.xlarge", "InstanceCount": 1},
            ],
            "VolumeSizeInGB": 30,
        },
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://bucket/data",
                        "InstanceGroupNames": ["b"],
                    }
                },
            }
        ],
        "CheckpointConfig": {"S3Uri": "s3://bucket/ckpt"},
        "TensorBoardOutputConfig": {"S3OutputPath": "s3://bucket/tb"},
        "HyperParameters": {"epochs": "2"},
        "Sageyard": {"SourceCode": {"SourceDir": str(tmp_path), "EntryScript": "train.py"}},
    }
    spec = validate_training_job(request, settings, objects).spec
    plans = host_plans(spec)
    assert [(p.host, p.group.name, p.instance_type) for p in plans] == [
        ("algo-1", "a", "ml.m5.large"),
        ("algo-2", "a", "ml.m5.large"),
        ("algo-3", "b", "ml.c5.xlarge"),
    ]
    first = plans[0]
    assert first.hosts == ("algo-1", "algo-2", "algo-3")
    assert (first.entry_script, first.hyperparameters) == ("train.py", {"epochs": "2"})
    assert [c.name for c in plans[0].host_channels()] == []
    assert [c.name for c in plans[2].host_channels()] == ["train"]
    assert (first.checkpoint_uri, first.checkpoint_path) == (
        "s3://bucket/ckpt",
        "/opt/ml/checkpoints",
    )
    assert first.tensorboard_uri == "s3://bucket/tb/job/tensorboard-output"
    assert first.training_image == "pytorch-training:2.0-cpu-py310"  # the executor may run it
