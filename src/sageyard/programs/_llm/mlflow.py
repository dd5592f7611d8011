"""MLflow for the fine-tuning programs: parameters, step metrics and the model or adapter.

MLflow itself is imported only when a job names an experiment (``mlflow_experiment_name``);
a job that asks for it where it is not installed fails with how to install it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sageyard.programs._common import AlgorithmError
from sageyard.programs._llm.outputs import ADAPTER_FOLDER

if TYPE_CHECKING:
    from sageyard.programs._llm.request import MlflowSettings, Request

__all__ = ["MlflowRun", "log_model_artifacts", "mlflow_run"]

log = logging.getLogger(__name__)


class MlflowRun:
    """An MLflow run of a job: parameters, step metrics and the trained model as artifacts."""

    def __init__(self, settings: MlflowSettings) -> None:
        try:
            import mlflow
        except ImportError:
            raise AlgorithmError(
                f"ClientError: mlflow_experiment_name={settings.experiment_name!r} asks for "
                "MLflow logging, but mlflow is not installed where the job runs; install it "
                "with `pip install mlflow`."
            ) from None
        self._mlflow = mlflow
        if settings.tracking_uri:
            if settings.tracking_uri.startswith("file:"):
                # MLflow 3 refuses its file store unless asked; the user asked for it by name
                os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            mlflow.set_tracking_uri(settings.tracking_uri)
        if mlflow.get_experiment_by_name(settings.experiment_name) is None:
            # another job may make it meanwhile
            with suppress(mlflow.exceptions.MlflowException):
                mlflow.create_experiment(
                    settings.experiment_name,
                    artifact_location=_artifact_location(settings.tracking_uri),
                )
        mlflow.set_experiment(settings.experiment_name)
        self.run = mlflow.start_run(run_name=settings.run_name)
        log.info(
            "Logging to MLflow: experiment %r, run %s (%s)",
            settings.experiment_name,
            self.run.info.run_name,
            self.run.info.run_id,
        )

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._mlflow.log_params(
            {k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self._mlflow.log_metrics(dict(metrics), step=step)

    def log_artifacts(self, folder: Path, artifact_path: str) -> None:
        self._mlflow.log_artifacts(str(folder), artifact_path=artifact_path)

    def end(self, failed: bool = False) -> None:
        self._mlflow.end_run(status="FAILED" if failed else "FINISHED")

    def __enter__(self) -> MlflowRun:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        """Ends the run, FAILED when the block raised."""
        self.end(failed=kind is not None)


def _artifact_location(tracking_uri: str | None) -> str | None:
    """Artifacts of a SQLite store go beside its file (MLflow's default is the job's cwd)."""
    if not tracking_uri or not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    return (database.resolve().parent / "artifacts").as_uri()


@contextmanager
def mlflow_run(request: Request, enabled: bool = True) -> Iterator[MlflowRun | None]:
    """An MLflow run with the request's parameters when it asks for one, else None (also
    when not ``enabled``: a data-parallel job's other ranks, whose rank 0 logs the run)."""
    if request.mlflow is None or not enabled:
        yield None
        return
    with MlflowRun(request.mlflow) as run:
        run.log_params(
            {
                **request.options,
                "technique": request.technique,
                "training_type": request.training_type,
                "base_model": request.base_model or "",
            }
        )
        yield run


def log_model_artifacts(run: MlflowRun | None, model_dir: Path, request: Request) -> None:
    """The adapter (LoRA) or the whole model folder (full) as the run's artifacts."""
    if run is None:
        return
    if request.lora:
        run.log_artifacts(model_dir / ADAPTER_FOLDER, artifact_path=ADAPTER_FOLDER)
    else:
        run.log_artifacts(model_dir, artifact_path="model")
