"""``TrainingJob.create`` as a real SDK user writes it: the built-in XGBoost algorithm by its
image URI, its fields as snake_case dicts (or shapes), real jobs on breast cancer data in
the object store; then ``delete`` and a new job of the same name."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError

from sageyard.core import image_uris
from sageyard.core.exceptions import ResourceNotFound
from sageyard.core.resources import TrainingJob
from sageyard.core.settings import Settings
from sageyard.core.shapes import OutputDataConfig, StoppingCondition
from sageyard.storage import object_store_for
from tests.integration.conftest import tar_members

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
BUCKET = "s3://my-data/cancer"


@pytest.fixture
def data(tmp_path: Path) -> dict[str, str]:
    """train (first 400 rows) and validation (the rest) as CSV, label first, in S3."""
    from sklearn.datasets import load_breast_cancer

    features, labels = load_breast_cancer(return_X_y=True)
    objects = object_store_for(Settings.from_env())
    uris = {}
    for channel, rows in (("train", slice(0, 400)), ("validation", slice(400, None))):
        path = tmp_path / f"{channel}.csv"
        np.savetxt(path, np.column_stack([labels[rows], features[rows]]), delimiter=",")
        objects.put_file(path, f"{BUCKET}/{channel}/data.csv")
        uris[channel] = f"{BUCKET}/{channel}/"
    return uris


def channel(name: str, uri: str) -> dict[str, object]:
    return {
        "channel_name": name,
        "content_type": "text/csv",
        "data_source": {
            "s3_data_source": {
                "s3_data_type": "S3Prefix",
                "s3_uri": uri,
                "s3_data_distribution_type": "FullyReplicated",
            }
        },
    }


def test_xgboost_by_image_uri_runs_through_create_and_delete_frees_its_name(
    data: dict[str, str], tmp_path: Path
) -> None:
    image = image_uris.retrieve("xgboost", "us-west-2", "1.7-1")
    job = TrainingJob.create(
        training_job_name="xgb-cancer",
        role_arn=ROLE,
        algorithm_specification={"training_image": image, "training_input_mode": "File"},
        input_data_config=[channel(n, uri) for n, uri in data.items()],
        output_data_config={"s3_output_path": "s3://my-models/xgb"},
        resource_config={"instance_type": "ml.m5.xlarge", "instance_count": 1},
        stopping_condition={"max_runtime_in_seconds": 600},
        hyper_parameters={"objective": "binary:logistic", "num_round": "10", "max_depth": "3"},
        environment={"my_var": "1"},
        tags=[{"key": "team", "value": "ml"}],
    )
    assert job.training_job_status == "InProgress"
    with pytest.raises(ClientError) as busy:
        job.delete()
    assert busy.value.response["Error"]["Code"] == "ResourceInUse"
    job.wait(timeout=120)

    assert job.training_job_status == "Completed", job.failure_reason
    assert job.hyper_parameters == {
        "objective": "binary:logistic",
        "num_round": "10",
        "max_depth": "3",
    }
    assert job.environment == {"my_var": "1"}  # type: ignore[attr-defined]
    assert job.input_data_config[1].data_source.s3_data_source.s3_uri == data["validation"]  # type: ignore[attr-defined]
    final = {m.metric_name: m.value for m in job.final_metric_data_list}
    assert final["validation:logloss"] < 0.3, final
    assert job.model_artifacts is not None
    artifact = job.model_artifacts.s3_model_artifacts
    assert artifact.startswith("s3://my-models/xgb/xgb-cancer/output/")
    import xgboost

    (tmp_path / "xgboost-model").write_bytes(tar_members(artifact, tmp_path)["xgboost-model"])
    with warnings.catch_warnings():  # XGBoost warns that the name has no format suffix
        warnings.simplefilter("ignore", UserWarning)
        booster = xgboost.Booster(model_file=str(tmp_path / "xgboost-model"))
    assert booster.num_boosted_rounds() == 10

    job.delete()
    job.wait_for_delete(poll=0.05, timeout=5)
    with pytest.raises(ResourceNotFound):
        TrainingJob.get("xgb-cancer")
    assert object_store_for(Settings.from_env()).exists(artifact)  # its output stays
    assert not (Settings.from_env().jobs_dir / "xgb-cancer").exists()  # its logs do not

    # the name is free again; shapes and PascalCase dicts are arguments too
    again = TrainingJob.create(
        "xgb-cancer",
        ROLE,
        OutputDataConfig(s3_output_path="s3://my-models/xgb"),
        hyper_parameters={"objective": "binary:logistic", "num_round": "2"},
        algorithm_specification={"TrainingImage": image},
        input_data_config=[channel("train", data["train"])],
        stopping_condition=StoppingCondition(max_runtime_in_seconds=600),
    )
    again.wait(timeout=120)
    assert again.training_job_status == "Completed", again.failure_reason
    assert [t.status for t in again.secondary_status_transitions].count("Starting") == 1
    assert {m.metric_name for m in again.final_metric_data_list} == {"train:logloss"}
    assert [j.training_job_name for j in TrainingJob.get_all()] == ["xgb-cancer"]
