"""A small, real training script: logistic regression by gradient descent, pure Python.

Reads CSV files (label in column 0) from the `train` and `validation` channels, trains for
`--epochs` epochs, prints the metrics SageMaker-style, and saves the model in SM_MODEL_DIR.
"""

import argparse
import glob
import json
import math
import os


def load(channel: str) -> list[list[float]]:
    rows = []
    for path in sorted(glob.glob(os.path.join(os.environ[f"SM_CHANNEL_{channel}"], "*.csv"))):
        with open(path) as f:
            rows += [[float(v) for v in line.split(",")] for line in f if line.strip()]
    return rows


def predict(w: list[float], x: list[float]) -> float:
    z = w[0] + sum(wi * xi for wi, xi in zip(w[1:], x, strict=True))
    return 1 / (1 + math.exp(-max(min(z, 30), -30)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=0.5)
    args = parser.parse_args()
    train, validation = load("TRAIN"), load("VALIDATION")
    w = [0.0] * len(train[0])
    for epoch in range(1, args.epochs + 1):
        loss = 0.0
        for y, *x in train:
            p = predict(w, x)
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            w[0] -= args.learning_rate * (p - y) / len(train)
            for i, xi in enumerate(x):
                w[i + 1] -= args.learning_rate * (p - y) * xi / len(train)
        correct = sum((predict(w, x) > 0.5) == (y > 0.5) for y, *x in validation)
        print(f"epoch {epoch}: Train Loss: {loss / len(train):.4f}")
        print(f"epoch {epoch}: Validation Accuracy: {correct / len(validation):.4f}")
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
        json.dump({"weights": w}, f)


if __name__ == "__main__":
    main()
