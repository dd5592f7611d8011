"""A learning curve that ends at Branin, as a training script (minimise), for Hyperband.

    python branin_curve.py --x1 3.14 --x2 2.275 --epochs 27 --epoch_seconds 0.05

Each "epoch" waits ``epoch_seconds`` (the work of an epoch) and prints the objective
reached so far, ``objective: ...``, one value a line; each value is one unit of resource.
The curve falls from 300 towards the Branin value of (x1, x2), faster for some points
than for others (the time constant grows with x2 from 2 to 8 epochs), so a ranking
after a few epochs is a good but imperfect guess of the final one:

    value(t) = branin(x1, x2) + (300 - branin(x1, x2)) * exp(-t / (2 + 6 * x2 / 15))
"""

import argparse
import math
import time

from branin import branin

START = 300.0


def curve(x1: float, x2: float, epoch: int) -> float:
    final = branin(x1, x2)
    return final + (START - final) * math.exp(-epoch / (2 + 6 * x2 / 15))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--x1", type=float, required=True)
    parser.add_argument("--x2", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--epoch_seconds", type=float, default=0.05)
    args, _ = parser.parse_known_args()  # a tuning job adds --_tuning_objective_metric
    for epoch in range(1, args.epochs + 1):
        time.sleep(args.epoch_seconds)
        print(f"objective: {curve(args.x1, args.x2, epoch):.10g}", flush=True)
