"""What one host of a job runs: a :class:`HostPlan`, pure data that travels to any node.

The supervisor cuts one plan per host from the job's validated request
(``jobs/plans.py``); an executor places it on a node and ``runtime/host.py`` carries it out
there. A plan names no local resource: where the host's folders are, which GPUs it holds
and the port of its master are the executor's placement, decided after ``reserve``. It
round-trips through JSON (:meth:`HostPlan.to_json`, :meth:`HostPlan.from_json`), so a
remote node gets it as a string.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChannelPlan:
    """One input channel: an ``s3://`` URI or an absolute local path, and how it is read."""

    name: str
    source: str
    content_type: str | None = None
    compression_type: str | None = None
    input_mode: str = "File"
    distribution: str = "FullyReplicated"
    record_wrapper_type: str = "None"
    instance_group_names: tuple[str, ...] | None = None  # None: every host gets it

    def reaches(self, group: str) -> bool:
        """Whether hosts of instance group ``group`` get this channel."""
        return self.instance_group_names is None or group in self.instance_group_names


@dataclass(frozen=True)
class HostGroup:
    """One instance group of the job, as ``resourceconfig.json`` lists it."""

    name: str
    instance_type: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class HostPlan:
    """Everything one host does, from staging its inputs to uploading what it leaves.

    Example:
        >>> plan = HostPlan("job", "algo-1", ("algo-1",), (HostGroup("g", "ml.m5.large",
        ...     ("algo-1",)),), command="echo hi")
        >>> HostPlan.from_json(plan.to_json()) == plan
        True
    """

    job_name: str
    host: str
    hosts: tuple[str, ...]  # every host of the job, in rank order
    groups: tuple[HostGroup, ...]
    # What runs: a built-in program's module, a shell command, or an entry script.
    program: str | None = None
    command: str | None = None
    entry_script: str | None = None
    arguments: tuple[str, ...] = ()  # SourceCode.args: after the hyperparameters' arguments
    training_image: str | None = None  # the job's image: a container executor runs it
    code_uri: str | None = None  # the source_dir snapshot in the object store
    requirements: str | None = None  # a requirements file inside the code
    hyperparameters: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    distributed: dict[str, Any] | None = None
    channels: tuple[ChannelPlan, ...] = ()
    checkpoint_uri: str | None = None
    checkpoint_path: str = "/opt/ml/checkpoints"  # as the script sees it
    tensorboard_uri: str | None = None  # where TensorBoard files go (already per job)
    tensorboard_path: str = "/opt/ml/output/tensorboard"
    network_isolation: bool = False
    infra_check: bool = False
    volume_size_in_gb: int = 30

    @property
    def rank(self) -> int:
        return self.hosts.index(self.host)

    @property
    def group(self) -> HostGroup:
        """The instance group this host belongs to."""
        return next(group for group in self.groups if self.host in group.hosts)

    @property
    def instance_type(self) -> str:
        return self.group.instance_type

    def host_channels(self) -> tuple[ChannelPlan, ...]:
        """The channels staged on this host (instance groups may limit a channel)."""
        return tuple(c for c in self.channels if c.reaches(self.group.name))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> HostPlan:
        data = json.loads(text)
        data["hosts"] = tuple(data["hosts"])
        data["arguments"] = tuple(data.get("arguments", ()))
        data["groups"] = tuple(
            HostGroup(g["name"], g["instance_type"], tuple(g["hosts"])) for g in data["groups"]
        )
        data["channels"] = tuple(
            ChannelPlan(
                **{
                    **c,
                    "instance_group_names": None
                    if c["instance_group_names"] is None
                    else tuple(c["instance_group_names"]),
                }
            )
            for c in data["channels"]
        )
        return cls(**data)
