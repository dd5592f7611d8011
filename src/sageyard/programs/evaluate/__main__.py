"""One evaluation step: ``python -m sageyard.programs.evaluate`` in a job.

1. **Request.** The hyperparameters of ``spec.py``: the real SDK's step hyperparameters
   (``task``, ``strategy``, ``evaluation_metric``, ``subtask``, ``max_new_tokens``,
   ``temperature``, ``top_k``, ``top_p``, ``preset_reward_function``, ...) and sageyard's
   (``batch_size``, ``limit``, ``apply_chat_template``, the reward workers').
2. **Model.** The ``model`` channel: a Hugging Face model folder or ``model.tar.gz``
   (generation through transformers), or a scripted test model.
3. **Task.** A benchmark (``task=mmlu``, ...): its subtasks (``subtask``, comma-separated;
   empty: all) from the ``benchmark`` channel, scored by lm-evaluation-harness's task
   definition (``tasks.py``). ``task=gen_qa``: the ``train`` channel's rows answered, each
   answer scored by the ``reward`` channel's function or the preset (``genqa.py``).
4. **Results.** ``<output data>/<name>/eval_results/results_<time>.json`` in the real SDK's
   layout (``results.all`` holds the metric and its standard error; one entry per
   subtask), and ``details_<time>.jsonl`` beside it: every example's prompt, the model's
   output, the extracted answer, the target and the score. Each metric is also logged
   as ``Evaluation result: <metric> = <value>``.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sageyard.programs._common import (
    AlgorithmError,
    ProgramContext,
    configure_logging,
    parse_hyperparameters,
    run,
)
from sageyard.programs.evaluate.catalog import BENCHMARKS
from sageyard.programs.evaluate.generation import Generation, Generator, prompt_of
from sageyard.programs.evaluate.models import open_generator
from sageyard.programs.evaluate.outcome import Outcome, mean, stderr
from sageyard.programs.evaluate.spec import HYPERPARAMETERS

log = logging.getLogger("sageyard.programs.evaluate")

#: The channel holding the benchmark's data folder.
BENCHMARK_CHANNEL = "benchmark"


def main(ctx: ProgramContext) -> None:
    values = parse_hyperparameters(HYPERPARAMETERS, ctx.hyperparameters, "evaluate")
    settings = Generation(
        max_new_tokens=values["max_new_tokens"],
        temperature=values["temperature"],
        top_p=values["top_p"],
        top_k=values["top_k"],
        batch_size=values["batch_size"],
    )
    started = time.time()
    if values["task"] == "llm_judge":
        from sageyard.programs.evaluate.judge_step import judge

        outcome, folder_name = judge(ctx, values)
        report(ctx, {**values, "name": folder_name}, outcome, started, values["judge_model_id"])
        return
    from sageyard.programs._llm.model import model_folder

    with model_folder(ctx) as folder:
        generator = open_generator(folder)
        task = values["task"]
        if task in BENCHMARKS:
            with tempfile.TemporaryDirectory(prefix="hf-datasets-") as cache:
                os.environ["HF_DATASETS_CACHE"] = cache  # Arrow copies of the data: scratch
                outcome = score_benchmark(ctx, values, generator, settings)
        elif task == "gen_qa":
            outcome = score_gen_qa(ctx, values, generator, settings)
        elif task == "inference_only":
            write_inference(ctx, values, generator, settings)
            return
        else:
            raise AlgorithmError(
                f"ClientError: task={task!r} is not run by this version of sageyard's "
                "evaluate program; use a benchmark, gen_qa or inference_only."
            )
    report(ctx, values, outcome, started, generator.name)


def report(
    ctx: ProgramContext, values: dict[str, Any], outcome: Outcome, started: float, model: str
) -> None:
    for name, value in outcome.overall.items():
        if value is not None:
            print(f"Evaluation result: {name} = {value:.6g}", flush=True)
    folder = write_results(ctx, values, outcome, started, model)
    log_to_mlflow(values, outcome, folder, model)


def log_to_mlflow(values: dict[str, Any], outcome: Outcome, folder: Path, model: str) -> None:
    """The step's results as an MLflow run, when ``mlflow_experiment_name`` is given: its
    settings as parameters, its metrics, and its result files as artifacts."""
    if not values["mlflow_experiment_name"]:
        return
    from sageyard.programs._llm.mlflow import MlflowRun
    from sageyard.programs._llm.request import MlflowSettings

    settings = MlflowSettings(
        experiment_name=values["mlflow_experiment_name"],
        tracking_uri=values["mlflow_tracking_uri"] or None,
        run_name=values["mlflow_run_name"] or None,
    )
    keys = ("task", "strategy", "subtask", "max_new_tokens", "temperature", "top_p", "top_k")
    metrics = {
        name.replace("@", "_at_"): float(value)
        for name, value in outcome.overall.items()
        if value is not None
    }
    with MlflowRun(settings) as run:
        run.log_params({"model": model, **{key: values[key] for key in keys}})
        run.log_metrics(metrics, step=0)
        run.log_artifacts(folder, artifact_path="eval_results")


def score_benchmark(
    ctx: ProgramContext, values: dict[str, Any], generator: Generator, settings: Generation
) -> Outcome:
    from sageyard.programs.evaluate.tasks import run_benchmark

    benchmark = BENCHMARKS[values["task"]]
    base = ctx.channel(BENCHMARK_CHANNEL)
    if base is None:
        raise AlgorithmError(
            f"ClientError: The {benchmark.name} benchmark needs its data as the "
            f"'{BENCHMARK_CHANNEL}' channel (a folder in the layout of {benchmark.dataset})."
        )
    if benchmark.name == "humaneval":
        from sageyard.programs.evaluate.humaneval import score_humaneval

        return score_humaneval(base, values, generator, settings)
    if benchmark.name == "strong_reject":
        from sageyard.programs._judges.judges import LocalJudge, pick_judge
        from sageyard.programs.evaluate.strongreject import score_strongreject

        judge, _, _ = pick_judge(ctx, values, "StrongREJECT")
        local = isinstance(judge, LocalJudge)
        return score_strongreject(base, values, generator, settings, judge, local)
    if benchmark.task is None:
        raise AlgorithmError(
            f"ClientError: The {benchmark.name} benchmark is not scored by this version of "
            "sageyard's evaluate program yet."
        )
    named = [s.strip() for s in values["subtask"].split(",") if s.strip()]
    if named and any(s.upper() == "ALL" for s in named):
        named = []
    unknown = [s for s in named if s not in benchmark.subtasks]
    if unknown and benchmark.subtasks:
        raise AlgorithmError(
            f"ClientError: {', '.join(unknown)} is not a subtask of {benchmark.name}; "
            f"its subtasks: {', '.join(benchmark.subtasks)}."
        )
    subtasks: list[str | None] = list(named or benchmark.subtasks) or [None]
    results = run_benchmark(
        benchmark,
        subtasks,
        base,
        generator,
        settings,
        limit=values["limit"] or None,
        chat=values["apply_chat_template"],
    )
    metric = values["evaluation_metric"] or "accuracy"
    scores = [example["score"] for result in results for example in result.examples]
    overall = {metric: mean(scores), f"{metric}_stderr": stderr(scores)}
    entries = {
        f"custom|{benchmark.name}{':' + r.subtask if r.subtask else ''}|0": {
            metric: r.value,
            f"{metric}_stderr": r.stderr,
        }
        for r in results
    }
    examples = [
        {"task": r.task, **example, "lm_eval": r.lm_eval if i == 0 else None}
        for r in results
        for i, example in enumerate(r.examples)
    ]
    return Outcome(overall, entries, examples)


def _questions(
    ctx: ProgramContext, values: dict[str, Any], generator: Generator
) -> tuple[list[dict[str, Any]], list[tuple[list[dict[str, Any]], str | None]], list[str]]:
    """The ``train`` channel's rows, their questions (messages, reference) and the prompts
    the model is given (its chat template applied when it has one)."""
    from sageyard.programs.evaluate.genqa import GEN_QA, question

    data = ctx.channel("train") or ctx.channel("training")
    if data is None:
        raise AlgorithmError(
            f"ClientError: task={values['task']} needs the dataset as the 'train' channel "
            "(JSONL rows with 'query' and the reference 'response')."
        )
    try:
        rows = GEN_QA.read(data)
    except ValueError as error:
        raise AlgorithmError(f"ClientError: In the 'train' channel: {error}") from None
    if values["limit"]:
        rows = rows[: values["limit"]]
    asked = [question(row) for row in rows]
    prompts = [
        prompt_of(generator, messages, values["apply_chat_template"]) for messages, _ in asked
    ]
    return rows, asked, prompts


def write_inference(
    ctx: ProgramContext, values: dict[str, Any], generator: Generator, settings: Generation
) -> None:
    """The model's answers, as Bedrock's bring-your-own-inference rows, in
    ``<name>/eval_results/inference_output.jsonl`` (what the judge step reads)."""
    _, asked, prompts = _questions(ctx, values, generator)
    log.info("Answering %d questions", len(prompts))
    responses = generator.generate(prompts, [], settings)
    folder = ctx.output_data_dir / (values["name"] or "inference") / "eval_results"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "inference_output.jsonl").open("w") as out:
        for (messages, reference), response in zip(asked, responses, strict=True):
            question = next(
                (str(m["content"]) for m in reversed(messages) if m.get("role") == "user"),
                str(messages[-1].get("content", "")) if messages else "",
            )
            row = {
                "prompt": question,
                "referenceResponse": reference or "",
                "modelResponses": [{"response": response, "modelIdentifier": generator.name}],
            }
            out.write(json.dumps(row) + "\n")
    log.info("Wrote %d answers to %s", len(responses), folder / "inference_output.jsonl")


def score_gen_qa(
    ctx: ProgramContext, values: dict[str, Any], generator: Generator, settings: Generation
) -> Outcome:
    from sageyard.programs._rewards.contract import Sample
    from sageyard.programs._rewards.files import reward_file
    from sageyard.programs._rewards.pool import RewardPool

    preset = values["preset_reward_function"]
    handler = reward_file(ctx, preset, "task=gen_qa")
    metric = preset or "custom_score"  # the preset's name, or the reward channel's function
    rows, asked, prompts = _questions(ctx, values, generator)
    log.info("Answering %d questions", len(prompts))
    predictions = generator.generate(prompts, [], settings)
    samples = [
        Sample(
            str(row.get("id", index)),
            messages,
            prediction,
            reference,
            {k: v for k, v in row.items() if k not in ("id", "messages", "query", "prompt")},
        )
        for index, (row, (messages, reference), prediction) in enumerate(
            zip(rows, asked, predictions, strict=True)
        )
    ]
    with RewardPool(
        handler,
        workers=values["reward_workers"],
        timeout=values["reward_timeout"],
        memory_mb=values["reward_memory_mb"],
    ) as pool:
        scored = pool.score(samples)
    rewards = [score.reward or 0.0 for score in scored]
    overall = {
        metric: _aggregate(rewards, values["aggregation"]),
        f"{metric}_stderr": stderr(rewards),
    }
    extra_names = sorted({name for score in scored for name in score.metrics})
    for name in extra_names:
        overall[name] = mean([score.metrics.get(name, 0.0) for score in scored])
    errors = sum(1 for score in scored if score.error)
    if errors:
        log.warning("The scorer failed on %d of %d examples (scored 0)", errors, len(scored))
    examples = [
        {
            "doc_id": index,
            "prompt": prompt,
            "prediction": sample.response,
            "target": sample.reference_answer,
            "score": reward,
            "metrics": score.metrics,
            "error": score.error,
        }
        for index, (prompt, sample, score, reward) in enumerate(
            zip(prompts, samples, scored, rewards, strict=True)
        )
    ]
    return Outcome(overall, {"custom|gen_qa_gen_qa|0": dict(overall)}, examples)


def write_results(
    ctx: ProgramContext, values: dict[str, Any], outcome: Outcome, started: float, model: str
) -> Path:
    """``results_<time>.json`` and ``details_<time>.jsonl`` under ``<name>/eval_results``
    (a judge's: under ``<name>``); the folder."""
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(started))
    folder = ctx.output_data_dir / (values["name"] or values["task"])
    if values["task"] != "llm_judge":
        folder = folder / "eval_results"
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "results": {"all": outcome.overall, **outcome.entries},
        "config_general": {
            "model_name": model,
            "task": values["task"],
            "strategy": values["strategy"],
            "evaluation_metric": values["evaluation_metric"],
            "subtask": values["subtask"] or "ALL",
            "generation": {
                key: values[key] for key in ("max_new_tokens", "temperature", "top_p", "top_k")
            },
            "examples": len(outcome.examples),
            "start_time": started,
            "end_time": time.time(),
        },
    }
    (folder / f"results_{stamp}.json").write_text(json.dumps(document, indent=2))
    with (folder / f"details_{stamp}.jsonl").open("w") as out:
        for example in outcome.examples:
            out.write(json.dumps(example, default=str) + "\n")
    log.info("Results written to %s", folder)
    return folder


def _aggregate(values: list[float], how: str) -> float:
    if not values:
        return 0.0
    if how == "median":
        return float(statistics.median(values))
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    return mean(values)


if __name__ == "__main__":
    configure_logging(logging.getLogger("sageyard.programs"))
    run(main)
