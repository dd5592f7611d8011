"""Results across evaluations as one table: a pandas DataFrame with a row per evaluation,
model, subtask and metric.

Example:
    >>> frame = results_dataframe()  # doctest: +SKIP
    >>> frame.pivot_table(index="subtask", columns="model_role", values="value")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sageyard.train.evaluate.constants import EvalType

if TYPE_CHECKING:
    import pandas

__all__ = ["COLUMNS", "results_dataframe"]

#: The DataFrame's columns, in order.
COLUMNS = (
    "evaluation",
    "name",
    "eval_type",
    "model",
    "model_role",
    "benchmark",
    "subtask",
    "metric",
    "value",
    "stderr",
    "created",
)


def results_dataframe(
    executions: Iterable[Any] | None = None,
    eval_type: EvalType | str | None = None,
    session: Any = None,
) -> pandas.DataFrame:
    """The results of the succeeded evaluations: those given (executions, their ARNs or
    ids), else every one (of ``eval_type`` when given), newest first.

    Columns: :data:`COLUMNS`; ``subtask`` is ``ALL`` for the overall value, ``model_role``
    says whether the row is of the ``custom`` (fine-tuned) or the ``base`` model,
    ``stderr`` is the standard error of the mean where the step reported one.
    """
    import pandas

    from sageyard.train.evaluate.execution import _service

    service = _service(session)
    if executions is None:
        kind = eval_type.value if isinstance(eval_type, EvalType) else eval_type
        names = service.list_names(kind)
    else:
        names = [getattr(e, "arn", None) or str(e) for e in executions]
    return pandas.DataFrame(service.result_rows(names), columns=list(COLUMNS))
