"""Tuning on a Ray cluster: a sageyard tuning job on the Ray executor against Ray Tune.

    python benchmarks/ray_tuning.py [--trials 100] [--parallel 4] [--seed 0]

One local Ray cluster of two nodes (``ray.cluster_utils.Cluster``, 2 CPUs each) serves
every peer, in this one run; sageyard's object store is a moto S3 server and its job store
a throwaway PostgreSQL (``.ci/postgres.sh``), as a cluster needs. The trial is
``benchmarks/functions/quadratic.py`` (it only prints its objective); every peer runs
``--trials`` trials, ``--parallel`` at a time, each trial taking 1 CPU, with Optuna's
seeded RandomSampler over the same ranges, so they try the same points:

- Ray Tune: ``Tuner(trial, TuneConfig(search_alg=OptunaSearch(...), num_samples=trials,
  max_concurrent_trials=parallel, reuse_actors=...)).fit()`` with Ray's defaults
  (``reuse_actors=False``) and with ``reuse_actors=True``; each trial a function trainable
  that runs the script through ``subprocess``, as a training job runs it.
- sageyard: ``HyperparameterTuner(strategy="Random", max_parallel_jobs=parallel).tune()``
  with ``SAGEYARD_EXECUTOR=ray`` (``SAGEYARD_RAY_RESOURCES`` makes ``ml.m5.large`` 1 CPU):
  each trial a training job (job row in PostgreSQL, code snapshot in S3, a supervisor
  process that connects to Ray, a placement group, a host actor on a node that stages the
  host from S3 and runs it in its sandbox, outputs back through S3).

The cluster's start is timed apart. Aim: sageyard no slower than Ray Tune's default and
within 1.5x of ``reuse_actors=True``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tuning_overhead import FUNCTIONS, OBJECTIVE, SCRIPT, optuna_distributions, run_script  # noqa: E402

ROOT = HERE.parent


def start_services() -> tuple[object, str, str]:
    """The Ray cluster (two nodes of 2 CPUs), a moto S3 server and a PostgreSQL database;
    returns the cluster, the S3 endpoint and the store URL."""
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
    url = line.split("SAGEYARD_TEST_POSTGRES_URL=", 1)[1].split()[0]
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
    return cluster, f"http://{host}:{port}", store


def ray_trial(config: dict[str, float]) -> None:
    from ray import tune

    value, started, ended = run_script(config)
    tune.report({"objective": value, "script_started": started, "script_ended": ended})


def run_ray_tune(
    trials: int, parallel: int, seed: int, reuse: bool, work: Path
) -> tuple[float, float, dict[str, float]]:
    """Ray Tune on the cluster; wall seconds, best value, and its per-trial phases."""
    import optuna
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    tuner = tune.Tuner(
        ray_trial,
        tune_config=tune.TuneConfig(
            metric="objective",
            mode="min",
            search_alg=OptunaSearch(
                optuna_distributions(),
                metric="objective",
                mode="min",
                sampler=optuna.samplers.RandomSampler(seed=seed),
            ),
            num_samples=trials,
            max_concurrent_trials=parallel,
            reuse_actors=reuse,
        ),
        run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(dir=work), verbose=0),
    )
    with contextlib.redirect_stdout(io.StringIO()):
        started, wall = time.perf_counter(), time.time()
        results = tuner.fit()
        elapsed, ended = time.perf_counter() - started, time.time()
    assert not results.errors and len(results) == trials, results.errors
    frame = results.get_dataframe().sort_values("script_started")
    starts, ends = list(frame["script_started"]), sorted(frame["script_ended"])
    freed = [s - ends[i - parallel] for i, s in enumerate(starts) if i >= parallel]
    phases = {
        "start": starts[0] - wall,
        "between": statistics.median(freed) if freed else float("nan"),
        "script": float((frame["script_ended"] - frame["script_started"]).median()),
        "tail": ended - ends[-1],
    }
    return elapsed, float(results.get_best_result().metrics["objective"]), phases


def run_sageyard(trials: int, parallel: int, seed: int) -> tuple[float, float, dict[str, float]]:
    """A sageyard tuning job on the Ray executor; wall seconds, best value, phases."""
    from sageyard.core.parameter import ContinuousParameter
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import Compute, SourceCode
    from sageyard.train.tuner import HyperparameterTuner

    trainer = ModelTrainer(
        training_image="python:3.11",
        base_job_name="ray-bench",
        source_code=SourceCode(source_dir=str(FUNCTIONS), entry_script=SCRIPT.name),
        compute=Compute(instance_type="ml.m5.large"),
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="objective",
        metric_definitions=[{"Name": "objective", "Regex": OBJECTIVE.pattern}],
        hyperparameter_ranges={
            "x": ContinuousParameter(-5.0, 5.0, "Linear"),
            "y": ContinuousParameter(-5.0, 5.0, "Linear"),
        },
        strategy="Random",
        objective_type="Minimize",
        max_jobs=trials,
        max_parallel_jobs=parallel,
        random_seed=seed,
    )
    started, wall = time.perf_counter(), time.time()
    tuner.tune(wait=True)
    elapsed, ended = time.perf_counter() - started, time.time()
    description = tuner.describe()
    assert description["TrainingJobStatusCounters"]["Completed"] == trials, description
    best = description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    summaries = tuner.analytics().training_job_summaries()
    created = [s["CreationTime"].timestamp() for s in summaries]
    start = [s["TrainingStartTime"].timestamp() for s in summaries]
    end = sorted(s["TrainingEndTime"].timestamp() for s in summaries)
    freed = [s - end[i - parallel] for i, s in enumerate(sorted(start)) if i >= parallel]
    phases = {
        "start": min(created) - wall,
        "staging": statistics.median(b - a for a, b in zip(created, start, strict=True)),
        "between": statistics.median(freed) if freed else float("nan"),
        "training": statistics.median(
            s["TrainingEndTime"].timestamp() - s["TrainingStartTime"].timestamp() for s in summaries
        ),
        "tail": ended - end[-1],
    }
    return elapsed, float(best), phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sageyard-ray-bench-"))
    cluster, endpoint, store = start_services()
    os.environ.update(
        SAGEYARD_HOME=str(work / "home"),
        SAGEYARD_EXECUTOR="ray",
        SAGEYARD_RAY_ADDRESS=cluster.address,  # type: ignore[attr-defined]
        SAGEYARD_S3_ENDPOINT_URL=endpoint,
        SAGEYARD_STORE_URL=store,
        SAGEYARD_RAY_RESOURCES='{"ml.m5.large": {"CPU": 1}}',
    )
    try:
        run_ray_tune(args.parallel, args.parallel, args.seed, True, work)  # warm-up: imports
        run_sageyard(args.parallel, args.parallel, args.seed)  # warm-up: tables, bucket
        rows = {}
        for reuse in (False, True):
            rows[f"Ray Tune, reuse_actors={reuse}"] = run_ray_tune(
                args.trials, args.parallel, args.seed, reuse, work
            )
        rows["sageyard on the Ray executor"] = run_sageyard(args.trials, args.parallel, args.seed)
    finally:
        import ray

        ray.shutdown()
        cluster.shutdown()  # type: ignore[attr-defined]
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
    print("(aim: sageyard <= 1.0x Ray Tune's default and <= 1.5x reuse_actors=True)")
    for name, (_, _, phases) in rows.items():
        print(f"where the time of {name} went (medians, ms):")
        for key, value in phases.items():
            print(f"  {key:<9} {value * 1000:8.1f}")
    print(
        "start: tune()/fit() to the first trial; staging: a trial's creation to its script "
        "(sageyard); between: a slot freed to the next trial's start; training/script: a "
        "trial's run; tail: the last trial's end to the return."
    )


if __name__ == "__main__":
    main()
