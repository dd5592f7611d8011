"""A training script written for SageMaker: logistic regression, mini-batch Adam, pure Python.

Reads JSON lines ({"x1": ..., "x2": ..., "label": 0 or 1}) from the "training" and
"validation" channels, prints "Train Loss: ..." and "Validation Accuracy: ..." each epoch,
checkpoints to /opt/ml/checkpoints (when the job has a CheckpointConfig) and resumes from
the latest checkpoint, and saves the model to SM_MODEL_DIR.

On a multi-host job every host trains the same replica on the full data set (the channels
are FullyReplicated) and prints its metrics; only the first host writes checkpoints and the
model.
"""

import argparse
import glob
import json
import math
import os
import random

CHECKPOINT_DIR = "/opt/ml/checkpoints"
FEATURES = ("x1", "x2")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learning_rate", type=float, default=0.001)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    return parser.parse_args()


def load(folder: str) -> list[tuple[list[float], int]]:
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json*"))):
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    rows.append(([float(record[name]) for name in FEATURES], int(record["label"])))
    if not rows:
        raise ValueError(f"no JSON lines found in {folder}")
    return rows


def predict(weights: list[float], x: list[float]) -> float:
    z = weights[0] + sum(w * xi for w, xi in zip(weights[1:], x, strict=True))
    return 1 / (1 + math.exp(-max(min(z, 30.0), -30.0)))


def log_loss(weights: list[float], rows: list[tuple[list[float], int]]) -> float:
    total = 0.0
    for x, y in rows:
        p = predict(weights, x)
        total -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
    return total / len(rows)


def accuracy(weights: list[float], rows: list[tuple[list[float], int]]) -> float:
    return sum((predict(weights, x) > 0.5) == (y == 1) for x, y in rows) / len(rows)


def latest_checkpoint() -> dict | None:
    paths = sorted(glob.glob(os.path.join(CHECKPOINT_DIR, "checkpoint-epoch-*.json")))
    if not paths:
        return None
    with open(paths[-1]) as f:
        return json.load(f)


def save_checkpoint(state: dict) -> None:
    path = os.path.join(CHECKPOINT_DIR, f"checkpoint-epoch-{state['epoch']:04d}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(path + ".tmp", path)


def main() -> None:
    args = parse_args()
    hosts = json.loads(os.environ.get("SM_HOSTS", '["algo-1"]'))
    current_host = os.environ.get("SM_CURRENT_HOST", "algo-1")
    is_leader = current_host == hosts[0]
    checkpoints = os.path.isdir(CHECKPOINT_DIR)
    train, validation = load(args.train), load(args.validation)
    print(
        f"{current_host} of {len(hosts)} host(s): {len(train)} training rows, "
        f"{len(validation)} validation rows"
    )

    # Adam state: weights[0] is the bias.
    state = {"epoch": 0, "weights": [0.0] * 3, "m": [0.0] * 3, "v": [0.0] * 3, "step": 0}
    resumed = latest_checkpoint() if checkpoints else None
    if resumed is not None:
        state = resumed
        print(f"Resuming from the checkpoint of epoch {state['epoch']}")
    first_epoch = state["epoch"] + 1
    w, m, v = state["weights"], state["m"], state["v"]
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    for epoch in range(first_epoch, args.epochs + 1):
        order = list(range(len(train)))
        random.Random(epoch).shuffle(order)  # seeded: a resumed job continues identically
        for start in range(0, len(order), args.batch_size):
            batch = [train[i] for i in order[start : start + args.batch_size]]
            grad = [0.0] * 3
            for x, y in batch:
                error = predict(w, x) - y
                grad[0] += error / len(batch)
                for i, xi in enumerate(x):
                    grad[i + 1] += error * xi / len(batch)
            state["step"] += 1
            t = state["step"]
            for i, g in enumerate(grad):
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                m_hat, v_hat = m[i] / (1 - beta1**t), v[i] / (1 - beta2**t)
                w[i] -= args.learning_rate * m_hat / (math.sqrt(v_hat) + eps)
        state["epoch"] = epoch
        print(
            f"Epoch {epoch}/{args.epochs} - Train Loss: {log_loss(w, train):.4f} - "
            f"Validation Accuracy: {accuracy(w, validation):.4f}"
        )
        if checkpoints and is_leader:
            save_checkpoint(state)

    if first_epoch > args.epochs:
        print(f"The checkpoint is at epoch {state['epoch']} already; nothing left to train")
        print(
            f"Train Loss: {log_loss(w, train):.4f} - "
            f"Validation Accuracy: {accuracy(w, validation):.4f}"
        )

    if is_leader:
        model = {"features": list(FEATURES), "bias": w[0], "weights": w[1:]}
        os.makedirs(args.model_dir, exist_ok=True)
        with open(os.path.join(args.model_dir, "model.json"), "w") as f:
            json.dump(model, f, indent=2)
        print(f"Saved the model to {args.model_dir}/model.json")


if __name__ == "__main__":
    main()
