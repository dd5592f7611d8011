"""A v3 notebook's training script: argparse hyperparameters, hard-coded /opt/ml paths."""

import argparse
import csv
import json
import math
import os

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.1)
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()  # a tuning trial's _tuning_objective_metric is no argument


def rows(channel):
    folder = f"/opt/ml/input/data/{channel}"
    data = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as f:
            data += [[float(v) for v in row] for row in csv.reader(f)]
    return data


train, validation = rows("train"), rows("validation")
weights, bias = [0.0, 0.0], 0.0
for epoch in range(args.epochs):
    loss = 0.0
    for x1, x2, label in train:
        p = 1 / (1 + math.exp(-(weights[0] * x1 + weights[1] * x2 + bias)))
        loss -= label * math.log(p + 1e-9) + (1 - label) * math.log(1 - p + 1e-9)
        weights[0] -= args.learning_rate * (p - label) * x1
        weights[1] -= args.learning_rate * (p - label) * x2
        bias -= args.learning_rate * (p - label)
    right = sum(
        ((weights[0] * x1 + weights[1] * x2 + bias) > 0) == (label == 1)
        for x1, x2, label in validation
    )
    print(
        f"epoch={epoch} train:loss={loss / len(train):.4f} "
        f"validation:accuracy={right / len(validation):.4f}"
    )

with open("/opt/ml/model/model.json", "w") as f:
    json.dump({"weights": weights, "bias": bias}, f)
