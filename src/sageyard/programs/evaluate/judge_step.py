"""The LLM judge's step (``task=llm_judge``): the answers of an inference step, judged.

Inputs: the ``inference`` channel (the inference step's output, holding its
``inference_output.jsonl``), ``llmaj_metrics`` (a JSON list of built-in metric names), the
``custom_metrics`` channel (a JSON file of custom metric definitions), and the judge: the
OpenAI-compatible endpoint ``judge_endpoint`` serving ``judge_served_model``, or else the
``judge`` channel's local model (a stand-in, said in the log and in every explanation).

Outputs, in ``<output data>/<name>/``: ``bedrock_llm_judge_results.json`` (each metric's
score, standard deviation and count), ``<name>_output.jsonl`` (every example: prompt,
answer, each metric's score and the judge's explanation) and ``results_<time>.json``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sageyard.programs._common import AlgorithmError, ProgramContext
from sageyard.programs._judges.judges import pick_judge
from sageyard.programs.evaluate.judging import (
    BUILTIN_METRICS,
    Metric,
    check_custom_metrics,
    custom_metric,
    judge_rows,
    metric_name,
    summarise,
)
from sageyard.programs.evaluate.outcome import Outcome

log = logging.getLogger("sageyard.programs.evaluate")

__all__ = ["AGGREGATE_FILE", "judge"]

#: The aggregate file's name, as Bedrock's model evaluation writes it.
AGGREGATE_FILE = "bedrock_llm_judge_results.json"


def judge(ctx: ProgramContext, values: dict[str, Any]) -> tuple[Outcome, str]:
    """Judge the inference step's answers; the outcome and the results' folder name."""
    rows = _inference_rows(ctx)
    metrics = _metrics(ctx, values["llmaj_metrics"])
    backend, judge_name, note = pick_judge(ctx, values, "The LLM judge")
    model = rows[0]["model"] if rows else "model"
    log.info("Judging %d answers on %s", len(rows), ", ".join(m.name for m in metrics))
    records = judge_rows(backend, judge_name, rows, metrics, model, note)
    aggregate = summarise(records, metrics)
    name = values["name"] or "llmaj-eval"
    folder = ctx.output_data_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / AGGREGATE_FILE).write_text(json.dumps(aggregate, indent=2))
    with (folder / f"{name}_output.jsonl").open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    overall: dict[str, float | None] = {}
    for metric, result in aggregate["results"].items():
        overall[metric] = result["score"]
        deviation, count = result["std_deviation"], result["total_evaluations"]
        overall[f"{metric}_stderr"] = deviation / count**0.5 if deviation is not None else None
    unscored = sum(
        1
        for record in records
        for score in record["automatedEvaluationResult"]["scores"]
        if score["result"] is None
    )
    if unscored:
        log.warning("The judge gave no score %d times (left out of the means)", unscored)
    examples = [
        {
            "doc_id": index,
            "prompt": row["prompt"],
            "prediction": row["response"],
            "target": row.get("reference"),
            "scores": {
                s["metricName"]: s["result"] for s in record["automatedEvaluationResult"]["scores"]
            },
        }
        for index, (row, record) in enumerate(zip(rows, records, strict=True))
    ]
    return Outcome(overall, {"custom|llm_judge|0": dict(overall)}, examples), name


def _inference_rows(ctx: ProgramContext) -> list[dict[str, Any]]:
    folder = ctx.channel("inference")
    files = sorted(folder.rglob("inference_output.jsonl")) if folder is not None else []
    if not files:
        raise AlgorithmError(
            "ClientError: The judge needs the 'inference' channel holding an inference step's "
            "inference_output.jsonl."
        )
    rows = []
    for number, line in enumerate(files[0].read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            response = item["modelResponses"][0]
            rows.append(
                {
                    "prompt": str(item["prompt"]),
                    "response": str(response["response"]),
                    "reference": str(item.get("referenceResponse") or ""),
                    "model": str(response.get("modelIdentifier") or "model"),
                }
            )
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise AlgorithmError(
                f"ClientError: {files[0].name} line {number} is not an inference record "
                f"(prompt, modelResponses[0].response): {error}"
            ) from None
    return rows


def _metrics(ctx: ProgramContext, builtin: str) -> list[Metric]:
    try:
        names = json.loads(builtin or "[]")
    except ValueError:
        raise AlgorithmError(
            f"ClientError: llmaj_metrics={builtin!r} must be a JSON list of metric names."
        ) from None
    metrics = []
    for given in names if isinstance(names, list) else [names]:
        name = metric_name(str(given))
        if name is None:
            raise AlgorithmError(
                f"ClientError: {given!r} is not a built-in judge metric; they are "
                f"{', '.join(BUILTIN_METRICS)}."
            )
        metrics.append(Metric(name, BUILTIN_METRICS[name]))
    folder = ctx.channel("custom_metrics")
    if folder is not None:
        for path in sorted(Path(folder).rglob("*.json")):
            try:
                definitions = check_custom_metrics(path.read_text())
            except ValueError as error:
                raise AlgorithmError(f"ClientError: {path.name}: {error}") from None
            metrics.extend(custom_metric(d) for d in definitions)
    if not metrics:
        raise AlgorithmError("ClientError: The judge was given no metric to score.")
    return metrics
