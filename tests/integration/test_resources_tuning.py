"""``HyperParameterTuningJob.create`` as a real SDK user writes it (snake_case dicts), on
the built-in XGBoost algorithm: a real tuning job whose trials are real training jobs; then
``get_all``'s filters and ``delete``, which keeps the trials, as on SageMaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from sageyard.core import image_uris
from sageyard.core.exceptions import ConfigurationError, ResourceNotFound
from sageyard.core.resources import HyperParameterTuningJob, TrainingJob
from sageyard.core.settings import Settings
from sageyard.tuning.resource import TUNING_JOB_FIELDS
from sageyard.tuning.service import TuningJobService
from tests.integration.test_resources_training import ROLE, channel, data  # noqa: F401

CONFIG = {
    "strategy": "Random",
    "hyper_parameter_tuning_job_objective": {
        "type": "Minimize",
        "metric_name": "validation:logloss",
    },
    "resource_limits": {"max_number_of_training_jobs": 2, "max_parallel_training_jobs": 2},
    "parameter_ranges": {
        "continuous_parameter_ranges": [
            {"name": "eta", "min_value": "0.1", "max_value": "0.5", "scaling_type": "Auto"}
        ]
    },
    "random_seed": 3,
}


@pytest.fixture(autouse=True)
def _slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEYARD_SLOTS", "4")


def test_a_tuning_job_made_with_create_then_listed_and_deleted(data: dict[str, str]) -> None:  # noqa: F811
    definition = {
        "static_hyper_parameters": {"objective": "binary:logistic", "num_round": "5"},
        "algorithm_specification": {
            "training_image": image_uris.retrieve("xgboost", "us-west-2", "1.7-1"),
            "training_input_mode": "File",
        },
        "role_arn": ROLE,
        "input_data_config": [channel(name, uri) for name, uri in data.items()],
        "output_data_config": {"s3_output_path": "s3://my-models/tuning"},
        "resource_config": {"instance_type": "ml.m5.xlarge", "instance_count": 1},
        "stopping_condition": {"max_runtime_in_seconds": 600},
    }
    before = datetime.now(UTC) - timedelta(seconds=1)
    job = HyperParameterTuningJob.create(
        hyper_parameter_tuning_job_name="xgb-tuning",
        hyper_parameter_tuning_job_config=CONFIG,
        training_job_definition=definition,
        tags=[{"key": "team", "value": "ml"}],
    )
    assert (job.get_name(), job.hyper_parameter_tuning_job_status) == ("xgb-tuning", "InProgress")
    with pytest.raises(ClientError) as busy:
        job.delete()
    assert busy.value.response["Error"]["Code"] == "ResourceInUse"
    job.wait(timeout=120)

    assert job.hyper_parameter_tuning_job_status == "Completed", job.failure_reason
    config = job.hyper_parameter_tuning_job_config
    assert config.resource_limits.max_number_of_training_jobs == 2
    assert job.training_job_status_counters.completed == 2
    best = job.best_training_job
    assert best.final_hyper_parameter_tuning_job_objective_metric.value < 0.3
    trials = [s["TrainingJobName"] for s in job.get_all_training_jobs()]
    assert best.training_job_name in trials and len(trials) == 2
    for field in TUNING_JOB_FIELDS:
        getattr(job, field)  # every field of the real resource answers

    names = lambda jobs: [j.hyper_parameter_tuning_job_name for j in jobs]  # noqa: E731
    assert names(HyperParameterTuningJob.get_all(name_contains="xgb")) == ["xgb-tuning"]
    assert names(HyperParameterTuningJob.get_all(status_equals="Completed")) == ["xgb-tuning"]
    assert names(HyperParameterTuningJob.get_all(status_equals="Failed")) == []
    assert names(HyperParameterTuningJob.get_all(creation_time_after=before)) == ["xgb-tuning"]
    assert names(HyperParameterTuningJob.get_all(creation_time_before=before)) == []
    modified = job.last_modified_time
    assert names(HyperParameterTuningJob.get_all(last_modified_time_after=modified)) == []
    later = modified + timedelta(seconds=1)
    assert names(HyperParameterTuningJob.get_all(last_modified_time_before=later)) == ["xgb-tuning"]
    assert names(HyperParameterTuningJob.get_all(sort_by="Name", sort_order="Ascending")) == [
        "xgb-tuning"
    ]
    with pytest.raises(ConfigurationError, match="status_equals must be one of"):
        HyperParameterTuningJob.get_all(status_equals="Done")

    job.delete()
    job.wait_for_delete(poll=0.05, timeout=5)
    with pytest.raises(ResourceNotFound):
        HyperParameterTuningJob.get("xgb-tuning")
    settings = Settings.from_env()
    assert not (settings.jobs_dir / "xgb-tuning").exists()
    service = TuningJobService(settings)
    assert service.store.events("xgb-tuning") == []  # its search journal went with it
    for trial in trials:  # its trials stay, as training jobs of their own
        assert TrainingJob.get(trial).training_job_status == "Completed"
        record = service.store.get(trial)
        assert record is not None and record.parent is None


def test_keyword_construction_and_refused_fields() -> None:
    job = HyperParameterTuningJob(
        hyper_parameter_tuning_job_name="t",
        hyper_parameter_tuning_job_status="Completed",
        best_training_job={"training_job_name": "t-1"},
    )
    assert job.hyper_parameter_tuning_job_status == "Completed"
    assert job.best_training_job.training_job_name == "t-1"
    assert job.failure_reason is None and job.autotune is None
    with pytest.raises(ConfigurationError, match="no field"):
        HyperParameterTuningJob(hyper_parameter_tuning_job_name="t", status="Completed")
    with pytest.raises(ResourceNotFound):
        job.refresh()
