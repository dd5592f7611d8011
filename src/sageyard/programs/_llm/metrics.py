"""The fine-tuning programs' metrics: trainer log events → ``#metrics`` lines.

Each log event of the trainer becomes one line the job's metric definitions read, e.g.
``#metrics step=10 epoch=0.50 train:loss=1.234 train:learning_rate=0.0002``; evaluations
give ``validation:*``. At the end one line holds the final losses and a summary
(:data:`SUMMARY_METRICS`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

__all__ = [
    "COMMON_METRICS",
    "METRIC_NAMES",
    "SUMMARY_METRICS",
    "MetricLog",
    "metric_regex",
    "metric_regexes",
    "metrics_line",
    "named_metrics",
    "peak_memory",
    "trainer_callback",
]

if TYPE_CHECKING:
    from transformers import TrainerCallback

# Printed once, at the end: how the training went (the trainer's runtime, TRL's count of
# the tokens trained on, and peak memory).
SUMMARY_METRICS = ("train:runtime", "train:num_tokens", "train:peak_rss_mb", "train:peak_gpu_mb")

# Every fine-tuning program reports these (its spec's metrics add their own).
COMMON_METRICS = (
    "train:loss",
    "validation:loss",
    "train:learning_rate",
    "train:tokens_per_second",
    "train:grad_norm",
)

# Trainer log keys → metric names (``train:<name>``; ``eval_<key>`` → ``validation:<name>``).
METRIC_NAMES = {
    "loss": "loss",
    "learning_rate": "learning_rate",
    "grad_norm": "grad_norm",
    "mean_token_accuracy": "token_accuracy",
    "rewards/margins": "reward_margin",
    "rewards/accuracies": "reward_accuracy",
    "rewards/chosen": "reward_chosen",
    "rewards/rejected": "reward_rejected",
}


def metrics_line(step: int, epoch: float | None, metrics: Mapping[str, float]) -> str:
    """One ``#metrics`` line, the format the programs' METRIC_DEFINITIONS read.

    Example:
        >>> metrics_line(10, 0.5, {"train:loss": 1.234, "train:learning_rate": 2e-4})
        '#metrics step=10 epoch=0.50 train:loss=1.234 train:learning_rate=0.0002'
    """
    parts = [f"#metrics step={step}"]
    if epoch is not None:
        parts.append(f"epoch={epoch:.2f}")
    parts += [f"{name}={value:.6g}" for name, value in metrics.items()]
    return " ".join(parts)


def metric_regex(name: str) -> str:
    """The regex that reads ``name`` from :func:`metrics_line` lines.

    Example:
        >>> import re
        >>> re.search(metric_regex("train:loss"), "#metrics step=1 train:loss=0.5").group(1)
        '0.5'
    """
    return rf"#metrics step=\d+.* {re.escape(name)}=(\S+)"


def metric_regexes(*names: str) -> dict[str, str]:
    """``name → regex`` of the common metrics, ``names`` and the summary, as a spec lists
    them (``ProgramSpec.metrics``)."""
    return {name: metric_regex(name) for name in (*COMMON_METRICS, *names, *SUMMARY_METRICS)}


def named_metrics(
    logs: Mapping[str, Any], names: Callable[[str], str | None] = METRIC_NAMES.get
) -> tuple[str, dict[str, float]]:
    """``("train" | "validation" | "", metrics)`` for one trainer log event.

    ``names`` gives a log key's metric name (None: not reported); the default knows the
    keys of :data:`METRIC_NAMES`. The keys of :data:`METRIC_NAMES` come first, in its
    order, then the others as logged.

    Example:
        >>> named_metrics({"eval_loss": 0.5, "eval_runtime": 2.0})
        ('validation', {'validation:loss': 0.5})
    """
    if "eval_loss" in logs:
        kind, prefix = "validation", "eval_"
    elif "loss" in logs:
        kind, prefix = "train", ""
    else:  # the summary at the end of training (train_runtime, ...), or anything else
        return "", {}
    metrics = {}
    first = {key: index for index, key in enumerate(METRIC_NAMES)}
    keys = sorted(logs, key=lambda key: first.get(key.removeprefix(prefix), len(first)))
    for key in keys:
        value = logs[key]
        if not key.startswith(prefix) or isinstance(value, bool):
            continue
        name = names(key.removeprefix(prefix))
        if name is not None and isinstance(value, int | float):
            metrics[f"{kind}:{name}"] = float(value)
    return kind, metrics


@dataclass
class MetricLog:
    """Turns the trainer's log events into ``#metrics`` lines (and MLflow metrics).

    ``train:tokens_per_second`` counts the non-padding tokens the trainer fed the model
    since the last train log, over the time its optimizer steps took.
    """

    emit: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
    on_metrics: Callable[[dict[str, float], int], None] | None = None
    names: Callable[[str], str | None] = METRIC_NAMES.get
    clock: Callable[[], float] = time.monotonic
    latest: dict[str, float] = field(default_factory=dict)
    step: int = 0
    epoch: float | None = None
    summary: dict[str, float] = field(default_factory=dict)
    _tokens: int = 0
    _busy: float = 0.0
    _started: float | None = None

    def train_begins(self, tokens_seen: int) -> None:
        self._tokens, self._busy = tokens_seen, 0.0

    def step_begins(self) -> None:
        self._started = self.clock()

    def step_ends(self) -> None:
        if self._started is not None:
            self._busy += self.clock() - self._started
            self._started = None

    def record(
        self, step: int, epoch: float | None, logs: Mapping[str, Any], tokens_seen: int
    ) -> None:
        if isinstance(logs.get("num_tokens"), int | float):
            self.summary["train:num_tokens"] = float(logs["num_tokens"])  # TRL's own count
        if isinstance(logs.get("train_runtime"), int | float):
            self.summary["train:runtime"] = float(logs["train_runtime"])
            self.summary.setdefault("train:num_tokens", float(tokens_seen))
        kind, metrics = named_metrics(logs, self.names)
        if kind == "train" and self._busy > 0:
            metrics["train:tokens_per_second"] = (tokens_seen - self._tokens) / self._busy
            self._tokens, self._busy = tokens_seen, 0.0
        if not metrics:
            return
        self.step, self.epoch = step, epoch
        self.latest.update(metrics)
        self.emit(metrics_line(step, epoch, metrics))
        if self.on_metrics is not None:
            self.on_metrics(metrics, step)

    def final(self) -> dict[str, float]:
        """Print and return the final metrics: the last train loss and validation values,
        and how the training went: its runtime, tokens and peak memory."""
        final = {
            name: value
            for name, value in self.latest.items()
            if name == "train:loss" or name.startswith("validation:")
        }
        final.update(self.summary)
        final.update(peak_memory())
        if final:
            self.emit(metrics_line(self.step, self.epoch, final))
        return final


def peak_memory() -> dict[str, float]:
    """``train:peak_rss_mb``: this process's peak resident set; on a GPU also
    ``train:peak_gpu_mb``, the most memory torch allocated on it."""
    import resource
    import sys

    peak = {"train:peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        peak["train:peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return peak


def trainer_callback(metric_log: MetricLog) -> TrainerCallback:
    """A transformers callback feeding ``metric_log``; it also logs the last step's loss."""
    from transformers import TrainerCallback

    class _MetricsCallback(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            metric_log.train_begins(state.num_input_tokens_seen)

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            metric_log.step_begins()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            metric_log.step_ends()
            if state.global_step >= state.max_steps:
                control.should_log = True  # the final train loss, whatever logging_steps is

        def on_log(
            self,
            args: Any,
            state: Any,
            control: Any,
            logs: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            metric_log.record(
                state.global_step, state.epoch, logs or {}, state.num_input_tokens_seen
            )

    return _MetricsCallback()
