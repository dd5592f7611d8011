"""The tuning examples' training script: a tiny MLP on a synthetic data set, pure Python.

The data set is made here with a fixed seed, so the script needs no input channel: two
interleaving half-moons in 2-D (with noise), 512 training points (``--train_rows``) and
256 validation points. The model is a one-hidden-layer MLP (tanh, inverted dropout on the
hidden layer), trained with mini-batch SGD (with momentum), RMSprop, Adam or AdamW on the
log loss; ``--hidden_size 0`` makes it a logistic regression, which separates the moons
less well.

Every hyperparameter the examples tune changes the result: a learning rate too small
barely moves in the few epochs given and one too large oscillates, a large batch size
makes few updates per epoch, a high dropout adds noise, and the optimizers differ.

Each epoch prints one line the examples' metric definitions read::

    Epoch 3/10 - Train Loss: 0.3121 - Val Acc: 0.8711 - Val F1: 0.8693

Unknown arguments (such as ``--_tuning_objective_metric`` that a tuning job adds) are
ignored. The model is saved as JSON to SM_MODEL_DIR.
"""

import argparse
import json
import math
import os
import random

VAL_ROWS = 256


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "sgd", "rmsprop"])
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--hidden_size", type=int, default=16)
    parser.add_argument("--weight_decay", type=float, default=0.0)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train_rows", type=int, default=512)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    args, _unknown = parser.parse_known_args()  # e.g. --_tuning_objective_metric
    return args


def moons(rows: int, seed: int) -> list[tuple[list[float], int]]:
    """Two interleaving half-moons with Gaussian noise (fixed seed)."""
    rng = random.Random(seed)
    data = []
    for i in range(rows):
        label = i % 2
        angle = rng.uniform(0, math.pi)
        if label == 0:
            x, y = math.cos(angle), math.sin(angle)
        else:
            x, y = 1 - math.cos(angle), 0.5 - math.sin(angle)
        data.append(([x + rng.gauss(0, 0.2), y + rng.gauss(0, 0.2)], label))
    return data


class MLP:
    """2 → hidden (tanh) → 1 (sigmoid); with ``hidden == 0``, 2 → 1 (logistic regression)."""

    def __init__(self, hidden: int, rng: random.Random) -> None:
        self.hidden = hidden
        inputs = hidden if hidden else 2
        # params: [w1 (hidden x 2), b1 (hidden), w2 (inputs), b2] as one flat list
        self.params = [rng.gauss(0, 1.0) for _ in range(hidden * 2)] + [0.0] * hidden
        self.params += [0.0] * (inputs + 1)  # the output layer starts at zero: p = 0.5

    def _split(self) -> tuple[int, int, int]:
        h = self.hidden
        return 2 * h, 3 * h, 3 * h + (h if h else 2)

    def forward(self, x: list[float], mask: list[float] | None = None) -> tuple[float, list[float]]:
        p, h = self.params, self.hidden
        b1, w2, b2 = self._split()
        if h:
            act = [math.tanh(p[2 * j] * x[0] + p[2 * j + 1] * x[1] + p[b1 + j]) for j in range(h)]
            if mask is not None:
                act = [a * m for a, m in zip(act, mask, strict=True)]
        else:
            act = x
        z = sum(w * a for w, a in zip(p[w2:b2], act, strict=True)) + p[b2]
        return 1 / (1 + math.exp(-max(min(z, 30.0), -30.0))), act

    def gradient(
        self, batch: list[tuple[list[float], int]], dropout: float, rng: random.Random
    ) -> list[float]:
        p, h = self.params, self.hidden
        b1, w2, b2 = self._split()
        grad = [0.0] * len(p)
        keep = 1 - dropout
        for x, label in batch:
            mask = [(rng.random() < keep) / keep for _ in range(h)] if h and dropout else None
            prob, act = self.forward(x, mask)
            error = (prob - label) / len(batch)
            for j, a in enumerate(act):
                grad[w2 + j] += error * a
            grad[b2] += error
            for j in range(h):
                if act[j] == 0.0 and mask is not None:
                    continue
                m = mask[j] if mask is not None else 1.0
                pre = act[j] / m  # tanh of the pre-activation
                back = error * p[w2 + j] * m * (1 - pre * pre)
                grad[2 * j] += back * x[0]
                grad[2 * j + 1] += back * x[1]
                grad[b1 + j] += back
        return grad


class Optimizer:
    def __init__(self, kind: str, lr: float, weight_decay: float, momentum: float, size: int):
        self.kind, self.lr, self.wd, self.momentum = kind, lr, weight_decay, momentum
        self.m, self.v, self.t = [0.0] * size, [0.0] * size, 0

    def step(self, params: list[float], grad: list[float]) -> None:
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for i, g in enumerate(grad):
            if self.kind != "adamw":
                g += self.wd * params[i]
            if self.kind == "sgd":
                self.m[i] = self.momentum * self.m[i] + g
                params[i] -= self.lr * self.m[i]
            elif self.kind == "rmsprop":
                self.v[i] = 0.99 * self.v[i] + 0.01 * g * g
                params[i] -= self.lr * g / (math.sqrt(self.v[i]) + eps)
            else:  # adam / adamw
                self.m[i] = b1 * self.m[i] + (1 - b1) * g
                self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
                m_hat, v_hat = self.m[i] / (1 - b1**self.t), self.v[i] / (1 - b2**self.t)
                params[i] -= self.lr * m_hat / (math.sqrt(v_hat) + eps)
                if self.kind == "adamw":
                    params[i] -= self.lr * self.wd * params[i]


def evaluate(model: MLP, rows: list[tuple[list[float], int]]) -> tuple[float, float, float]:
    """Log loss, accuracy and F1 (of class 1)."""
    loss, tp, fp, fn, correct = 0.0, 0, 0, 0, 0
    for x, label in rows:
        prob, _ = model.forward(x)
        loss -= label * math.log(prob + 1e-12) + (1 - label) * math.log(1 - prob + 1e-12)
        predicted = int(prob > 0.5)
        correct += predicted == label
        tp += predicted and label
        fp += predicted and not label
        fn += label and not predicted
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return loss / len(rows), correct / len(rows), f1


def main() -> None:
    args = parse_args()
    if not 0 <= args.dropout < 1:
        raise SystemExit(f"--dropout must be in [0, 1), but got {args.dropout}")
    train, validation = moons(args.train_rows, seed=1), moons(VAL_ROWS, seed=2)
    rng = random.Random(args.seed)
    model = MLP(args.hidden_size, rng)
    optimizer = Optimizer(
        args.optimizer, args.learning_rate, args.weight_decay, args.momentum, len(model.params)
    )
    print(
        f"MLP with {args.hidden_size} hidden units, {args.optimizer} lr={args.learning_rate:g} "
        f"batch_size={args.batch_size} dropout={args.dropout:g}, {args.epochs} epochs",
        flush=True,
    )
    for epoch in range(1, args.epochs + 1):
        order = list(range(len(train)))
        rng.shuffle(order)
        for start in range(0, len(order), args.batch_size):
            batch = [train[i] for i in order[start : start + args.batch_size]]
            optimizer.step(model.params, model.gradient(batch, args.dropout, rng))
        train_loss, _, _ = evaluate(model, train)
        _, val_acc, val_f1 = evaluate(model, validation)
        print(
            f"Epoch {epoch}/{args.epochs} - Train Loss: {train_loss:.4f} - "
            f"Val Acc: {val_acc:.4f} - Val F1: {val_f1:.4f}",
            flush=True,
        )

    os.makedirs(args.model_dir, exist_ok=True)
    with open(os.path.join(args.model_dir, "model.json"), "w") as f:
        json.dump({"hidden_size": args.hidden_size, "params": model.params}, f)


if __name__ == "__main__":
    main()
