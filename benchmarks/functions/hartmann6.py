"""Hartmann-6 as a training script (minimise).

    python hartmann6.py --x1 0.20169 --x2 0.150011 --x3 0.476874 --x4 0.275332 \\
        --x5 0.311652 --x6 0.6573    # prints "objective: -3.322368..."

Domain [0, 1]^6; global minimum -3.32237 at
(0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
"""

import argparse
import math

NAMES = ("x1", "x2", "x3", "x4", "x5", "x6")
MINIMUM = -3.32236801141551
ALPHA = (1.0, 1.2, 3.0, 3.2)
A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
P = (
    (1312, 1696, 5569, 124, 8283, 5886),
    (2329, 4135, 8307, 3736, 1004, 9991),
    (2348, 1451, 3522, 2883, 3047, 6650),
    (4047, 8828, 8732, 5743, 1091, 381),
)


def hartmann6(x: list[float]) -> float:
    total = 0.0
    for alpha, a, p in zip(ALPHA, A, P, strict=True):
        inner = sum(aj * (xj - pj * 1e-4) ** 2 for aj, xj, pj in zip(a, x, p, strict=True))
        total -= alpha * math.exp(-inner)
    return total


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in NAMES:
        parser.add_argument(f"--{name}", type=float, required=True)
    args, _ = parser.parse_known_args()  # a tuning job adds --_tuning_objective_metric
    print(f"objective: {hartmann6([getattr(args, name) for name in NAMES]):.10g}")
