"""The console's parameter importance: each parameter's rank correlation with the objective."""

from __future__ import annotations

import pytest

from sageyard.server.console.views import importance


def _trial(objective: float | None, **parameters: object) -> dict[str, object]:
    return {"objective": objective, "parameters": parameters}


def test_the_parameter_that_orders_the_objective_is_the_important_one() -> None:
    trials = [_trial(float(x), x=str(x), y=str(y)) for x, y in [(1, 3), (2, 1), (3, 4), (4, 2)]]
    found = importance(trials)
    assert found["x"] > found["y"]
    assert sum(found.values()) == pytest.approx(1.0)


def test_categories_are_ranked_by_their_mean_objective() -> None:
    pairs = [(1.0, "sgd"), (1.2, "sgd"), (5.0, "adam"), (5.5, "adam")]
    trials = [_trial(value, opt=name) for value, name in pairs]
    assert importance(trials) == {"opt": pytest.approx(1.0)}


def test_fewer_than_three_scored_trials_say_nothing() -> None:
    assert importance([_trial(1.0, x="1"), _trial(None, x="2"), _trial(2.0, x="3")]) == {}
