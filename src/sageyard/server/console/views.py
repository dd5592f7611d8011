"""What the console's pages show, as plain data (the pages render it; its JSON API serves
it for the live updates): the jobs list, a job, a tuning job."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sageyard.train.client import LocalClient

__all__ = [
    "evaluation_view",
    "evaluations_view",
    "importance",
    "job_view",
    "jobs_view",
    "log_view",
    "models_view",
    "tuning_view",
    "tunings_view",
]

#: The statuses the jobs list filters by.
STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")


def _seconds(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def _duration(described: Mapping[str, Any]) -> float | None:
    """Seconds from creation to the end (or to now while it runs)."""
    import time

    start = _seconds(described.get("CreationTime"))
    end = _seconds(described.get("TrainingEndTime") or described.get("HyperParameterTuningEndTime"))
    if start is None:
        return None
    return (end if end is not None else time.time()) - start


def jobs_view(
    client: LocalClient, status: str = "", name: str = "", limit: int = 200
) -> list[dict[str, Any]]:
    """The training jobs, newest first: what the list's columns show, from the jobs' rows
    alone (the list is polled; a description reads each job's events and metrics too)."""
    import time

    service = client.training_jobs
    records = service.list_jobs(status=status or None, name_contains=name or None, limit=limit)
    rows = []
    for record in records:
        doc = record.document
        resources = (doc.get("spec", {}).get("request") or {}).get("ResourceConfig") or {}
        ended = doc.get("training_end_time") or doc.get("end_time")
        rows.append(
            {
                "name": record.name,
                "status": record.status,
                "secondary": record.secondary_status,
                "instance_type": resources.get("InstanceType", ""),
                "instance_count": resources.get("InstanceCount", 0),
                "created": record.created_at,
                "duration": (ended or time.time()) - record.created_at,
                "metrics": {m["MetricName"]: m["Value"] for m in doc.get("final_metrics") or []},
                "tuning": record.parent,
            }
        )
    return rows


def tunings_view(client: LocalClient, limit: int = 100) -> list[dict[str, Any]]:
    """The tuning jobs, newest first."""
    service = client.tuning_jobs
    rows = []
    for record in service.list_jobs(limit=limit):
        described = service.describe(record.name)
        best = described.get("BestTrainingJob") or {}
        metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
        rows.append(
            {
                "name": record.name,
                "status": record.status,
                "counts": described.get("TrainingJobStatusCounters", {}),
                "best": metric.get("Value"),
                "created": _seconds(described.get("CreationTime")),
                "duration": _duration(described),
            }
        )
    return rows


def job_view(client: LocalClient, name: str) -> dict[str, Any]:
    """One job: its description's parts, its metrics' points, its artifacts."""
    service = client.training_jobs
    described = service.describe(name)
    resources = described.get("ResourceConfig") or {}
    points: dict[str, list[list[float]]] = {}
    for point in service.metrics(name):
        points.setdefault(point.metric_name, []).append([point.at, point.value])
    artifacts = []
    model = (described.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if model:
        artifacts.append({"name": "model.tar.gz", "uri": model})
        output = model.rsplit("/", 1)[0] + "/output.tar.gz"
        if service.objects.exists(output):
            artifacts.append({"name": "output.tar.gz", "uri": output})
    return {
        "name": name,
        "status": described["TrainingJobStatus"],
        "secondary": described.get("SecondaryStatus"),
        "failure": described.get("FailureReason"),
        "instance_type": resources.get("InstanceType", ""),
        "instance_count": resources.get("InstanceCount", 0),
        "created": _seconds(described.get("CreationTime")),
        "duration": _duration(described),
        "timeline": [
            {
                "status": t.get("Status"),
                "start": _seconds(t.get("StartTime")),
                "message": t.get("StatusMessage", ""),
            }
            for t in described.get("SecondaryStatusTransitions", [])
        ],
        "hyperparameters": described.get("HyperParameters", {}),
        "final_metrics": {
            m["MetricName"]: m["Value"] for m in described.get("FinalMetricDataList", [])
        },
        "metrics": points,
        "artifacts": artifacts,
        "hosts": [f"algo-{i + 1}" for i in range(int(resources.get("InstanceCount") or 1))],
        "warnings": described.get("Warnings", []),
    }


#: The most of a host's log one read of the console returns.
LOG_READ_BYTES = 1 << 20


def log_view(client: LocalClient, name: str, host: str, after: int) -> dict[str, Any]:
    """A host's whole lines from ``after`` on (a byte offset of its log file, or the last
    stored chunk's id where the hosts ran on other machines), at most LOG_READ_BYTES read
    at once, secrets masked; ``next`` is where the following read starts."""
    from sageyard.server.logs import read_host_log

    lines = read_host_log(client, name, host, after, LOG_READ_BYTES)
    return {"lines": [line.message for line in lines], "next": lines[-1].end if lines else after}


def tuning_view(client: LocalClient, name: str) -> dict[str, Any]:
    """One tuning job: its trials, the best objective over time, each parameter's importance."""
    service = client.tuning_jobs
    described = service.describe(name)
    config = described.get("HyperParameterTuningJobConfig") or {}
    objective = config.get("HyperParameterTuningJobObjective") or {}
    early = (
        config.get("TrainingJobEarlyStoppingType") == "Auto"
        or config.get("Strategy") == "Hyperband"
    )
    trials = []
    for summary in service.summaries(name):
        metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
        trials.append(
            {
                "name": summary["TrainingJobName"],
                "status": summary["TrainingJobStatus"],
                "objective": metric.get("Value"),
                "parameters": summary.get("TunedHyperParameters", {}),
                "ended": _seconds(summary.get("TrainingEndTime")),
                "early_stopped": summary["TrainingJobStatus"] == "Stopped"
                and described["HyperParameterTuningJobStatus"] != "Stopped"
                and early,
            }
        )
    maximize = objective.get("Type") == "Maximize"
    best_over_time, best = [], None
    for trial in sorted(
        (t for t in trials if t["objective"] is not None and t["ended"]), key=lambda t: t["ended"]
    ):
        value = trial["objective"]
        if best is None or (value > best if maximize else value < best):
            best = value
        best_over_time.append([trial["ended"], best])
    best_job = (described.get("BestTrainingJob") or {}).get("TrainingJobName")
    return {
        "name": name,
        "status": described["HyperParameterTuningJobStatus"],
        "strategy": config.get("Strategy"),
        "objective": {"metric": objective.get("MetricName"), "type": objective.get("Type")},
        "counts": described.get("TrainingJobStatusCounters", {}),
        "best_job": best_job,
        "trials": trials,
        "best_over_time": best_over_time,
        "importance": importance(trials),
    }


def importance(trials: list[dict[str, Any]]) -> dict[str, float]:
    """Each tuned parameter's importance: the absolute Spearman rank correlation of its
    values with the objective over the scored trials (categorical values ranked by their
    mean objective), scaled to sum to 1; {} with fewer than three scored trials."""
    scored = [t for t in trials if t["objective"] is not None]
    if len(scored) < 3:
        return {}
    objective = _ranks([t["objective"] for t in scored])
    found: dict[str, float] = {}
    for parameter in sorted({p for t in scored for p in t["parameters"]}):
        values = [t["parameters"].get(parameter) for t in scored]
        numbers = _as_numbers(values, [t["objective"] for t in scored])
        found[parameter] = abs(_correlation(_ranks(numbers), objective))
    total = sum(found.values())
    return {k: (v / total if total else 0.0) for k, v in found.items()}


def _as_numbers(values: list[Any], objectives: list[float]) -> list[float]:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):  # categorical: each value as its mean objective
        groups: dict[Any, list[float]] = {}
        for value, objective in zip(values, objectives, strict=True):
            groups.setdefault(value, []).append(objective)
        means = {k: sum(v) / len(v) for k, v in groups.items()}
        return [means[v] for v in values]


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):  # ties share their mean rank
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def _correlation(a: list[float], b: list[float]) -> float:
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    spread = math.sqrt(sum((x - mean_a) ** 2 for x in a) * sum((y - mean_b) ** 2 for y in b))
    return cov / spread if spread else 0.0


def models_view(client: LocalClient) -> list[dict[str, Any]]:
    """The model package groups, each with its versions (newest first)."""
    from sageyard.models.registry import ModelRegistry

    registry = ModelRegistry(client.settings)
    groups = []
    for group in registry.list_groups():
        packages = []
        for package in reversed(registry.list_packages(group.model_package_group_name)):
            packages.append(
                {
                    "version": package.model_package_version,
                    "status": package.model_package_status,
                    "approval": package.model_approval_status,
                    "training_job": package.training_job_name,
                    "base_model": package.base_model,
                    "artifact": package.model_artifact_uri,
                    "metrics": dict(package.final_metrics),
                    "created": _seconds(package.creation_time),
                }
            )
        groups.append(
            {
                "name": group.model_package_group_name,
                "description": group.model_package_group_description or "",
                "created": _seconds(group.creation_time),
                "packages": packages,
            }
        )
    return groups


def evaluations_view(client: LocalClient) -> list[dict[str, Any]]:
    """The evaluations (pipeline executions of evaluation steps), newest first."""
    from sageyard.evaluation.service import pipeline_status

    service = client.evaluations
    rows = []
    for record in service.list_executions():
        spec = service.spec(record)
        rows.append(
            {
                "name": record.name,
                "display": spec.display_name,
                "type": spec.eval_type,
                "status": pipeline_status(record.status),
                "created": record.created_at,
            }
        )
    return rows


def evaluation_view(client: LocalClient, name: str) -> dict[str, Any]:
    """One evaluation: its steps (each a training job) and, once it succeeded, its scores."""
    service = client.evaluations
    record = service.find(name)
    described = service.describe(record.name)
    steps = []
    for step in described["PipelineExecutionSteps"]:
        arn = (step.get("Metadata") or {}).get("TrainingJob", {}).get("Arn", "")
        steps.append(
            {
                "name": step["StepName"],
                "status": step.get("StepStatus"),
                "job": arn.rsplit("/", 1)[-1] if arn else None,
                "failure": step.get("FailureReason"),
            }
        )
    status = described["PipelineExecutionStatus"]
    scores = service.result_rows([record.name]) if status == "Succeeded" else []
    return {
        "name": record.name,
        "display": described["PipelineExecutionDisplayName"],
        "type": described["EvalType"],
        "status": status,
        "failure": described.get("FailureReason"),
        "created": _seconds(described.get("CreationTime")),
        "steps": steps,
        "scores": scores,
    }
