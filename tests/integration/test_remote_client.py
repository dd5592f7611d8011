"""sageyard's own facade and CLI through a ``sageyard server`` (``Session(endpoint_url=...)``,
``SAGEYARD_ENDPOINT_URL``): a ModelTrainer with local code and data trains on the server
and streams its logs; the job resource reads, lists, stops, updates and deletes over the
wire; a tuner tunes there; ``sageyard jobs``/``tuning`` list and read the server's jobs.

The caller's session has a home and job store of its own, so nothing here can pass by
reading the server's store directly: every job must be on the server, none in the caller's
store.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from sageyard.cli import main
from sageyard.core.exceptions import ConfigurationError, ResourceNotFound
from sageyard.core.parameter import ContinuousParameter
from sageyard.core.session import Session
from sageyard.core.settings import Settings
from sageyard.core.shapes import MetricDefinition
from sageyard.jobs.remote import RemoteTrainingJobs
from sageyard.jobs.resource import TrainingJob
from sageyard.jobs.service import TrainingJobService
from sageyard.store import open_store
from sageyard.train import ModelTrainer
from sageyard.train.configs import InputData, SourceCode
from sageyard.train.tuner import HyperparameterTuner
from sageyard.tuning.resource import HyperParameterTuningJob

pytest.importorskip("uvicorn")

SCRIPT = """
import json, os, sys, time
data = os.environ["SM_CHANNEL_TRAIN"]
print("CHANNEL", sorted(os.listdir(data)), open(os.path.join(data, "rows.txt")).read().strip())
x = float(json.loads(os.environ["SM_HPS"]).get("x", 0.5))
for step in range(3):
    print(f"loss={1.0 - x + 0.1 * (2 - step):.4f}", flush=True)
if os.environ.get("SLEEP"):
    time.sleep(float(os.environ["SLEEP"]))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write("remote")
"""
LOSS = [{"Name": "loss", "Regex": "loss=([0-9.]+)"}]


@pytest.fixture
def remote(server: Any, tmp_path: Path) -> Session:
    """A caller of the server, with a home and job store of its own (empty throughout)."""
    home = tmp_path / "caller"
    return Session(endpoint_url=server.url, home=home, store_url=f"sqlite:///{home / 'store.db'}")


@pytest.fixture
def trainer(remote: Session, tmp_path: Path) -> Callable[..., ModelTrainer]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(textwrap.dedent(SCRIPT))
    (code / "skip.log").write_text("ignored")

    def make(**kwargs: Any) -> ModelTrainer:
        trainer = ModelTrainer(
            training_image="python:3.11",
            source_code=SourceCode(
                source_dir=str(code), entry_script="train.py", ignore_patterns=["*.log"]
            ),
            sagemaker_session=remote,
            base_job_name="remote",
            **kwargs,
        )
        return trainer.with_metric_definitions(
            [MetricDefinition(name=d["Name"], regex=d["Regex"]) for d in LOSS]
        )

    return make


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "rows.txt").write_text("local rows\n")
    return folder


def caller_jobs(session: Session) -> list[Any]:
    """The jobs in the caller's own store (there must be none)."""
    path = session.settings.home / "store.db"
    if not path.exists():
        return []
    return open_store(session.settings.store_url).list("TrainingJob")


def server_jobs() -> TrainingJobService:
    return TrainingJobService(Settings.from_env())


def test_a_model_trainer_with_local_code_and_data_trains_on_the_server_and_streams_logs(
    trainer: Callable[..., ModelTrainer],
    data: Path,
    remote: Session,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model_trainer = trainer(hyperparameters={"x": 0.25})
    model_trainer.train(input_data_config=[InputData(channel_name="train", data_source=str(data))])
    out = capsys.readouterr().out
    job = model_trainer._latest_training_job
    assert job is not None and isinstance(job._service, RemoteTrainingJobs)
    assert job.training_job_status == "Completed"
    # the log lines streamed back through the server's CloudWatch Logs, statuses between
    assert "CHANNEL ['rows.txt'] local rows" in out
    assert "loss=0.9500" in out
    assert "Completed - Training job completed" in out
    # the job is the server's: code and data were uploaded to its S3 (the ignored file not)
    described = server_jobs().describe(job.training_job_name)
    (channel,) = described["InputDataConfig"]
    uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
    assert uri.startswith("s3://sagemaker-us-west-2-000000000000/sageyard-inputs/")
    code = server_jobs().get(job.training_job_name).document["spec"]["code_uri"]
    names = sorted(u.rsplit("/", 1)[1] for u in server_jobs().objects.list(code + "/"))
    assert names == ["train.py"]
    assert caller_jobs(remote) == []
    # the resource reads it over the wire: metrics from BatchGetMetrics, logs from streams
    again = TrainingJob.get(job.training_job_name, session=remote)
    assert [p.value for p in again.metrics("loss")] == [0.95, 0.85, 0.75]
    assert {m.metric_name for m in again.final_metric_data_list} == {"loss"}
    assert "loss=0.7500" in again.logs()
    assert again.model_artifacts is not None
    assert again.model_artifacts.s3_model_artifacts.endswith("/output/model.tar.gz")


def test_a_second_job_on_the_same_code_and_data_uploads_nothing_again(
    trainer: Callable[..., ModelTrainer], data: Path, remote: Session
) -> None:
    inputs = [InputData(channel_name="train", data_source=str(data))]
    first = trainer().train(input_data_config=inputs, logs=False)
    objects = server_jobs().objects
    before = objects.list("s3://sagemaker-us-west-2-000000000000/sageyard-inputs/")
    trainer().train(input_data_config=inputs, logs=False)
    assert objects.list("s3://sagemaker-us-west-2-000000000000/sageyard-inputs/") == before
    del first


def test_the_job_resource_lists_stops_updates_and_deletes_over_the_wire(
    trainer: Callable[..., ModelTrainer], data: Path, remote: Session
) -> None:
    inputs = [InputData(channel_name="train", data_source=str(data))]
    done = trainer().train(input_data_config=inputs, logs=False)
    del done
    running = trainer(environment={"SLEEP": "60"})
    running.train(input_data_config=inputs, wait=False)
    job = running._latest_training_job
    assert job is not None
    names = [
        j.training_job_name for j in TrainingJob.get_all(name_contains="remote", session=remote)
    ]
    assert job.training_job_name in names and len(names) == 2
    active = TrainingJob.get_all(status_equals="InProgress", session=remote)
    assert [j.training_job_name for j in active] == [job.training_job_name]
    with pytest.raises(ConfigurationError, match="Debugger profiling"):
        job.update(profiler_config={"S3OutputPath": "s3://b/p"})  # the server's own refusal
    job.stop()
    job.wait(timeout=60)  # Stopped is no failure
    assert job.refresh().training_job_status == "Stopped"
    job.delete()
    with pytest.raises(ResourceNotFound):
        TrainingJob.get(job.training_job_name, session=remote)
    assert caller_jobs(remote) == []


def test_errors_come_back_as_the_error_tree_and_a_bad_path_uploads_nothing(
    trainer: Callable[..., ModelTrainer], remote: Session, tmp_path: Path
) -> None:
    with pytest.raises(ResourceNotFound):
        TrainingJob.get("no-such-job", session=remote)
    missing = InputData(channel_name="train", data_source=str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="does not exist"):
        trainer().train(input_data_config=[missing])
    assert server_jobs().objects.list("s3://sagemaker-us-west-2-000000000000/") == []
    # the server's own checks reach the caller as the local service's ConfigurationError
    empty = InputData(channel_name="train", data_source="s3://nobody-s-bucket/nothing/")
    with pytest.raises(ConfigurationError, match="no data under s3://nobody-s-bucket"):
        trainer().train(input_data_config=[empty])
    with pytest.raises(ConfigurationError, match="not in source_dir"):
        ModelTrainer(
            training_image="python:3.11",
            source_code=SourceCode(source_dir=str(tmp_path / "code"), entry_script="x.py"),
            sagemaker_session=remote,
        ).train()
    unreachable = Session(endpoint_url="http://127.0.0.1:9", home=tmp_path / "other")
    with pytest.raises(ConfigurationError, match="cannot be reached"):
        TrainingJob.get("any", session=unreachable)


def test_a_dry_run_is_checked_by_the_server_and_creates_no_job(
    trainer: Callable[..., ModelTrainer], data: Path
) -> None:
    inputs = [InputData(channel_name="train", data_source=str(data))]
    trainer().train(input_data_config=inputs, dry_run=True)
    assert server_jobs().list_jobs() == []


def test_a_tuner_tunes_on_the_server(
    trainer: Callable[..., ModelTrainer], data: Path, remote: Session
) -> None:
    tuner = HyperparameterTuner(
        trainer(),
        objective_metric_name="loss",
        objective_type="Minimize",
        hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0)},
        metric_definitions=LOSS,
        strategy="Random",
        max_jobs=2,
        max_parallel_jobs=2,
        random_seed=3,
    )
    tuner.tune(inputs=[InputData(channel_name="train", data_source=str(data))], wait=True)
    name = tuner.latest_tuning_job.name
    job = HyperParameterTuningJob.get(name, session=remote)
    assert job.hyper_parameter_tuning_job_status == "Completed"
    assert len(job.get_all_training_jobs()) == 2
    best = tuner.best_training_job()
    frame = tuner.analytics().dataframe()
    assert best == frame.sort_values("FinalObjectiveValue")["TrainingJobName"].iloc[0]
    assert [j.name for j in HyperParameterTuningJob.get_all(session=remote)] == [name]
    assert (
        open_store(remote.settings.store_url).list("HyperParameterTuningJob") == []
        or not (remote.settings.home / "store.db").exists()
    )


def test_the_cli_reads_the_servers_jobs_with_sageyard_endpoint_url(
    trainer: Callable[..., ModelTrainer], data: Path, server: Any, tmp_path: Path
) -> None:
    model_trainer = trainer()
    model_trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=str(data))], logs=False
    )
    job = model_trainer._latest_training_job
    assert job is not None
    name = job.training_job_name
    env = {
        "SAGEYARD_ENDPOINT_URL": server.url,
        "SAGEYARD_HOME": str(tmp_path / "cli-home"),
        "SAGEYARD_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "COLUMNS": "200",
    }
    runner = CliRunner()
    listed = runner.invoke(main, ["jobs", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert name in listed.output and "Completed" in listed.output and "loss=0.5" in listed.output
    described = runner.invoke(main, ["jobs", "describe", name, "--json"], env=env)
    assert json.loads(described.output)["TrainingJobName"] == name
    logs = runner.invoke(main, ["jobs", "logs", name], env=env)
    assert "loss=0.5000" in logs.output
    stopped = runner.invoke(main, ["jobs", "stop", name], env=env)
    assert stopped.exit_code != 0 and "only an InProgress job" in stopped.output
    tuning = runner.invoke(main, ["tuning", "list"], env=env)
    assert tuning.exit_code == 0 and "No tuning jobs found" in tuning.output
    assert not (tmp_path / "cli.db").exists()


def test_wait_with_logs_prefixes_each_host_of_a_two_host_job(
    trainer: Callable[..., ModelTrainer], data: Path
) -> None:
    model_trainer = trainer(compute={"instance_type": "ml.m5.large", "instance_count": 2})
    model_trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=str(data))], logs=False
    )
    job = model_trainer._latest_training_job
    assert job is not None
    out = io.StringIO()
    job.wait(logs=True, out=out)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("[algo-1] loss=") for line in lines)
    assert any(line.startswith("[algo-2] loss=") for line in lines)


def test_a_server_that_checks_signatures_takes_its_credentials_and_says_when_they_are_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from sageyard.server import RunningServer

    with RunningServer(Settings.from_env(), credentials={"AKIDREMOTE": "s3cret"}) as signed:
        caller = Session(endpoint_url=signed.url, home=tmp_path / "caller")
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        with pytest.raises(ConfigurationError, match="no AWS credentials to sign with"):
            TrainingJob.get("any", session=caller)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDREMOTE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
        with pytest.raises(ClientError, match="InvalidSignatureException"):
            TrainingJob.get("any", session=Session(endpoint_url=signed.url, home=tmp_path / "c2"))
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cret")
        with pytest.raises(ResourceNotFound):
            TrainingJob.get("any", session=Session(endpoint_url=signed.url, home=tmp_path / "c3"))


def test_the_servers_model_packages_are_read_by_the_facade_and_the_cli(
    server: Any, remote: Session, tmp_path: Path
) -> None:
    from sageyard.jobs.remote import registry_for
    from sageyard.models.registry import ModelRegistry

    here = ModelRegistry(Settings.from_env())  # the server's registry
    here.create_group("tuned", "fine-tuned")
    for run in ("run-a", "run-b"):
        here.register(
            "tuned",
            {
                "model_artifact_uri": f"s3://models/{run}/model.tar.gz",
                "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
                "training_job_name": run,
                "final_metrics": {"train:loss": 0.5},
            },
        )
    registry = registry_for(remote.settings)
    package = registry.find_package("tuned/2")
    assert package is not None and package == here.get_package("tuned/2")
    latest = registry.find_package("tuned")
    assert latest is not None and latest.training_job_name == "run-b"
    assert registry.find_package("tuned/9") is None
    assert [p.model_package_version for p in registry.list_packages("tuned")] == [1, 2]
    env = {
        "SAGEYARD_ENDPOINT_URL": server.url,
        "SAGEYARD_HOME": str(tmp_path / "cli-home"),
        "SAGEYARD_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    listed = CliRunner().invoke(main, ["models", "packages", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["model_package_version"], r["training_job_name"]) for r in rows] == [
        (1, "run-a"),
        (2, "run-b"),
    ]


def test_an_evaluation_runs_on_the_server_and_its_results_read_back(
    server: Any, remote: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("lm_eval")
    from sageyard.evaluation.service import EvaluationService
    from sageyard.train import (
        CustomScorerEvaluator,
        EvaluationPipelineExecution,
        get_builtin_metrics,
    )
    from sageyard.train.evaluate import results_dataframe
    from tests.evaluation_fixtures import scripted_model

    rows = [{"query": "What is 2+3?", "response": "5"}, {"query": "What is 7*6?", "response": "42"}]
    dataset = tmp_path / "math.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    model = scripted_model(tmp_path / "model", {"2+3": "\\boxed{5}"}, default="\\boxed{0}")
    evaluator = CustomScorerEvaluator(
        evaluator=get_builtin_metrics().PRIME_MATH,
        dataset=str(dataset),
        model=str(model),
        s3_output_path="s3://bucket/evals/",
        sagemaker_session=remote,
    )
    assert evaluator.evaluate(dry_run=True) is None  # checked by the server, nothing started
    assert EvaluationService(Settings.from_env()).list_names() == []
    execution = evaluator.evaluate()
    assert execution is not None
    execution.wait(poll=1, timeout=240)
    assert execution.status.overall_status == "Succeeded"
    # the evaluation is the server's: its steps' model and data came through its S3
    (on_server,) = EvaluationService(Settings.from_env()).list_names()
    assert execution.arn is not None and execution.arn.endswith(on_server)
    [(_, scored)] = execution.step_results().items()
    assert scored.metrics["prime_math"] == pytest.approx(1 / 2)
    execution.show_results()
    assert "prime_math" in capsys.readouterr().out
    frame = results_dataframe(session=remote)
    assert set(frame["evaluation"]) == {on_server}
    again = EvaluationPipelineExecution.get(execution.arn, session=remote)
    assert again.status.overall_status == "Succeeded"
    assert [e.arn for e in EvaluationPipelineExecution.get_all(session=remote)] == [execution.arn]
    env = {
        "SAGEYARD_ENDPOINT_URL": server.url,
        "SAGEYARD_HOME": str(tmp_path / "cli-home"),
        "SAGEYARD_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    runner = CliRunner()
    listed = runner.invoke(main, ["evaluations", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert [e["PipelineExecutionArn"] for e in json.loads(listed.output)["Evaluations"]] == [
        execution.arn
    ]
    results = runner.invoke(main, ["evaluations", "results", on_server, "--json"], env=env)
    assert {row["metric"] for row in json.loads(results.output)} >= {"prime_math"}
    stopped = runner.invoke(main, ["evaluations", "stop", on_server], env=env)
    assert stopped.exit_code != 0 and "only an Executing evaluation" in stopped.output
    assert (
        open_store(remote.settings.store_url).list("EvaluationExecution") == []
        or not (remote.settings.home / "store.db").exists()
    )
