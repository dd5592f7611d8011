"""SAGEYARD_* settings, read from the environment when work starts (never at import).

========================================  ==================================================
variable                                  meaning
========================================  ==================================================
``SAGEYARD_HOME``                         where jobs, logs and the embedded stores live
                                          (default ``~/.sageyard``)
``SAGEYARD_STORE_URL``                    SQLAlchemy URL of the job store (default: SQLite
                                          file ``$SAGEYARD_HOME/store.db``)
``SAGEYARD_S3_ENDPOINT_URL``              an S3-compatible endpoint; unset: the embedded
                                          object store under ``$SAGEYARD_HOME/s3``
``SAGEYARD_ENDPOINT_URL``                 a ``sageyard server`` (``http://host:8080``) that
                                          the facade and CLI use instead of the services
                                          in this process; its S3 is the object store
                                          unless SAGEYARD_S3_ENDPOINT_URL says otherwise
``SAGEYARD_EXECUTOR``                     ``local`` (default) or ``ray``
``SAGEYARD_RAY_ADDRESS``                  address of the Ray cluster for the ray executor
``SAGEYARD_RAY_RESOURCES``                JSON: instance type → {CPU, GPU, memory_gib} a
                                          host reserves on Ray (replaces the built-in table)
``SAGEYARD_ROLE``                         the execution role that ``get_execution_role()``
                                          returns
``SAGEYARD_REGION``                       region used in ARNs and bucket names (us-west-2)
``SAGEYARD_SLOTS``                        hosts that may run at once on this machine
                                          (default: one per CPU core)
``SAGEYARD_INSTANCE_QUOTA``               most hosts one job may ask for (default 100)
``SAGEYARD_STOP_GRACE_SECONDS``           SIGTERM → SIGKILL grace when stopping (default 10)
``SAGEYARD_STRICT_GPU``                   ``1``: a GPU instance type on a machine without
                                          enough GPUs is refused instead of run on the CPU
``SAGEYARD_ISOLATION``                    ``auto`` (mount namespaces when possible) or ``off``
``SAGEYARD_HEARTBEAT_SECONDS``            how often a supervisor proves it is alive (5)
``SAGEYARD_SPOT_INTERRUPTIONS``           the simulated spot market (``jobs/spot.py``):
                                          seconds of training at which managed spot jobs
                                          are interrupted, e.g. ``30,90``
``SAGEYARD_SPOT_INTERRUPTION_RATE``       random interruptions per hour of training (0)
``SAGEYARD_SPOT_CAPACITY_WAIT_SECONDS``   wait for spot capacity before each start (0)
``SAGEYARD_SPOT_NOTICE_SECONDS``          SIGTERM → SIGKILL at an interruption (default:
                                          the stop grace)
``SAGEYARD_SPOT_SAVINGS``                 share of the price spot saves, 0-1 (0.7)
``SAGEYARD_SPOT_SEED``                    seed of the random interruptions (0)
``SAGEYARD_BENCHMARK_DATA``               the benchmarks' data, one folder per benchmark in
                                          its Hugging Face dataset's layout (default
                                          ``$SAGEYARD_HOME/benchmarks``)
========================================  ==================================================
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from sageyard.core.exceptions import ConfigurationError


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, but got {raw!r}.") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, but got {value}.")
    return value


def _float(
    env: dict[str, str], name: str, default: float, minimum: float = 0.0, maximum: float = math.inf
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, but got {raw!r}.") from None
    if not minimum <= value <= maximum:  # NaN fails too
        bounds = f"between {minimum:g} and {maximum:g}" if maximum < math.inf else f">= {minimum:g}"
        raise ConfigurationError(f"{name} must be {bounds}, but got {raw!r}.")
    return value


def _seconds_list(env: dict[str, str], name: str) -> tuple[float, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    try:
        values = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigurationError(
            f"{name} must be seconds separated by commas, e.g. '30,90', but got {raw!r}."
        ) from None
    if any(not 0 < v < math.inf for v in values) or list(values) != sorted(set(values)):
        raise ConfigurationError(
            f"{name} must be increasing positive seconds, e.g. '30,90', but got {raw!r}."
        )
    return values


def _flag(env: dict[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _judge_endpoints(env: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    """``SAGEYARD_JUDGE_ENDPOINTS``: a JSON object from reward model id to
    ``{"url": <OpenAI-compatible base URL>, "model": <served model name>}``."""
    import json

    name = "SAGEYARD_JUDGE_ENDPOINTS"
    text = env.get(name, "").strip()
    if not text:
        return ()
    example = (
        '{"openai.gpt-oss-20b-1:0": {"url": "http://127.0.0.1:8000/v1", "model": "gpt-oss-20b"}}'
    )
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(entry, dict) and isinstance(entry.get("url"), str) for entry in mapping.values()
    ):
        raise ConfigurationError(
            f"{name} must be a JSON object from reward model id to {{'url', 'model'}}, e.g. "
            f"{example}; got {text!r}."
        )
    return tuple(
        (model_id, entry["url"], str(entry.get("model") or model_id))
        for model_id, entry in mapping.items()
    )


def _endpoint(url: str | None, name: str) -> str | None:
    """A server's URL, checked: ``http(s)://host[:port]``, without a trailing slash."""
    if not url:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
        raise ConfigurationError(
            f"{name}={url!r} is not a server's address: give http(s)://host:port, e.g. "
            "http://127.0.0.1:8080 for `sageyard server` on this machine."
        )
    return url.rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :meth:`from_env`; override with :meth:`with_overrides`."""

    home: Path
    store_url: str
    s3_endpoint_url: str | None = None
    #: A ``sageyard server`` that the facade and CLI call (``train/client.RemoteClient``).
    endpoint_url: str | None = None
    executor: str = "local"
    ray_address: str | None = None
    ray_resources: str | None = None  # JSON, checked by executors/ray_resources.py
    role: str | None = None
    region: str = "us-west-2"
    slots: int = field(default_factory=lambda: os.cpu_count() or 1)
    instance_quota: int = 100
    stop_grace_seconds: int = 10
    strict_gpu: bool = False
    strict_container: bool = False  # Mode.LOCAL_CONTAINER without Docker: refuse, not fall back
    isolation: str = "auto"
    heartbeat_seconds: float = 5.0
    spot_interruptions: tuple[float, ...] = ()  # the simulated spot market (jobs/spot.py)
    spot_interruption_rate: float = 0.0
    spot_capacity_wait_seconds: float = 0.0
    spot_notice_seconds: float | None = None
    spot_savings: float = 0.7
    spot_seed: int = 0
    #: RLAIF's judges: (reward model id, endpoint base URL, served model name) each.
    judge_endpoints: tuple[tuple[str, str, str], ...] = ()
    #: The stand-in judge when a reward model has no endpoint: a catalog id or a folder.
    local_judge: str = "HuggingFaceTB/SmolLM2-135M-Instruct"
    #: The evaluators' benchmark data (``SAGEYARD_BENCHMARK_DATA``); None: under ``home``.
    benchmark_data_dir: Path | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("SAGEYARD_HOME") or Path.home() / ".sageyard").expanduser()
        executor = env.get("SAGEYARD_EXECUTOR", "local") or "local"
        if executor not in {"local", "ray"}:
            raise ConfigurationError(
                f"SAGEYARD_EXECUTOR must be 'local' or 'ray', but got {executor!r}."
            )
        isolation = env.get("SAGEYARD_ISOLATION", "auto") or "auto"
        if isolation not in {"auto", "off"}:
            raise ConfigurationError(
                f"SAGEYARD_ISOLATION must be 'auto' or 'off', but got {isolation!r}."
            )
        return cls(
            home=home,
            store_url=env.get("SAGEYARD_STORE_URL") or f"sqlite:///{home / 'store.db'}",
            s3_endpoint_url=(
                env.get("SAGEYARD_S3_ENDPOINT_URL") or env.get("SAGEYARD_ENDPOINT_URL") or None
            ),
            endpoint_url=_endpoint(env.get("SAGEYARD_ENDPOINT_URL"), "SAGEYARD_ENDPOINT_URL"),
            executor=executor,
            ray_address=env.get("SAGEYARD_RAY_ADDRESS") or None,
            ray_resources=env.get("SAGEYARD_RAY_RESOURCES") or None,
            role=env.get("SAGEYARD_ROLE") or None,
            region=env.get("SAGEYARD_REGION") or "us-west-2",
            slots=_int(env, "SAGEYARD_SLOTS", os.cpu_count() or 1, minimum=1),
            instance_quota=_int(env, "SAGEYARD_INSTANCE_QUOTA", 100, minimum=1),
            stop_grace_seconds=_int(env, "SAGEYARD_STOP_GRACE_SECONDS", 10),
            strict_gpu=_flag(env, "SAGEYARD_STRICT_GPU"),
            strict_container=_flag(env, "SAGEYARD_STRICT_CONTAINER"),
            isolation=isolation,
            heartbeat_seconds=float(_int(env, "SAGEYARD_HEARTBEAT_SECONDS", 5, minimum=1)),
            spot_interruptions=_seconds_list(env, "SAGEYARD_SPOT_INTERRUPTIONS"),
            spot_interruption_rate=_float(env, "SAGEYARD_SPOT_INTERRUPTION_RATE", 0.0),
            spot_capacity_wait_seconds=_float(env, "SAGEYARD_SPOT_CAPACITY_WAIT_SECONDS", 0.0),
            spot_notice_seconds=(
                _float(env, "SAGEYARD_SPOT_NOTICE_SECONDS", 0.0)
                if env.get("SAGEYARD_SPOT_NOTICE_SECONDS")
                else None
            ),
            spot_savings=_float(env, "SAGEYARD_SPOT_SAVINGS", 0.7, maximum=1.0),
            spot_seed=_int(env, "SAGEYARD_SPOT_SEED", 0),
            judge_endpoints=_judge_endpoints(env),
            local_judge=env.get("SAGEYARD_LOCAL_JUDGE") or "HuggingFaceTB/SmolLM2-135M-Instruct",
            benchmark_data_dir=(
                Path(env["SAGEYARD_BENCHMARK_DATA"]).expanduser()
                if env.get("SAGEYARD_BENCHMARK_DATA")
                else None
            ),
        )

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with the given fields replaced (``None`` values are ignored). A
        server's ``endpoint_url`` brings its S3 along, unless an S3 endpoint is given too."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if "endpoint_url" in given:
            given["endpoint_url"] = _endpoint(given["endpoint_url"], "endpoint_url")
            given.setdefault("s3_endpoint_url", self.s3_endpoint_url or given["endpoint_url"])
        return replace(self, **given)

    @property
    def account_id(self) -> str:
        return "000000000000"

    @property
    def default_bucket(self) -> str:
        """The bucket jobs use when given none, as SageMaker names it."""
        return f"sagemaker-{self.region}-{self.account_id}"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def objects_dir(self) -> Path:
        return self.home / "s3"

    @property
    def benchmark_data(self) -> Path:
        """Where the benchmarks' data lives (``SAGEYARD_BENCHMARK_DATA``)."""
        return self.benchmark_data_dir or self.home / "benchmarks"

    def to_env(self) -> dict[str, str]:
        """The environment that makes another process resolve these same settings."""
        env = {
            "SAGEYARD_HOME": str(self.home),
            "SAGEYARD_STORE_URL": self.store_url,
            "SAGEYARD_EXECUTOR": self.executor,
            "SAGEYARD_REGION": self.region,
            "SAGEYARD_SLOTS": str(self.slots),
            "SAGEYARD_INSTANCE_QUOTA": str(self.instance_quota),
            "SAGEYARD_STOP_GRACE_SECONDS": str(self.stop_grace_seconds),
            "SAGEYARD_STRICT_GPU": "1" if self.strict_gpu else "0",
            "SAGEYARD_STRICT_CONTAINER": "1" if self.strict_container else "0",
            "SAGEYARD_ISOLATION": self.isolation,
            "SAGEYARD_HEARTBEAT_SECONDS": str(int(self.heartbeat_seconds)),
        }
        env.update(
            {
                "SAGEYARD_SPOT_INTERRUPTIONS": ",".join(repr(v) for v in self.spot_interruptions),
                "SAGEYARD_SPOT_INTERRUPTION_RATE": repr(self.spot_interruption_rate),
                "SAGEYARD_SPOT_CAPACITY_WAIT_SECONDS": repr(self.spot_capacity_wait_seconds),
                "SAGEYARD_SPOT_SAVINGS": repr(self.spot_savings),
                "SAGEYARD_SPOT_SEED": str(self.spot_seed),
            }
        )
        if self.spot_notice_seconds is not None:
            env["SAGEYARD_SPOT_NOTICE_SECONDS"] = repr(self.spot_notice_seconds)
        if self.s3_endpoint_url:
            env["SAGEYARD_S3_ENDPOINT_URL"] = self.s3_endpoint_url
        if self.ray_address:
            env["SAGEYARD_RAY_ADDRESS"] = self.ray_address
        if self.ray_resources:
            env["SAGEYARD_RAY_RESOURCES"] = self.ray_resources
        if self.role:
            env["SAGEYARD_ROLE"] = self.role
        if self.benchmark_data_dir is not None:
            env["SAGEYARD_BENCHMARK_DATA"] = str(self.benchmark_data_dir)
        return env


class HasSettings(Protocol):
    """Anything that carries resolved settings: a ``Session``, for one. Lower layers take
    this rather than the facade's Session class."""

    @property
    def settings(self) -> Settings: ...


def settings_of(session: Any) -> Settings:
    """The settings of a sageyard ``Session`` (anything with ``settings``); for anything
    else (``None``, or a boto3 session that the real SDK's resources take) the environment's."""
    settings = getattr(session, "settings", None)
    return settings if isinstance(settings, Settings) else Settings.from_env()
