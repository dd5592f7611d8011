"""The real SageMaker SDK (``sagemaker==3.27.0``, in a virtualenv of its own: ``.venv-realsdk``,
made by ``scripts/test.sh``) against ``sageyard server``, configured by environment only
(``AWS_ENDPOINT_URL``, credentials, the SDK's own config file for the default bucket):
``ModelTrainer.train(wait=True, logs=True)`` with source code and a data channel,
``TrainingJob.get/get_all/stop``, and ``HyperparameterTuner.tune/wait/best_training_job/
analytics().dataframe()``. Each scenario is one script run by the real SDK's Python."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.server import RunningServer

pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[2]
REAL_SDK = Path(os.environ.get("SAGEYARD_TEST_REAL_SDK", ROOT / ".venv-realsdk")) / "bin" / "python"

pytestmark = pytest.mark.skipif(
    not REAL_SDK.exists(),
    reason=f"no real SDK virtualenv at {REAL_SDK.parent.parent}: scripts/test.sh makes it",
)

#: The training script: it shows what the real SDK's driver gave it, then leaves a model.
TRAIN = """
import json, os, sys
print("ARGV", json.dumps(sys.argv[1:]))
channel = os.environ["SM_CHANNEL_TRAIN"]
print("DATA", json.dumps(sorted(os.listdir(channel))))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as out:
    out.write("trained")
"""

#: A tuning trial: its score is (x - 0.3)^2.
TRIAL = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
args, _ = parser.parse_known_args()
print(f"score={(args.x - 0.3) ** 2:.6f}")
"""

PREAMBLE = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="LOG %(message)s")
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData, SourceCode
IMAGE = "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.5-cpu-py311"
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
def result(**values):
    print("RESULT " + json.dumps(values, default=str))
"""


def _run_sdk(server: RunningServer, tmp_path: Path, body: str, timeout: float = 300) -> Any:
    """Run ``body`` with the real SDK's Python, pointed at ``server`` by environment only;
    the values its ``result(...)`` printed, and its whole output."""
    config = tmp_path / "sagemaker-config.yaml"
    config.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n"
        "      TelemetryOptOut: true\n      Session:\n        DefaultS3Bucket: sageyard-real-sdk\n"
    )
    script = tmp_path / "scenario.py"
    script.write_text(textwrap.dedent(PREAMBLE) + textwrap.dedent(body))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": "real-sdk",
        "AWS_SECRET_ACCESS_KEY": "real-sdk-secret",
        "AWS_DEFAULT_REGION": "us-west-2",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }
    done = subprocess.run(
        [str(REAL_SDK), str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, output[-4000:]
    return json.loads(lines[-1][len("RESULT ") :]), output


def test_model_trainer_trains_with_source_code_and_a_channel_and_streams_its_logs(
    server: RunningServer, tmp_path: Path
) -> None:
    code, data = tmp_path / "code", tmp_path / "data"
    code.mkdir()
    data.mkdir()
    (code / "train.py").write_text(TRAIN)
    (data / "rows.csv").write_text("1,2\n")
    values, output = _run_sdk(
        server,
        tmp_path,
        f"""
        trainer = ModelTrainer(
            training_image=IMAGE,
            role=ROLE,
            source_code=SourceCode(source_dir={str(code)!r}, entry_script="train.py"),
            compute=Compute(instance_type="ml.m5.large", instance_count=1),
            hyperparameters={{"lr": 0.1, "epochs": 2}},
            base_job_name="real-sdk",
        )
        trainer.train(
            input_data_config=[InputData(channel_name="train", data_source={str(data)!r})],
            wait=True,
            logs=True,
        )
        job = trainer._latest_training_job
        from sagemaker.core.resources import TrainingJob
        again = TrainingJob.get(training_job_name=job.training_job_name)
        names = [j.training_job_name for j in TrainingJob.get_all()]
        result(
            name=job.training_job_name,
            status=again.training_job_status,
            secondary=again.secondary_status,
            model=again.model_artifacts.s3_model_artifacts,
            names=names,
        )
        """,
    )
    assert values["status"] == "Completed" and values["secondary"] == "Completed"
    assert values["names"] == [values["name"]]
    assert values["model"].startswith("s3://sageyard-real-sdk/")
    # wait(logs=True) streamed the script's lines from CloudWatch Logs, as on SageMaker
    assert 'ARGV ["--lr", "0.1", "--epochs", "2"]' in output
    assert 'DATA ["rows.csv"]' in output
    from sageyard.jobs.service import TrainingJobService

    described = TrainingJobService(Settings.from_env()).describe(values["name"])
    channels = [c["ChannelName"] for c in described["InputDataConfig"]]
    assert sorted(channels) == ["code", "sm_drivers", "train"]


def test_training_job_stop_stops_a_running_job(server: RunningServer, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    values, _ = _run_sdk(
        server,
        tmp_path,
        f"""
        import time
        from sagemaker.core.resources import TrainingJob
        trainer = ModelTrainer(
            training_image=IMAGE,
            role=ROLE,
            source_code=SourceCode(source_dir={str(code)!r}, entry_script="train.py"),
            compute=Compute(instance_type="ml.m5.large", instance_count=1),
        )
        trainer.train(wait=False)
        job = TrainingJob.get(training_job_name=trainer._latest_training_job.training_job_name)
        deadline = time.time() + 120
        while job.refresh().secondary_status != "Training":
            assert time.time() < deadline, job.secondary_status
            time.sleep(0.2)
        job.stop()
        job.wait(timeout=120)
        result(status=job.refresh().training_job_status)
        """,
    )
    assert values["status"] == "Stopped"


def test_the_tuner_tunes_waits_and_reads_its_results(server: RunningServer, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "trial.py").write_text(TRIAL)
    values, _ = _run_sdk(
        server,
        tmp_path,
        f"""
        from sagemaker.core.parameter import ContinuousParameter
        from sagemaker.train.tuner import HyperparameterTuner
        trainer = ModelTrainer(
            training_image=IMAGE,
            role=ROLE,
            source_code=SourceCode(source_dir={str(code)!r}, entry_script="trial.py"),
            compute=Compute(instance_type="ml.m5.large", instance_count=1),
            base_job_name="real-sdk-trial",
        )
        tuner = HyperparameterTuner(
            model_trainer=trainer,
            objective_metric_name="score",
            metric_definitions=[{{"Name": "score", "Regex": "score=([0-9.]+)"}}],
            hyperparameter_ranges={{"x": ContinuousParameter(0.0, 1.0)}},
            strategy="Random",
            objective_type="Minimize",
            max_jobs=3,
            max_parallel_jobs=2,
        )
        tuner.tune(wait=False)
        tuner.wait()
        frame = tuner.analytics().dataframe()
        result(
            best=tuner.best_training_job(),
            rows=frame[["TrainingJobName", "x", "FinalObjectiveValue"]].to_dict("records"),
        )
        """,
    )
    rows = values["rows"]
    assert len(rows) == 3
    for row in rows:
        assert row["FinalObjectiveValue"] == pytest.approx((float(row["x"]) - 0.3) ** 2, abs=1e-5)
    best = min(rows, key=lambda row: row["FinalObjectiveValue"])
    assert values["best"] == best["TrainingJobName"]
