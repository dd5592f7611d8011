"""A linear learner job's hyperparameters as one checked, typed :class:`LinearConfig`.

Pure Python (no numpy), so a bad request is reported before any data is read. ``auto``
values are resolved here as documented on :class:`LinearConfig`; where SageMaker's container
decides from the data, the program does (``None`` below).

Example:
    >>> config, notes = parse_config({"predictor_type": "binary_classifier"})
    >>> config.loss, config.optimizer, config.epochs, config.num_models
    ('logistic', 'adam', 15, 5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sageyard.programs._common import AlgorithmError, parse_hyperparameters
from sageyard.programs.linear_learner.spec import ALGORITHM, HYPERPARAMETERS, LOSSES, NO_EFFECT

__all__ = ["AUTO_LEARNING_RATE", "AUTO_NUM_MODELS", "LinearConfig", "parse_config"]

# ``learning_rate=auto``: this rate for model 0, the other parallel models spread around it.
AUTO_LEARNING_RATE = {"adam": 0.01, "rmsprop": 0.01, "sgd": 0.1}
# ``num_models=auto``: this many models when the learning rate is auto and the job is not a
# tuning trial (a tuning job tunes the rate itself, so SageMaker then trains one model).
AUTO_NUM_MODELS = 5
# What the other ``auto`` values mean.
AUTO_BETA_1, AUTO_BETA_2 = 0.9, 0.999
AUTO_BIAS_LR_MULT, AUTO_BIAS_WD_MULT = 1.0, 0.0
AUTO_LR_SCHEDULER_FACTOR, AUTO_LR_SCHEDULER_MINIMUM_LR = 0.99, 1e-5


@dataclass(frozen=True)
class LinearConfig:
    """The hyperparameters of one linear learner job, with ``auto`` resolved.

    ``lr_scheduler_step=None`` means once per epoch; ``positive_example_weight_mult=None``
    means ``balanced`` (also what ``auto`` means here): negatives / positives in the data.
    """

    predictor_type: str
    loss: str
    optimizer: str = "adam"
    num_classes: int | None = None
    feature_dim: int | None = None
    epochs: int = 15
    mini_batch_size: int = 1000
    learning_rate: float = 0.01
    num_models: int = 1
    l1: float = 0.0
    wd: float = 0.0
    momentum: float = 0.0
    beta_1: float = AUTO_BETA_1
    beta_2: float = AUTO_BETA_2
    bias_lr_mult: float = AUTO_BIAS_LR_MULT
    bias_wd_mult: float = AUTO_BIAS_WD_MULT
    use_bias: bool = True
    normalize_data: bool = True
    normalize_label: bool = False
    unbias_data: bool = True
    unbias_label: bool = False
    num_point_for_scaler: int = 10_000
    use_lr_scheduler: bool = True
    lr_scheduler_step: int | None = None
    lr_scheduler_factor: float = AUTO_LR_SCHEDULER_FACTOR
    lr_scheduler_minimum_lr: float = AUTO_LR_SCHEDULER_MINIMUM_LR
    init_method: str = "uniform"
    init_scale: float = 0.07
    init_sigma: float = 0.01
    init_bias: float = 0.0
    early_stopping_patience: int = 3
    early_stopping_tolerance: float = 0.001
    binary_classifier_model_selection_criteria: str = "accuracy"
    target_precision: float = 0.8
    target_recall: float = 0.8
    f_beta: float = 1.0
    positive_example_weight_mult: float | None = 1.0
    balance_multiclass_weights: bool = False
    accuracy_top_k: int = 3
    margin: float = 1.0
    quantile: float = 0.5
    loss_insensitivity: float = 0.01
    huber_delta: float = 1.0
    num_calibration_samples: int = 10_000_000

    @property
    def outputs(self) -> int:
        """Scores per row: one per class for multiclass, else one."""
        if self.predictor_type == "multiclass_classifier":
            assert self.num_classes is not None
            return self.num_classes
        return 1


def _fail(name: str, value: Any, rule: str) -> AlgorithmError:
    return AlgorithmError(
        f"ClientError: Hyperparameter {name}={value!r} of the {ALGORITHM} algorithm must be {rule}."
    )


def _auto_number(
    name: str,
    value: Any,
    rule: str,
    *,
    low: float | None = None,
    low_open: bool = False,
    high: float | None = None,
    high_open: bool = False,
    integer: bool = False,
) -> float | None:
    """``None`` for ``auto``, else the number, checked against its bounds."""
    text = str(value).strip()
    if text.lower() == "auto":
        return None
    try:
        number = float(text)
    except ValueError:
        raise _fail(name, value, rule) from None
    ok = math.isfinite(number) and (not integer or number.is_integer())
    if low is not None:
        ok = ok and (number > low if low_open else number >= low)
    if high is not None:
        ok = ok and (number < high if high_open else number <= high)
    if not ok:
        raise _fail(name, value, rule)
    return number


def _auto_bool(value: str, auto: bool) -> bool:
    return auto if value == "auto" else value == "true"


def parse_config(raw: dict[str, str]) -> tuple[LinearConfig, list[str]]:
    """The checked configuration, and notes on hyperparameters given that have no effect.

    Raises:
        AlgorithmError: An unknown, missing, mistyped or out-of-range hyperparameter, or
            one that does not fit the predictor type (e.g. multiclass without num_classes).
    """
    values = parse_hyperparameters(HYPERPARAMETERS, raw, ALGORITHM)
    notes = [
        f"Hyperparameter {name}={raw[name]!r} has no effect in sageyard's {ALGORITHM}."
        for name in NO_EFFECT
        if name in raw
    ]
    predictor = values["predictor_type"]

    def ignored(name: str, why: str) -> None:
        if name in raw:
            notes.append(f"Hyperparameter {name}={raw[name]!r} has no effect: {why}.")

    num_classes = values["num_classes"]
    if predictor == "multiclass_classifier":
        if num_classes is None:
            raise AlgorithmError(
                "ClientError: Hyperparameter num_classes is required when predictor_type is "
                "multiclass_classifier; set num_classes to the number of classes (3 or more; "
                "labels 0 … num_classes-1)."
            )
    else:
        ignored("num_classes", f"predictor_type is {predictor}")
        num_classes = None
    allowed = LOSSES[predictor]
    loss = allowed[0] if values["loss"] == "auto" else values["loss"]
    if loss not in allowed:
        raise AlgorithmError(
            f"ClientError: Hyperparameter loss={loss!r} does not fit predictor_type={predictor}; "
            f"choose auto or one of {', '.join(allowed)}."
        )
    optimizer = "adam" if values["optimizer"] == "auto" else values["optimizer"]
    rate = _auto_number(
        "learning_rate", values["learning_rate"], "'auto' or a number > 0", low=0, low_open=True
    )
    models = _auto_number(
        "num_models", values["num_models"], "'auto' or a positive integer", low=1, integer=True
    )
    if models is None:
        tuning = "_tuning_objective_metric" in raw
        models = 1 if tuning or rate is not None else AUTO_NUM_MODELS
    weight_mult: float | None
    text = str(values["positive_example_weight_mult"]).strip().lower()
    if text in ("auto", "balanced"):
        weight_mult = None
    else:
        weight_mult = _auto_number(
            "positive_example_weight_mult",
            values["positive_example_weight_mult"],
            "'auto', 'balanced' or a number > 0",
            low=0,
            low_open=True,
        )
    if predictor != "binary_classifier":
        for name in (
            "positive_example_weight_mult",
            "binary_classifier_model_selection_criteria",
            "target_precision",
            "target_recall",
        ):
            ignored(name, f"predictor_type is {predictor}")
    if predictor != "multiclass_classifier":
        for name in ("balance_multiclass_weights", "accuracy_top_k"):
            ignored(name, f"predictor_type is {predictor}")
    if predictor != "regressor" and values["normalize_label"] == "true":
        ignored("normalize_label", "labels of a classifier are never normalised")
    if optimizer != "adam":
        for name in ("beta_1", "beta_2"):
            ignored(name, f"optimizer is {optimizer}, not adam")
    if optimizer == "adam":
        ignored("momentum", "optimizer is adam (beta_1 plays its part)")
    loss_parameters = {
        "margin": "hinge_loss",
        "quantile": "quantile_loss",
        "huber_delta": "huber_loss",
    }
    for name, owner in loss_parameters.items():
        if loss != owner:
            ignored(name, f"loss is {loss}, not {owner}")
    if not loss.startswith("eps_insensitive"):
        ignored("loss_insensitivity", f"loss is {loss}, not an eps_insensitive loss")

    def number(name: str, rule: str, default: float, **bounds: Any) -> float:
        found = _auto_number(name, values[name], rule, **bounds)
        return default if found is None else found

    feature_dim = _auto_number(
        "feature_dim", values["feature_dim"], "'auto' or a positive integer", low=1, integer=True
    )
    step = _auto_number(
        "lr_scheduler_step",
        values["lr_scheduler_step"],
        "'auto' or a positive integer",
        low=1,
        integer=True,
    )
    use_bias = values["use_bias"]
    regressor = predictor == "regressor"
    normalize_label = regressor and _auto_bool(values["normalize_label"], True)
    config = LinearConfig(
        predictor_type=predictor,
        loss=loss,
        optimizer=optimizer,
        num_classes=num_classes,
        feature_dim=None if feature_dim is None else int(feature_dim),
        epochs=values["epochs"],
        mini_batch_size=values["mini_batch_size"],
        learning_rate=AUTO_LEARNING_RATE[optimizer] if rate is None else rate,
        num_models=int(models),
        l1=number("l1", "'auto' or a number >= 0", 0.0, low=0),
        wd=number("wd", "'auto' or a number >= 0", 0.0, low=0),
        momentum=number("momentum", "'auto' or a number in [0, 1)", 0.0, low=0, high=1,
                        high_open=True),
        beta_1=number("beta_1", "'auto' or a number in [0, 1)", AUTO_BETA_1, low=0, high=1,
                      high_open=True),
        beta_2=number("beta_2", "'auto' or a number in [0, 1)", AUTO_BETA_2, low=0, high=1,
                      high_open=True),
        bias_lr_mult=number("bias_lr_mult", "'auto' or a number > 0", AUTO_BIAS_LR_MULT, low=0,
                            low_open=True),
        bias_wd_mult=number("bias_wd_mult", "'auto' or a number >= 0", AUTO_BIAS_WD_MULT, low=0),
        use_bias=use_bias,
        normalize_data=_auto_bool(values["normalize_data"], True),
        normalize_label=normalize_label,
        unbias_data=_auto_bool(values["unbias_data"], use_bias),
        unbias_label=regressor and _auto_bool(values["unbias_label"], use_bias),
        num_point_for_scaler=values["num_point_for_scaler"],
        use_lr_scheduler=values["use_lr_scheduler"],
        lr_scheduler_step=None if step is None else int(step),
        lr_scheduler_factor=number("lr_scheduler_factor", "'auto' or a number in (0, 1]",
                                   AUTO_LR_SCHEDULER_FACTOR, low=0, low_open=True, high=1),
        lr_scheduler_minimum_lr=number("lr_scheduler_minimum_lr", "'auto' or a number > 0",
                                       AUTO_LR_SCHEDULER_MINIMUM_LR, low=0, low_open=True),
        init_method=values["init_method"],
        init_scale=values["init_scale"],
        init_sigma=values["init_sigma"],
        init_bias=values["init_bias"],
        early_stopping_patience=values["early_stopping_patience"],
        early_stopping_tolerance=values["early_stopping_tolerance"],
        binary_classifier_model_selection_criteria=values[
            "binary_classifier_model_selection_criteria"
        ],
        target_precision=values["target_precision"],
        target_recall=values["target_recall"],
        f_beta=values["f_beta"],
        positive_example_weight_mult=weight_mult,
        balance_multiclass_weights=values["balance_multiclass_weights"],
        accuracy_top_k=values["accuracy_top_k"],
        margin=values["margin"],
        quantile=values["quantile"],
        loss_insensitivity=values["loss_insensitivity"],
        huber_delta=values["huber_delta"],
        num_calibration_samples=values["num_calibration_samples"],
    )  # fmt: skip
    return config, notes
