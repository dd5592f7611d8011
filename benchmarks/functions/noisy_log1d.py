"""A noisy 1-D function of a log-scaled parameter, as a training script (minimise).

    python noisy_log1d.py --learning_rate 0.003

It looks like a validation loss against the learning rate over [1e-5, 1]: a wide valley
with a ripple, smallest (0.1143) near learning_rate = 0.0096, plus Gaussian noise
(sigma 0.05). The noise is drawn from a generator seeded with the value asked, so the
same point always gives the same observation and runs are reproducible. It prints the
noisy ``objective`` that tuning sees and the ``noise-free value``.
"""

import argparse
import math
import random

LOW, HIGH = 1e-5, 1.0
NOISE = 0.05


def true_value(learning_rate: float) -> float:
    u = math.log10(learning_rate)  # in [-5, 0]
    return 0.15 * (u + 2.3) ** 2 + 0.1 * math.sin(4 * u) + 0.2


def observe(learning_rate: float) -> float:
    noise = random.Random(repr(float(learning_rate))).gauss(0, NOISE)
    return true_value(learning_rate) + noise


def minimum(points: int = 200_001) -> tuple[float, float]:
    """The noise-free minimum over a fine log grid: (value, learning_rate)."""
    grid = (LOW * (HIGH / LOW) ** (i / (points - 1)) for i in range(points))
    return min((true_value(lr), lr) for lr in grid)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, required=True)
    args, _ = parser.parse_known_args()  # a tuning job adds --_tuning_objective_metric
    print(f"objective: {observe(args.learning_rate):.10g}")
    print(f"noise-free value: {true_value(args.learning_rate):.10g}")
