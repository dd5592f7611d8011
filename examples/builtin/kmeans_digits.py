"""SageMaker's built-in k-means on the digits data set (which ships with scikit-learn).

    python examples/builtin/kmeans_digits.py

Trains with a `test` channel, so the job reports `test:msd`, and compares the clusters with
the true digits.
"""

import tarfile
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sageyard.train import ModelTrainer
from sageyard.train.configs import InputData


def write_csv(folder: Path, features) -> Path:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "digits.csv", "w") as out:
        for row in features:
            out.write(",".join(f"{v:g}" for v in row) + "\n")
    return folder


def main() -> None:
    digits = load_digits()
    x_train, x_test, _, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=0
    )
    root = Path(tempfile.mkdtemp(prefix="sageyard-kmeans-"))
    kmeans = ModelTrainer(
        algorithm_name="kmeans",
        hyperparameters={
            "k": 10,
            "feature_dim": 64,
            "init_method": "kmeans++",
            "epochs": 5,
            "mini_batch_size": 500,
            "eval_metrics": '["msd", "ssd"]',
        },
        base_job_name="kmeans-digits",
    )
    kmeans.train(
        input_data_config=[
            InputData(
                channel_name="train",
                data_source=str(write_csv(root / "train", x_train)),
                content_type="text/csv",
            ),
            InputData(
                channel_name="test",
                data_source=str(write_csv(root / "test", x_test)),
                content_type="text/csv",
            ),
        ],
        logs=False,
    )
    job = kmeans._latest_training_job
    print(f"Training job: {job.training_job_name} ({job.training_job_status})")
    for metric in job.final_metric_data_list:
        print(f"  {metric.metric_name}: {metric.value:.4f}")
    print(f"Model artifacts: {job.model_artifacts}")

    # The model is SageMaker's: model_algo-1 (a numpy array of the k centers) in model.tar.gz.
    session = kmeans.sagemaker_session
    bucket, _, key = job.model_artifacts.s3_model_artifacts.removeprefix("s3://").partition("/")
    (archive,) = session.download_data(str(root / "model"), bucket, key)
    with tarfile.open(archive) as tar:
        tar.extract("model_algo-1", root / "model", filter="data")
    with open(root / "model" / "model_algo-1", "rb") as handle:
        centers = np.load(handle)
    clusters = np.argmin(((x_test[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
    purity = sum(Counter(y_test[clusters == c]).most_common(1)[0][1] for c in set(clusters)) / len(
        y_test
    )
    print(
        f"Centers: {centers.shape}; test rows whose cluster's majority digit is theirs: "
        f"{purity:.0%}"
    )


if __name__ == "__main__":
    main()
