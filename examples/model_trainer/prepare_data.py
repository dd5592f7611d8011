"""Make the examples' data set and upload it to s3://my-bucket/train and s3://my-bucket/val.

    python examples/model_trainer/prepare_data.py

A simple learnable task, as JSON lines: two features x1 and x2, and a binary label that is 1
when x1 + 2 * x2 > 0 (with a little noise). The files go to sageyard's embedded object store
(under $SAGEYARD_HOME), so the examples' ``s3://my-bucket/...`` URIs work as they are.
"""

import json
import random
import tempfile
from pathlib import Path

from sageyard.train import Session


def write_rows(path: Path, rows: int, seed: int) -> Path:
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(rows):
            x1, x2 = rng.gauss(0, 2), rng.gauss(0, 2)
            label = int(x1 + 2 * x2 + rng.gauss(0, 0.5) > 0)
            f.write(json.dumps({"x1": round(x1, 4), "x2": round(x2, 4), "label": label}) + "\n")
    return path


def prepare() -> tuple[str, str]:
    """Upload 600 training and 200 validation rows; returns their two S3 URIs."""
    session = Session()
    with tempfile.TemporaryDirectory(prefix="sageyard-example-data-") as folder:
        train = write_rows(Path(folder) / "train.jsonl", rows=600, seed=1)
        val = write_rows(Path(folder) / "val.jsonl", rows=200, seed=2)
        session.upload_data(str(train), bucket="my-bucket", key_prefix="train")
        session.upload_data(str(val), bucket="my-bucket", key_prefix="val")
    return "s3://my-bucket/train", "s3://my-bucket/val"


if __name__ == "__main__":
    for uri in prepare():
        print(f"Uploaded {uri}")
