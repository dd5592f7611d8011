"""What the k-means container declares: ``PROGRAM``, its :class:`ProgramSpec`.

Names, defaults and valid values follow SageMaker's k-means algorithm; ``HYPERPARAMETERS``
and ``NO_EFFECT`` are also read by ``config``. Light on purpose: the facade imports this
module, so it imports neither numpy nor scikit-learn.

Example:
    >>> from sageyard.programs.kmeans.spec import PROGRAM
    >>> [d.name for d in PROGRAM.metric_definitions][:2]
    ['test:msd', 'test:ssd']
    >>> sorted(PROGRAM.tunable_ranges)
    ['epochs', 'extra_center_factor', 'init_method', 'mini_batch_size']
"""

from __future__ import annotations

from sageyard.core.parameter import CategoricalParameter, IntegerParameter
from sageyard.programs._common import CONTAINER_METRICS, QUALITY_METRIC, Hyperparameter
from sageyard.programs._spec import ProgramSpec

__all__ = ["ALGORITHM", "HYPERPARAMETERS", "NO_EFFECT", "PROGRAM"]

ALGORITHM = "k-means"

# Accepted as SageMaker's container accepts them, but without effect here (the program logs so).
NO_EFFECT = (
    "force_dense",
    "_kvstore",
    "_num_gpus",
    "_num_kv_servers",
    "_num_slices",
    "_log_level",
    "_enable_profiler",
    "_disable_wait_to_read",
)

HYPERPARAMETERS: list[Hyperparameter] = [
    Hyperparameter("k", "int", required=True, minimum=1),
    Hyperparameter("feature_dim", "int", required=True, minimum=1),
    Hyperparameter("epochs", "int", default=1, minimum=1),
    Hyperparameter("init_method", "str", default="random", choices=("random", "kmeans++")),
    Hyperparameter("mini_batch_size", "int", default=5000, minimum=1),
    # "auto" or a positive integer; checked by ``config.parse_config``
    Hyperparameter("extra_center_factor", "str", default="auto"),
    Hyperparameter("local_lloyd_max_iter", "int", default=300, minimum=1),
    Hyperparameter("local_lloyd_tol", "float", default=0.0001, minimum=0),
    Hyperparameter(
        "local_lloyd_init_method", "str", default="kmeans++", choices=("random", "kmeans++")
    ),
    # "auto" or a positive integer; checked by ``config.parse_config``
    Hyperparameter("local_lloyd_num_trials", "str", default="auto"),
    Hyperparameter("half_life_time_size", "int", default=0, minimum=0),
    Hyperparameter("eval_metrics", "str_list", default=["msd"], choices=("msd", "ssd")),
    *(Hyperparameter(name, "str") for name in NO_EFFECT),
]

PROGRAM = ProgramSpec(
    name="kmeans",
    module="sageyard.programs.kmeans",
    display_name=ALGORITHM,
    image_repositories=("kmeans",),
    hyperparameters=HYPERPARAMETERS,
    metrics={
        "test:msd": QUALITY_METRIC + r"test msd <loss>=(\S+)",
        "test:ssd": QUALITY_METRIC + r"test ssd <loss>=(\S+)",
        "train:msd": QUALITY_METRIC + r"train msd <loss>=(\S+)",
        **CONTAINER_METRICS,
    },
    # SageMaker's recommended ranges ("Tune a k-means model"). A mini_batch_size above the
    # number of rows is used as "all rows" by the program, so the range suits small data too.
    tunable_ranges={
        "extra_center_factor": IntegerParameter(4, 10),
        "init_method": CategoricalParameter(["kmeans++", "random"]),
        "mini_batch_size": IntegerParameter(3000, 15000),
        "epochs": IntegerParameter(1, 10),
    },
)
