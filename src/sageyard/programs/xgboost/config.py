"""The XGBoost container's hyperparameters, and a job's as a checked configuration.

``HYPERPARAMETERS`` lists them with the names, aliases, types, ranges and defaults of
SageMaker's XGBoost algorithm (framework version 1.7-1), restricted to what the installed
XGBoost (2.x/3.x) supports; those XGBoost dropped are accepted and ignored (``IGNORED``).
``parse_config`` checks what the container checks (names, aliases, types, ranges, and the
rules between hyperparameters: ``num_class`` for ``multi:*``, valid ``eval_metric``
names, updater combinations, constraint syntax) and translates the container's
hyperparameters into the installed XGBoost's parameters. Light: it imports neither
numpy, xgboost nor pydantic, so the program starts fast and fails fast.

Example:
    >>> config, notes = parse_config({"num_round": "10", "learning_rate": "0.1"})
    >>> config.num_round, config.params["eta"], config.params["objective"]
    (10, 0.1, 'reg:squarederror')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sageyard.programs._common import AlgorithmError, Hyperparameter, parse_hyperparameters

__all__ = [
    "ALGORITHM",
    "CONTAINER_METRICS",
    "HYPERPARAMETERS",
    "IGNORED",
    "MAXIMIZE",
    "OBJECTIVES",
    "UPDATERS",
    "XGBOOST_METRICS",
    "XGBoostConfig",
    "is_maximized",
    "metric_base",
    "parse_config",
]

ALGORITHM = "XGBoost"

OBJECTIVES = (
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:quantileerror",
    "reg:gamma",
    "reg:tweedie",
    "reg:linear",  # the container's old name of reg:squarederror
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "count:poisson",
    "survival:cox",
    "survival:aft",
    "multi:softmax",
    "multi:softprob",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
)

# Evaluation metrics XGBoost computes itself (``eval_metric``); error, ndcg, map and pre
# also take ``@<t>`` (e.g. ``error@0.7``, ``ndcg@5``).
XGBOOST_METRICS = (
    "rmse",
    "rmsle",
    "mae",
    "mape",
    "mphe",
    "logloss",
    "error",
    "merror",
    "mlogloss",
    "auc",
    "aucpr",
    "pre",
    "ndcg",
    "map",
    "poisson-nloglik",
    "gamma-nloglik",
    "cox-nloglik",
    "gamma-deviance",
    "tweedie-nloglik",
    "aft-nloglik",
    "interval-regression-accuracy",
    "quantile",
)

# Metrics the container computes itself from the predictions (its "custom metrics").
CONTAINER_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "mse",
    "precision",
    "precision_macro",
    "precision_micro",
    "r2",
    "recall",
    "recall_macro",
    "recall_micro",
)

# Metrics where higher is better (early stopping and tuning direction).
MAXIMIZE = frozenset(
    {
        "auc",
        "aucpr",
        "pre",
        "ndcg",
        "map",
        "interval-regression-accuracy",
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_binary",
        "f1_macro",
        "precision",
        "precision_macro",
        "precision_micro",
        "r2",
        "recall",
        "recall_macro",
        "recall_micro",
    }
)

UPDATERS = (
    "grow_colmaker",
    "grow_histmaker",
    "grow_quantile_histmaker",
    "sync",
    "refresh",
    "prune",
    "shotgun",
    "coord_descent",
)

# The container's hyperparameters that the installed XGBoost no longer has: accepted,
# checked, logged as ignored.
IGNORED = {
    "sketch_eps": "XGBoost 2 replaced it by max_bin for tree_method=approx",
    "single_precision_histogram": "XGBoost 2 always uses single precision histograms",
    "deterministic_histogram": "XGBoost 2 histograms are always deterministic",
    "predictor": "XGBoost 2 chooses the predictor from the device",
    "dsplit": "XGBoost 2 removed it",
    "lambda_bias": "XGBoost 2 removed it",
    "prob_buffer_row": "XGBoost 2 removed it",
    "use_dask_gpu_training": "sageyard trains on one host (see the program's docstring)",
}


HYPERPARAMETERS: list[Hyperparameter] = [
    # -- the program's own
    Hyperparameter("num_round", "int", required=True, minimum=1),
    Hyperparameter("early_stopping_rounds", "int", minimum=1),
    Hyperparameter("csv_weights", "int", 0, minimum=0, maximum=1),
    Hyperparameter("save_model_on_termination", "bool", False),
    # -- general
    Hyperparameter("booster", "str", "gbtree", choices=("gbtree", "gblinear", "dart")),
    Hyperparameter("verbosity", "int", 1, minimum=0, maximum=3),
    # the 0.90/1.0 containers' switch (XGBoost < 1.0): silent=1 is verbosity=0
    Hyperparameter("silent", "int", 0, minimum=0, maximum=1),
    Hyperparameter("nthread", "int", minimum=1),  # default: every core
    # -- tree booster
    Hyperparameter("eta", "float", 0.3, minimum=0, maximum=1, aliases=("learning_rate",)),
    Hyperparameter("gamma", "float", 0.0, minimum=0, aliases=("min_split_loss",)),
    Hyperparameter("max_depth", "int", 6, minimum=0),
    Hyperparameter("min_child_weight", "float", 1.0, minimum=0),
    Hyperparameter("max_delta_step", "float", 0.0, minimum=0),
    Hyperparameter("subsample", "float", 1.0, minimum=0, exclusive_minimum=True, maximum=1),
    Hyperparameter("sampling_method", "str", "uniform", choices=("uniform", "gradient_based")),
    Hyperparameter("colsample_bytree", "float", 1.0, minimum=0, exclusive_minimum=True, maximum=1),
    Hyperparameter("colsample_bylevel", "float", 1.0, minimum=0, exclusive_minimum=True, maximum=1),
    Hyperparameter("colsample_bynode", "float", 1.0, minimum=0, exclusive_minimum=True, maximum=1),
    Hyperparameter("lambda", "float", 1.0, minimum=0, aliases=("reg_lambda",)),
    Hyperparameter("alpha", "float", 0.0, minimum=0, aliases=("reg_alpha",)),
    Hyperparameter(
        "tree_method", "str", "auto", choices=("auto", "exact", "approx", "hist", "gpu_hist")
    ),
    Hyperparameter("scale_pos_weight", "float", 1.0, minimum=0, exclusive_minimum=True),
    Hyperparameter("updater", "str_list", choices=UPDATERS),
    Hyperparameter("refresh_leaf", "int", 1, minimum=0, maximum=1),
    Hyperparameter("process_type", "str", "default", choices=("default", "update")),
    Hyperparameter("grow_policy", "str", "depthwise", choices=("depthwise", "lossguide")),
    Hyperparameter("max_leaves", "int", 0, minimum=0),
    Hyperparameter("max_bin", "int", 256, minimum=2),
    Hyperparameter("num_parallel_tree", "int", 1, minimum=1),
    Hyperparameter("monotone_constraints", "str"),  # "(1,0,-1)": checked by config
    Hyperparameter("interaction_constraints", "str"),  # "[[0,1],[2,3]]": checked by config
    # -- dart booster
    Hyperparameter("sample_type", "str", "uniform", choices=("uniform", "weighted")),
    Hyperparameter("normalize_type", "str", "tree", choices=("tree", "forest")),
    Hyperparameter("rate_drop", "float", 0.0, minimum=0, maximum=1),
    Hyperparameter("one_drop", "int", 0, minimum=0, maximum=1),
    Hyperparameter("skip_drop", "float", 0.0, minimum=0, maximum=1),
    # -- learning task
    Hyperparameter("objective", "str", "reg:squarederror", choices=OBJECTIVES),
    Hyperparameter("num_class", "int", minimum=2),
    Hyperparameter("base_score", "float", minimum=0),  # default: estimated from the labels
    Hyperparameter("eval_metric", "str_list"),  # default: the objective's; checked by config
    Hyperparameter("seed", "int", 0, minimum=-(2**31) + 1, maximum=2**31 - 2),
    Hyperparameter(
        "tweedie_variance_power", "float", 1.5, minimum=1, exclusive_minimum=True, maximum=2
    ),
    Hyperparameter("huber_slope", "float", 1.0, minimum=0, exclusive_minimum=True),
    Hyperparameter("quantile_alpha", "float", 0.5, minimum=0, exclusive_minimum=True, maximum=1),
    Hyperparameter(
        "aft_loss_distribution", "str", "normal", choices=("normal", "logistic", "extreme")
    ),
    Hyperparameter("aft_loss_distribution_scale", "float", 1.0, minimum=0),
    # -- accepted, no effect (see IGNORED)
    Hyperparameter("sketch_eps", "float", 0.03, minimum=0, exclusive_minimum=True, maximum=1),
    Hyperparameter("single_precision_histogram", "bool", False),
    Hyperparameter("deterministic_histogram", "bool", True),
    Hyperparameter("predictor", "str", "auto", choices=("auto", "cpu_predictor", "gpu_predictor")),
    Hyperparameter("dsplit", "str", "row", choices=("row", "col")),
    Hyperparameter("lambda_bias", "float", 0.0, minimum=0, maximum=1),
    Hyperparameter("prob_buffer_row", "float", minimum=1, exclusive_minimum=True),
    Hyperparameter("use_dask_gpu_training", "bool", False),
]


# Hyperparameters the program uses itself rather than passing to XGBoost.
_PROGRAM = frozenset(
    {"num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination"}
)
_CLASSIFICATION = ("binary:", "multi:", "reg:logistic")
_CLASS_METRICS = frozenset(CONTAINER_METRICS) - {"mse", "r2"}
_GROW = ("grow_colmaker", "grow_histmaker", "grow_quantile_histmaker")
_LINEAR = ("shotgun", "coord_descent")
_KNOWN = (*XGBOOST_METRICS, *CONTAINER_METRICS)


@dataclass(frozen=True)
class XGBoostConfig:
    """What the program needs: XGBoost's parameters and its own settings."""

    params: dict[str, Any]  # for xgboost.Booster, eval_metric included when set
    num_round: int
    objective: str
    num_class: int | None
    early_stopping_rounds: int | None
    csv_weights: bool
    container_metrics: tuple[str, ...]  # computed by the program, after XGBoost's own
    stopping_metric: str | None  # None: XGBoost's rule, the last metric on the line
    save_model_on_termination: bool


def metric_base(metric: str) -> str:
    """``ndcg@5`` → ``ndcg``; ``error@0.7`` → ``error``; ``map-`` → ``map``."""
    return metric.split("@", 1)[0].rstrip("-")


def is_maximized(metric: str) -> bool:
    """Whether higher is better for ``metric`` (as the container decides, e.g. for tuning).

    Example:
        >>> is_maximized("auc"), is_maximized("ndcg@5"), is_maximized("logloss")
        (True, True, False)
    """
    return metric_base(metric) in MAXIMIZE


def parse_config(raw: dict[str, str]) -> tuple[XGBoostConfig, list[str]]:
    """The checked configuration and notes for the log (ignored or renamed parameters).

    Raises:
        AlgorithmError: A hyperparameter is unknown, missing, of the wrong type, out of
            range, or does not fit with another; the message names it.
    """
    values = parse_hyperparameters(HYPERPARAMETERS, raw, ALGORITHM)
    given = _given(raw)
    notes = [
        f"Hyperparameter {name} has no effect with XGBoost 2 or later ({IGNORED[name]}); "
        "it is ignored."
        for name in sorted(given & set(IGNORED))
    ]
    params: dict[str, Any] = {
        spec.name: values[spec.name]
        for spec in HYPERPARAMETERS
        if spec.name in given
        and spec.name not in _PROGRAM
        and spec.name not in IGNORED
        and spec.name != "silent"
    }
    if "silent" in given:  # the older containers' name for quiet training
        notes.append("Hyperparameter silent is XGBoost's old switch; using verbosity instead.")
        if values["silent"] and "verbosity" not in given:
            params["verbosity"] = 0
    objective = values["objective"]
    if objective == "reg:linear":
        notes.append("objective reg:linear is the old name of reg:squarederror; using that.")
        objective = "reg:squarederror"
    params["objective"] = objective
    params["seed"] = values["seed"]
    _upper_bound_open(values, given, "tweedie_variance_power", 2)
    _upper_bound_open(values, given, "sketch_eps", 1)
    if values.get("tree_method") == "gpu_hist":
        notes.append(
            "tree_method gpu_hist is tree_method hist on device cuda in XGBoost 2 and later "
            "(XGBoost falls back to the CPU when it sees no GPU)."
        )
        params["tree_method"] = "hist"
        params["device"] = "cuda"
    if "updater" in given:
        params["updater"] = _updater(values["updater"], values["booster"], values["process_type"])
    if "monotone_constraints" in given:
        params["monotone_constraints"] = _monotone(values["monotone_constraints"])
    if "interaction_constraints" in given:
        params["interaction_constraints"] = _interactions(values["interaction_constraints"])
    num_class = values["num_class"]
    if objective.startswith("multi:") and num_class is None:
        raise AlgorithmError(
            f"ClientError: Hyperparameter num_class is required with objective={objective}; "
            "set it to the number of classes (labels 0 … num_class-1)."
        )
    if num_class is not None and not objective.startswith("multi:"):
        raise AlgorithmError(
            f"ClientError: Hyperparameter num_class={num_class} is only for the multi:softmax "
            f"and multi:softprob objectives, not objective={objective}; remove it or change "
            "the objective."
        )
    metrics = _eval_metrics(values["eval_metric"] or [], objective)
    tuned = _tuning_metric(raw.get("_tuning_objective_metric"), objective)
    if tuned is not None and tuned not in metrics:
        metrics.append(tuned)
    builtin = [m for m in metrics if m not in CONTAINER_METRICS]
    if builtin:
        params["eval_metric"] = builtin
    else:
        params.pop("eval_metric", None)
    if tuned is not None:
        stopping: str | None = tuned
    elif metrics:
        stopping = metrics[-1]
    else:
        stopping = None
    config = XGBoostConfig(
        params=params,
        num_round=values["num_round"],
        objective=objective,
        num_class=num_class,
        early_stopping_rounds=values["early_stopping_rounds"],
        csv_weights=values["csv_weights"] == 1,
        container_metrics=tuple(m for m in metrics if m in CONTAINER_METRICS),
        stopping_metric=stopping,
        save_model_on_termination=bool(values["save_model_on_termination"]),
    )
    return config, notes


def _given(raw: dict[str, str]) -> set[str]:
    """The canonical names of the hyperparameters the job sets (aliases resolved)."""
    canonical = {spec.name: spec.name for spec in HYPERPARAMETERS}
    for spec in HYPERPARAMETERS:
        canonical.update(dict.fromkeys(spec.aliases, spec.name))
    return {canonical[name] for name in raw if name in canonical}


def _upper_bound_open(values: dict[str, Any], given: set[str], name: str, bound: float) -> None:
    if name in given and values[name] >= bound:
        raise AlgorithmError(
            f"ClientError: Hyperparameter {name}={values[name]!r} of the {ALGORITHM} "
            f"algorithm must be < {bound:g}."
        )


def _updater(plugins: list[str], booster: str, process_type: str) -> str:
    if booster == "gblinear":
        if len(plugins) != 1 or plugins[0] not in _LINEAR:
            raise AlgorithmError(
                f"ClientError: Hyperparameter updater={','.join(plugins)!r} does not fit "
                "booster=gblinear; use exactly one of shotgun, coord_descent."
            )
    elif process_type == "update":
        if any(p not in ("refresh", "prune") for p in plugins):
            raise AlgorithmError(
                f"ClientError: Hyperparameter updater={','.join(plugins)!r} does not fit "
                "process_type=update, which takes only refresh and prune."
            )
    else:
        if any(p in _LINEAR for p in plugins):
            raise AlgorithmError(
                f"ClientError: Hyperparameter updater={','.join(plugins)!r}: shotgun and "
                "coord_descent are for booster=gblinear; tree boosters take "
                f"{', '.join(_GROW)}, sync, refresh, prune."
            )
        if sum(p in _GROW for p in plugins) > 1:
            raise AlgorithmError(
                f"ClientError: Hyperparameter updater={','.join(plugins)!r} names more than "
                f"one tree grow plugin; choose one of {', '.join(_GROW)}."
            )
    return ",".join(plugins)


def _monotone(text: str) -> str:
    """``(1,0,-1)`` or ``[1,0,-1]`` → ``(1,0,-1)``; each item -1, 0 or 1."""
    body = text.strip().strip("()[]")
    try:
        items = [int(item) for item in body.split(",") if item.strip()]
    except ValueError:
        items = []
    if not items or any(item not in (-1, 0, 1) for item in items):
        raise AlgorithmError(
            f"ClientError: Hyperparameter monotone_constraints={text!r} must be a tuple of -1, "
            "0 and 1, one per feature, e.g. '(1,0,-1)'."
        )
    return "(" + ",".join(map(str, items)) + ")"


def _interactions(text: str) -> str:
    """``[[0,1],[2,3]]``: lists of feature indices that may interact."""
    try:
        groups = json.loads(text)
    except ValueError:
        groups = None
    valid = (
        isinstance(groups, list)
        and bool(groups)
        and all(
            isinstance(group, list)
            and bool(group)
            and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in group)
            for group in groups
        )
    )
    if not valid:
        raise AlgorithmError(
            f"ClientError: Hyperparameter interaction_constraints={text!r} must be a nested "
            "list of feature indices, e.g. '[[0,1],[2,3,4]]'."
        )
    return json.dumps(groups, separators=(",", ":"))


_AT = re.compile(r"(error|ndcg|map|pre)@([0-9]+(?:\.[0-9]*)?)(-?)")


def _is_metric(metric: str) -> bool:
    """A metric name XGBoost or the program knows: ``auc``, ``error@0.7``, ``ndcg@5-``…"""
    if metric in (*XGBOOST_METRICS, *CONTAINER_METRICS, "ndcg-", "map-"):
        return True
    match = _AT.fullmatch(metric)
    if match is None:
        return False
    name, threshold, minus = match.groups()
    if name == "error":
        return not minus
    return threshold.isdigit()


def _eval_metrics(metrics: list[str], objective: str) -> list[str]:
    """Checks each ``eval_metric`` and its fit with the objective; drops repeats."""
    chosen: list[str] = []
    for metric in metrics:
        if not _is_metric(metric):
            raise AlgorithmError(
                f"ClientError: Hyperparameter eval_metric={metric!r} is not a metric of the "
                f"{ALGORITHM} algorithm; choose from {', '.join(_KNOWN)} (error@t, ndcg@n, "
                "map@n and pre@n take a threshold)."
            )
        _check_fit(metric, objective)
        if metric not in chosen:
            chosen.append(metric)
    return chosen


def _check_fit(metric: str, objective: str) -> None:
    base = metric_base(metric)
    if base in ("auc", "aucpr") and not objective.startswith((*_CLASSIFICATION, "rank:")):
        raise AlgorithmError(
            f"ClientError: Metric {metric!r} can only be applied to classification and ranking "
            f"objectives (binary:*, multi:*, rank:*), not objective={objective}."
        )
    if base in ("aft-nloglik", "interval-regression-accuracy") and objective != "survival:aft":
        raise AlgorithmError(
            f"ClientError: Metric {metric!r} can only be applied to objective survival:aft, "
            f"not objective={objective}."
        )
    if base in _CLASS_METRICS and not objective.startswith(_CLASSIFICATION):
        raise AlgorithmError(
            f"ClientError: Metric {metric!r} needs a classification objective (binary:* or "
            f"multi:*), not objective={objective}."
        )


def _tuning_metric(objective_metric: str | None, objective: str) -> str | None:
    """``validation:auc`` (the tuner's objective, passed as ``_tuning_objective_metric``) →
    ``auc``, so the metric is evaluated even when eval_metric does not name it."""
    if not objective_metric or ":" not in objective_metric:
        return None
    data, _, metric = objective_metric.partition(":")
    if data not in ("train", "validation"):
        return None
    if not _is_metric(metric):
        raise AlgorithmError(
            f"ClientError: The tuning objective {objective_metric!r} is not a metric of the "
            f"{ALGORITHM} algorithm; use train:<metric> or validation:<metric> with one of "
            f"{', '.join(_KNOWN)}."
        )
    _check_fit(metric, objective)
    return metric
