"""Branin-Hoo as a training script (minimise).

    python branin.py --x1 3.14159 --x2 2.275    # prints "objective: 0.3978873577"

Domain x1 in [-5, 10], x2 in [0, 15]; global minimum 0.397887 at (-pi, 12.275),
(pi, 2.275) and (9.42478, 2.475).
"""

import argparse
import math

BOUNDS = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}
MINIMUM = 0.397887357729738


def branin(x1: float, x2: float) -> float:
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--x1", type=float, required=True)
    parser.add_argument("--x2", type=float, required=True)
    args, _ = parser.parse_known_args()  # a tuning job adds --_tuning_objective_metric
    print(f"objective: {branin(args.x1, args.x2):.10g}")
