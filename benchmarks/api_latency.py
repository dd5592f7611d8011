"""API latency: DescribeTrainingJob and ListTrainingJobs through ``sageyard server`` against
the same calls made in-process.

    python benchmarks/api_latency.py [--jobs 50] [--requests 2000] [--clients 1 32] [--train 5]

A fresh ``SAGEYARD_HOME`` (SQLite job store, embedded object store) gets ``--jobs``
completed training jobs. Then each call is timed, ``--requests`` times per configuration:

- in-process: the server's own operation functions (``train/sagemaker_api.py``) over the
  same services, in this process, one caller — what a request costs before HTTP;
- over the wire: boto3's ``sagemaker`` client (one per caller thread, made and connected
  before timing, retries off) to ``sageyard server`` on 127.0.0.1 (a process of its own:
  uvicorn, one worker, the services in its thread pool), with 1 and 32 callers at once.

``DescribeTrainingJob`` names a random one of the jobs; ``ListTrainingJobs`` asks for a
page of 10 (the default), newest first. For each: p50 and p99 latency and requests per
second (requests / wall time of the configuration). All on this machine: the callers and
the server share its cores.

Last, sageyard's own facade both ways: ``ModelTrainer.train()`` (wait, no logs) of a
script that prints a line, from a local ``source_dir`` with a local channel, ``--train``
times on this machine's services and as many through the server
(``Session(endpoint_url=...)``: code and data uploaded to its S3, once by content, the job
created and followed over HTTP); each train() call timed from call to return.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def make_jobs(count: int) -> list[str]:
    """``count`` completed jobs, each printing a line (created at once, then waited on)."""
    from sageyard.core.settings import Settings
    from sageyard.jobs.resource import TrainingJob
    from sageyard.train.client import LocalClient

    client = LocalClient(Settings.from_env())
    names = []
    for index in range(count):
        name = f"latency-{index:03d}"
        client.create_training_job(
            {
                "TrainingJobName": name,
                "RoleArn": "arn:aws:iam::000000000000:role/SageMakerRole",
                "AlgorithmSpecification": {
                    "TrainingImage": "python:3.11",
                    "TrainingInputMode": "File",
                    "ContainerEntrypoint": ["python3", "-c", "print('hello')"],
                },
                "OutputDataConfig": {"S3OutputPath": "s3://latency-bench/output"},
                "ResourceConfig": {
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 1,
                },
                "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            }
        )
        names.append(name)
    for name in names:
        TrainingJob(name).wait(logs=False)
    return names


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """``sageyard server`` as a process of its own (its own interpreter: the callers here do
    not share its GIL) on a free port; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).with_name("sageyard")), "server", "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError("sageyard server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(call: Callable[[], Any], requests: int, callers: int) -> tuple[list[float], float]:
    """Each request's seconds and the wall time, ``callers`` threads sharing ``requests``."""
    latencies: list[float] = []
    lock = threading.Lock()
    left = [requests]

    def work() -> None:
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            started = time.perf_counter()
            call()
            spent = time.perf_counter() - started
            with lock:
                latencies.append(spent)

    threads = [threading.Thread(target=work) for _ in range(callers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - began


def facade_trainings(endpoint_url: str | None, runs: int, work: Path) -> list[float]:
    """Seconds of each of ``runs`` ``ModelTrainer.train()`` calls, here or via a server."""
    from sageyard.core.session import Session
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import InputData, SourceCode

    code, data = work / "facade-code", work / "facade-data"
    for folder in (code, data):
        folder.mkdir(exist_ok=True)
    (code / "train.py").write_text("import os; print(os.listdir(os.environ['SM_CHANNEL_TRAIN']))\n")
    (data / "rows.csv").write_text("1,2\n")
    caller = work / ("caller-remote" if endpoint_url else "caller-local")
    session = (
        Session(endpoint_url=endpoint_url, home=caller, store_url=f"sqlite:///{caller}.db")
        if endpoint_url
        else Session()
    )
    seconds = []
    for _ in range(runs):
        trainer = ModelTrainer(
            training_image="python:3.11",
            source_code=SourceCode(source_dir=str(code), entry_script="train.py"),
            sagemaker_session=session,
            base_job_name="facade",
        )
        started = time.perf_counter()
        trainer.train(
            input_data_config=[InputData(channel_name="train", data_source=str(data))], logs=False
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--train", type=int, default=5, help="ModelTrainer.train() runs each way")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sageyard-api-bench-"))
    os.environ.update(
        SAGEYARD_HOME=str(work / "home"),
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-west-2",
    )
    import boto3
    from botocore.config import Config

    from sageyard.core.settings import Settings
    from sageyard.train.client import LocalClient
    from sageyard.train.sagemaker_api import describe_training_job, list_training_jobs

    started = time.perf_counter()
    names = make_jobs(args.jobs)
    print(f"{len(names)} jobs made in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    settings = Settings.from_env()
    local = LocalClient(settings)
    picker = random.Random(0)
    rows: list[tuple[str, str, int, list[float], float]] = []

    in_process = {
        "DescribeTrainingJob": lambda: describe_training_job(
            local, {"TrainingJobName": picker.choice(names)}
        ),
        "ListTrainingJobs": lambda: list_training_jobs(local, {}),
    }
    for operation, call in in_process.items():
        call()  # warm: imports, the store's first connection
        latencies, wall = timed(call, args.requests, 1)
        rows.append((operation, "in-process", 1, latencies, wall))

    with running_server() as url:
        # one client per caller, made (and its connection opened) before any timing
        pool = [
            boto3.session.Session().client(
                "sagemaker",
                endpoint_url=url,
                region_name="us-west-2",
                config=Config(retries={"max_attempts": 1}),
            )
            for _ in range(max(args.clients))
        ]
        for sagemaker in pool:
            sagemaker.list_training_jobs(MaxResults=1)
        mine = threading.local()
        handed = iter(range(len(pool)))
        handing = threading.Lock()

        def client() -> Any:
            if not hasattr(mine, "sagemaker"):
                with handing:
                    mine.sagemaker = pool[next(handed)]
            return mine.sagemaker

        wire = {
            "DescribeTrainingJob": lambda: client().describe_training_job(
                TrainingJobName=picker.choice(names)
            ),
            "ListTrainingJobs": lambda: client().list_training_jobs(),
        }
        for operation, call in wire.items():
            for callers in args.clients:
                handed = iter(range(len(pool)))
                mine = threading.local()
                latencies, wall = timed(call, args.requests, callers)
                rows.append((operation, "boto3 → server", callers, latencies, wall))
        trainings = {
            "in-process": facade_trainings(None, args.train, work),
            "facade → server": facade_trainings(url, args.train, work),
        }

    print(f"jobs: {len(names)}, requests per row: {args.requests}, machine: {os.cpu_count()} CPUs")
    print(f"{'operation':<22} {'path':<15} {'callers':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for operation, path, callers, latencies, wall in rows:
        print(
            f"{operation:<22} {path:<15} {callers:>7} {percentile(latencies, 0.5) * 1000:8.2f} "
            f"{percentile(latencies, 0.99) * 1000:8.2f} {len(latencies) / wall:8.0f}"
        )
    for path, seconds in trainings.items():
        median, slowest = statistics.median(seconds) * 1000, max(seconds) * 1000
        print(
            f"{'ModelTrainer.train()':<22} {path:<15} {1:>7} {median:8.0f} {slowest:8.0f} "
            f"{len(seconds) / sum(seconds):8.2f}   (p99 column: the slowest run)"
        )
    means = {(r[0], r[1], r[2]): statistics.mean(r[3]) for r in rows}
    for operation in in_process:
        overhead = means[(operation, "boto3 → server", 1)] - means[(operation, "in-process", 1)]
        print(f"{operation}: HTTP + boto3 add {overhead * 1000:.2f} ms per call (1 caller, mean)")


if __name__ == "__main__":
    main()
