"""A training script that only prints its objective: a 2-parameter quadratic.

    python quadratic.py --x 0.5 --y -1.0    # prints "objective: 6.5"

Minimum 0 at (x, y) = (1, -2). Used by ``benchmarks/tuning_overhead.py``.
"""

import argparse


def quadratic(x: float, y: float) -> float:
    return (x - 1) ** 2 + (y + 2) ** 2


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--x", type=float, required=True)
    parser.add_argument("--y", type=float, required=True)
    args, _ = parser.parse_known_args()  # a tuning job adds --_tuning_objective_metric
    print(f"objective: {quadratic(args.x, args.y):.10g}")
