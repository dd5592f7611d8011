"""What the evaluate program declares: its hyperparameters (the real SDK's evaluation
steps' names) and the metrics its log reports.

Light on purpose: the facade imports this module, so it imports neither torch nor lm-eval.

Example:
    >>> from sageyard.programs.evaluate.spec import PROGRAM
    >>> PROGRAM.module
    'sageyard.programs.evaluate'
    >>> "evaluation:accuracy" in PROGRAM.metrics
    True
"""

from __future__ import annotations

from sageyard.programs._common import Hyperparameter
from sageyard.programs._rewards.presets import PRESETS
from sageyard.programs._spec import OptionSpec, ProgramSpec
from sageyard.programs.evaluate.catalog import BENCHMARKS

__all__ = ["INFERENCE_OPTIONS", "METRIC_NAMES", "PROGRAM", "TASKS"]

#: What a step job does: score a benchmark, score generations with a custom scorer
#: (``gen_qa``), only generate (``inference_only``), or judge generations (``llm_judge``).
TASKS = (*BENCHMARKS, "gen_qa", "inference_only", "llm_judge")
#: The metrics the program logs as ``Evaluation result: <name> = <value>``.
METRIC_NAMES = ("accuracy", "exact_match", "deflection", "pass@1", *PRESETS, "custom_score")

HYPERPARAMETERS = [
    Hyperparameter("task", "str", required=True, choices=TASKS),
    Hyperparameter("name", "str", default=""),
    Hyperparameter("strategy", "str", default=""),
    Hyperparameter("evaluation_metric", "str", default="", aliases=("metric",)),
    Hyperparameter("subtask", "str", default=""),
    Hyperparameter("max_new_tokens", "int", default=512, minimum=1),
    Hyperparameter("temperature", "float", default=0.0, minimum=0),
    Hyperparameter("top_k", "int", default=-1, minimum=-1),
    Hyperparameter("top_p", "float", default=1.0, minimum=0, exclusive_minimum=True, maximum=1),
    Hyperparameter("max_model_len", "int", default=0, minimum=0),
    Hyperparameter("aggregation", "str", default="mean", choices=("mean", "median", "min", "max")),
    Hyperparameter("postprocessing", "str", default="False"),
    Hyperparameter("preset_reward_function", "str", default="", choices=("", *PRESETS)),
    Hyperparameter("lambda_type", "str", default=""),
    # sageyard's own
    Hyperparameter("batch_size", "int", default=8, minimum=1),
    Hyperparameter("limit", "int", default=0, minimum=0),
    Hyperparameter("apply_chat_template", "bool", default=True),
    Hyperparameter("reward_timeout", "float", default=10.0, minimum=0.1),
    Hyperparameter("reward_workers", "int", default=2, minimum=1),
    Hyperparameter("reward_memory_mb", "int", default=1024, minimum=64),
    # the LLM judge's step
    Hyperparameter("judge_model_id", "str", default=""),
    Hyperparameter("judge_endpoint", "str", default=""),
    Hyperparameter("judge_served_model", "str", default=""),
    Hyperparameter("judge_timeout", "float", default=60.0, minimum=0.1),
    Hyperparameter("judge_concurrency", "int", default=4, minimum=1),
    Hyperparameter("judge_max_tokens", "int", default=256, minimum=8),
    Hyperparameter("judge_local_model", "str", default=""),
    Hyperparameter("llmaj_metrics", "str", default="[]"),
    Hyperparameter("output_path", "str", default=""),
    Hyperparameter("inference_data_s3_path", "str", default=""),
    # MLflow: the step's results logged as a run when an experiment is named
    Hyperparameter("mlflow_tracking_uri", "str", default=""),
    Hyperparameter("mlflow_experiment_name", "str", default=""),
    Hyperparameter("mlflow_run_name", "str", default=""),
]

#: What an evaluator's ``hyperparameters`` hold (FineTuningOptions over these): the
#: generation settings every step job gets.
INFERENCE_OPTIONS = {
    "max_new_tokens": OptionSpec(
        type="integer", default=512, min=1, max=32768, description="Tokens generated at most."
    ),
    "temperature": OptionSpec(
        type="float", default=0.0, min=0.0, max=2.0, description="0: greedy decoding."
    ),
    "top_k": OptionSpec(
        type="integer", default=-1, min=-1, max=100000, description="-1: no top-k cut."
    ),
    "top_p": OptionSpec(type="float", default=1.0, min=0.0, max=1.0, description="Nucleus."),
    "batch_size": OptionSpec(
        type="integer", default=8, min=1, max=4096, description="Prompts generated together."
    ),
    "limit": OptionSpec(
        type="integer",
        default=0,
        min=0,
        max=10_000_000,
        description="Examples scored per subtask (0: all).",
    ),
}

PROGRAM = ProgramSpec(
    name="evaluate",
    module="sageyard.programs.evaluate",
    display_name="Evaluation",
    hyperparameters=HYPERPARAMETERS,
    metrics={
        f"evaluation:{name}": rf"Evaluation result: {name} = ([-+0-9.eE]+)" for name in METRIC_NAMES
    },
)
