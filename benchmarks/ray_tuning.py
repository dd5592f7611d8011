"""Tuning on a Ray cluster: a sageyard tuning job on the Ray executor against Ray Tune.

    python benchmarks/ray_tuning.py [--trials 100] [--parallel 4] [--seed 0]

One local Ray cluster of two nodes (``ray.cluster_utils.Cluster``, 2 CPUs each) serves
every peer, in this one run; sageyard's object store is a moto S3 server and its job store
a throwaway PostgreSQL (``.ci/postgres.sh``), as a cluster needs. The trial is
``benchmarks/functions/quadratic.py`` (it only prints its objective); every peer runs
``--trials`` trials, ``--parallel`` at a time, each trial taking 1 CPU, with Optuna's
seeded RandomSampler over the same ranges, so they try the same points:

- Ray Tune: ``tuning_overhead.run_ray`` (``Tuner(trial, TuneConfig(search_alg=
  OptunaSearch(...), num_samples=trials, max_concurrent_trials=parallel,
  reuse_actors=...)).fit()``) with Ray's defaults (``reuse_actors=False``) and with
  ``reuse_actors=True``; each trial a function trainable that runs the script through
  ``subprocess``, as a training job runs it.
- sageyard: ``tuning_overhead.run_sageyard`` (``HyperparameterTuner(strategy="Random",
  max_parallel_jobs=parallel).tune()``)
  with ``SAGEYARD_EXECUTOR=ray`` (``SAGEYARD_RAY_RESOURCES`` makes ``ml.m5.large`` 1 CPU):
  each trial a training job (job row in PostgreSQL, code snapshot in S3, a supervisor
  process that connects to Ray, a placement group, a host actor on a node that stages the
  host from S3 and runs it in its sandbox, outputs back through S3); measured as is and
  with warm pools (``keep_alive_period_in_seconds=60`` on the trainer's ``Compute``, the
  SageMaker counterpart of ``reuse_actors``): a trial then runs in the supervisor, the
  placement group and the host actors a finished trial left, in a warmed interpreter.

The cluster's start is timed apart. Aim: sageyard no slower than Ray Tune's default and
within 1.5x of ``reuse_actors=True``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tuning_overhead import run_ray, run_sageyard  # noqa: E402

ROOT = HERE.parent

#: The trainer's ``keep_alive_period_in_seconds`` in the warm-pool run.
WARM_SECONDS = 60


def start_services() -> tuple[object, str, str, str]:
    """The Ray cluster (two nodes of 2 CPUs), a moto S3 server and a PostgreSQL database;
    returns the cluster, the S3 endpoint, the store URL and the command that stops the
    database."""
    from moto.server import ThreadedMotoServer

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-west-2"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    line = (
        subprocess.run(
            ["bash", str(ROOT / ".ci" / "postgres.sh")], capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    exported = dict(word.split("=", 1) for word in shlex.split(line) if "=" in word)
    url = exported["SAGEYARD_TEST_POSTGRES_URL"]
    store = url.replace("postgresql://", "postgresql+psycopg://", 1)

    import ray
    from ray.cluster_utils import Cluster

    started = time.perf_counter()
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False}
    )
    cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    ray.init(
        address=cluster.address,
        namespace="sageyard",
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
    print(
        f"Ray {ray.__version__}: a 2-node cluster started in {time.perf_counter() - started:.1f} s"
    )
    return cluster, f"http://{host}:{port}", store, exported["SAGEYARD_TEST_POSTGRES_STOP"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sageyard-ray-bench-"))
    cluster, endpoint, store, stop_database = start_services()
    os.environ.update(
        SAGEYARD_HOME=str(work / "home"),
        SAGEYARD_EXECUTOR="ray",
        SAGEYARD_RAY_ADDRESS=cluster.address,  # type: ignore[attr-defined]
        SAGEYARD_S3_ENDPOINT_URL=endpoint,
        SAGEYARD_STORE_URL=store,
        SAGEYARD_RAY_RESOURCES='{"ml.m5.large": {"CPU": 1}}',
    )
    try:
        sageyard = {"parallel": args.parallel, "instance_type": "ml.m5.large"}
        run_ray(args.parallel, args.seed, True, work, args.parallel)  # warm-up: imports
        run_sageyard(args.parallel, args.seed, **sageyard)  # warm-up: tables, bucket
        rows = {}
        for reuse in (False, True):
            rows[f"Ray Tune, reuse_actors={reuse}"] = run_ray(
                args.trials, args.seed, reuse, work, args.parallel
            )
        rows["sageyard on the Ray executor"] = run_sageyard(args.trials, args.seed, **sageyard)
        # warm pools: each trial after the first ones runs on the hosts a finished one left
        rows["sageyard, warm pools"] = run_sageyard(
            args.trials, args.seed, keep_alive=WARM_SECONDS, **sageyard
        )
    finally:
        import ray

        ray.shutdown()
        cluster.shutdown()  # type: ignore[attr-defined]
        subprocess.run(stop_database, shell=True, capture_output=True, check=False)
    print(
        f"trials: {args.trials}, {args.parallel} at a time, 2 nodes of 2 CPUs; "
        f"machine: {os.cpu_count()} CPUs"
    )
    default = rows["Ray Tune, reuse_actors=False"][0]
    reuse_s = rows["Ray Tune, reuse_actors=True"][0]
    print(f"{'peer':<32} {'wall':>9} {'ms/trial':>9} {'vs default':>11} {'vs reuse':>9} best")
    for name, (seconds, best, _) in rows.items():
        print(
            f"{name:<32} {seconds:7.2f} s {seconds * 1000 / args.trials:9.1f} "
            f"{seconds / default:10.2f}x {seconds / reuse_s:8.2f}x {best:.6g}"
        )
    print(
        "(aim: sageyard <= 1.0x Ray Tune's default and <= 1.5x reuse_actors=True; "
        "each sageyard row is one tuning job)"
    )
    for name, (_, _, phases) in rows.items():
        print(f"where the time of {name} went (medians, ms; see tuning_overhead.py):")
        for key, value in phases.items():
            shown = f"{value:8.0f}" if key in ("workers", "at once") else f"{value * 1000:8.1f}"
            print(f"  {key:<12} {shown}")


if __name__ == "__main__":
    main()
