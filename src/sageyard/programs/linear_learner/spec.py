"""What the linear learner container declares: ``PROGRAM``, its :class:`ProgramSpec`.

Names, defaults and valid values follow SageMaker's linear learner; ``HYPERPARAMETERS``,
``LOSSES``, ``NO_EFFECT`` and ``PREDICTOR_TYPES`` are also read by ``config``. Light on
purpose: the facade imports this module, so it imports neither numpy nor scikit-learn.
Values that may be ``auto`` are declared as strings here and checked by
``config.parse_config``.

Example:
    >>> from sageyard.programs.linear_learner.spec import PROGRAM
    >>> names = {d.name for d in PROGRAM.metric_definitions}
    >>> "validation:binary_classification_accuracy" in names
    True
    >>> sorted(PROGRAM.tunable_ranges)[:3]
    ['l1', 'learning_rate', 'mini_batch_size']
"""

from __future__ import annotations

from sageyard.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
from sageyard.programs._common import CONTAINER_METRICS, QUALITY_METRIC, Hyperparameter
from sageyard.programs._spec import ProgramSpec

__all__ = [
    "ALGORITHM",
    "HYPERPARAMETERS",
    "LOSSES",
    "NO_EFFECT",
    "PREDICTOR_TYPES",
    "PROGRAM",
]

ALGORITHM = "linear-learner"

PREDICTOR_TYPES = ("binary_classifier", "multiclass_classifier", "regressor")

# The losses each predictor type accepts; the first is what ``auto`` means.
LOSSES: dict[str, tuple[str, ...]] = {
    "binary_classifier": ("logistic", "hinge_loss"),
    "multiclass_classifier": ("softmax_loss",),
    "regressor": (
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "quantile_loss",
        "huber_loss",
    ),
}

SELECTION_CRITERIA = (
    "accuracy",
    "f_beta",
    "precision_at_target_recall",
    "recall_at_target_precision",
    "loss_function",
)

# Accepted as SageMaker's container accepts them, but without effect here (the program logs so).
NO_EFFECT = (
    "force_dense",
    "_kvstore",
    "_num_gpus",
    "_num_kv_servers",
    "_log_level",
    "_data_format",
)

_AUTO_BOOL = ("auto", "true", "false")


def _h(name: str, kind: str, default: object = None, **kwargs: object) -> Hyperparameter:
    return Hyperparameter(name, kind, default, **kwargs)  # type: ignore[arg-type]


HYPERPARAMETERS: list[Hyperparameter] = [
    _h("predictor_type", "str", required=True, choices=PREDICTOR_TYPES),
    _h("num_classes", "int", minimum=3, maximum=1_000_000),
    _h("feature_dim", "str", "auto"),  # auto or a positive integer
    _h("accuracy_top_k", "int", 3, minimum=1),
    _h("balance_multiclass_weights", "bool", False),
    _h("beta_1", "str", "auto"),  # auto or a number in [0, 1)
    _h("beta_2", "str", "auto"),  # auto or a number in [0, 1)
    _h("bias_lr_mult", "str", "auto"),  # auto or > 0
    _h("bias_wd_mult", "str", "auto"),  # auto or >= 0
    _h(
        "binary_classifier_model_selection_criteria",
        "str",
        "accuracy",
        choices=SELECTION_CRITERIA,
    ),
    _h("early_stopping_patience", "int", 3, minimum=1),
    _h("early_stopping_tolerance", "float", 0.001, minimum=0, exclusive_minimum=True),
    _h("epochs", "int", 15, minimum=1),
    _h("f_beta", "float", 1.0, minimum=0, exclusive_minimum=True),
    _h("huber_delta", "float", 1.0, minimum=0, exclusive_minimum=True),
    _h("init_bias", "float", 0.0),
    _h("init_method", "str", "uniform", choices=("uniform", "normal")),
    _h("init_scale", "float", 0.07, minimum=0, exclusive_minimum=True),
    _h("init_sigma", "float", 0.01, minimum=0, exclusive_minimum=True),
    _h("l1", "str", "auto"),  # auto or >= 0
    _h("learning_rate", "str", "auto"),  # auto or > 0
    _h("loss", "str", "auto", choices=("auto", *sorted({x for v in LOSSES.values() for x in v}))),
    _h("loss_insensitivity", "float", 0.01, minimum=0, exclusive_minimum=True),
    _h("lr_scheduler_factor", "str", "auto"),  # auto or a number in (0, 1]
    _h("lr_scheduler_minimum_lr", "str", "auto"),  # auto or > 0
    _h("lr_scheduler_step", "str", "auto"),  # auto or a positive integer
    _h("margin", "float", 1.0, minimum=0, exclusive_minimum=True),
    _h("mini_batch_size", "int", 1000, minimum=1),
    _h("momentum", "str", "auto"),  # auto or a number in [0, 1)
    _h("normalize_data", "str", "true", choices=_AUTO_BOOL),
    _h("normalize_label", "str", "auto", choices=_AUTO_BOOL),
    _h("num_calibration_samples", "int", 10_000_000, minimum=1),
    _h("num_models", "str", "auto"),  # auto or a positive integer
    _h("num_point_for_scaler", "int", 10_000, minimum=1),
    _h("optimizer", "str", "auto", choices=("auto", "sgd", "adam", "rmsprop")),
    _h("positive_example_weight_mult", "str", "1.0"),  # auto, balanced or > 0
    _h("quantile", "float", 0.5, minimum=0, exclusive_minimum=True, maximum=0.999999),
    _h("target_precision", "float", 0.8, minimum=0, exclusive_minimum=True, maximum=1),
    _h("target_recall", "float", 0.8, minimum=0, exclusive_minimum=True, maximum=1),
    _h("unbias_data", "str", "auto", choices=_AUTO_BOOL),
    _h("unbias_label", "str", "auto", choices=_AUTO_BOOL),
    _h("use_bias", "bool", True),
    _h("use_lr_scheduler", "bool", True),
    _h("wd", "str", "auto"),  # auto or >= 0
    *(_h(name, "str") for name in NO_EFFECT),
]


# What each predictor type logs after training, per channel: metric name → how it is logged
# (``binary_f_1.000``, ``macro_f_1.000`` and ``multiclass_top_k_accuracy_3`` carry a value).
_BINARY = {
    "binary_classification_accuracy": r"binary_classification_accuracy <score>",
    "binary_f_beta": r"binary_f_\S+ <score>",
    "precision": r"precision <score>",
    "recall": r"recall <score>",
    "roc_auc_score": r"roc_auc_score <score>",
}
_MULTICLASS = {
    "multiclass_accuracy": r"multiclass_accuracy <score>",
    "multiclass_top_k_accuracy": r"multiclass_top_k_accuracy_\S+ <score>",
    "dcg": r"dcg <score>",
    "macro_precision": r"macro_precision <score>",
    "macro_recall": r"macro_recall <score>",
    "macro_f_beta": r"macro_f_\S+ <score>",
}
_REGRESSION = {
    "mse": r"mse <loss>",
    "rmse": r"rmse <loss>",
    "absolute_loss": r"absolute_loss <loss>",
}


def _channel(channel: str, metrics: dict[str, str]) -> dict[str, str]:
    return {
        f"{channel}:{name}": QUALITY_METRIC + rf"{channel} {logged}=(\S+)"
        for name, logged in metrics.items()
    }


PROGRAM = ProgramSpec(
    name="linear-learner",
    module="sageyard.programs.linear_learner",
    display_name=ALGORITHM,
    image_repositories=("linear-learner",),
    hyperparameters=HYPERPARAMETERS,
    # As SageMaker's linear learner registers them: ``<channel>:objective_loss`` is the loss
    # logged each epoch (its last value is the final one), ``<channel>:objective_loss:final``
    # the one logged after training; the other metrics are logged once, after training.
    metrics={
        **CONTAINER_METRICS,
        "train:objective_loss": QUALITY_METRIC + r"epoch=\S+, train \S+_objective <loss>=(\S+)",
        "train:objective_loss:final": QUALITY_METRIC + r"train \S+_objective <loss>=(\S+)",
        **_channel("train", {**_BINARY, **_REGRESSION}),
        "validation:objective_loss": QUALITY_METRIC
        + r"epoch=\S+, validation \S+_objective <loss>=(\S+)",
        "validation:objective_loss:final": QUALITY_METRIC
        + r"validation \S+_objective <loss>=(\S+)",
        **_channel("validation", {**_BINARY, **_MULTICLASS, **_REGRESSION}),
        "test:objective_loss": QUALITY_METRIC + r"test \S+_objective <loss>=(\S+)",
        **_channel("test", {**_BINARY, **_MULTICLASS, **_REGRESSION}),
    },
    # SageMaker's recommended ranges ("Tune a linear learner model").
    tunable_ranges={
        "wd": ContinuousParameter(1e-7, 1.0, "Logarithmic"),
        "l1": ContinuousParameter(1e-7, 1.0, "Logarithmic"),
        "learning_rate": ContinuousParameter(1e-5, 1.0, "Logarithmic"),
        "mini_batch_size": IntegerParameter(100, 5000),
        "use_bias": CategoricalParameter(["true", "false"]),
        "positive_example_weight_mult": ContinuousParameter(1e-5, 1e5, "Logarithmic"),
    },
)
