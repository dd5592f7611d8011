"""A job's validated request cut into one :class:`HostPlan` per host, for its executor."""

from __future__ import annotations

from sageyard.jobs.spec import TrainingJobSpec
from sageyard.runtime.plan import ChannelPlan, HostGroup, HostPlan
from sageyard.storage import join_uri


def host_plans(spec: TrainingJobSpec) -> list[HostPlan]:
    """The plans of ``spec``'s hosts, in rank order (``algo-1`` first)."""
    hosts = spec.hosts
    names = tuple(name for name, _ in hosts)
    groups = tuple(
        HostGroup(
            group.name,
            group.instance_type,
            tuple(name for name, member in hosts if member.name == group.name),
        )
        for group in spec.host_groups
    )
    channels = tuple(
        ChannelPlan(
            name=c.name,
            source=c.source,
            content_type=c.content_type,
            compression_type=c.compression_type,
            input_mode=c.input_mode,
            distribution=c.distribution,
            record_wrapper_type=c.record_wrapper_type,
            instance_group_names=None
            if c.instance_group_names is None
            else tuple(c.instance_group_names),
        )
        for c in spec.channels
    )
    checkpoint, tensorboard = spec.checkpoint, spec.tensorboard
    return [
        HostPlan(
            job_name=spec.training_job_name,
            host=name,
            hosts=names,
            groups=groups,
            program=spec.builtin_program,
            command=spec.command,
            entry_script=spec.entry_script,
            arguments=tuple(spec.arguments),
            training_image=spec.training_image,
            code_uri=spec.code_uri,
            requirements=spec.requirements,
            hyperparameters=dict(spec.hyperparameters),
            environment=dict(spec.environment),
            distributed=spec.distributed,
            channels=channels,
            checkpoint_uri=None if checkpoint is None else checkpoint.s3_uri,
            checkpoint_path=(checkpoint and checkpoint.local_path) or "/opt/ml/checkpoints",
            tensorboard_uri=_tensorboard_uri(spec),
            tensorboard_path=(tensorboard and tensorboard.local_path)
            or "/opt/ml/output/tensorboard",
            network_isolation=spec.network_isolation,
            infra_check=spec.infra_check,
            volume_size_in_gb=spec.volume_size_in_gb,
        )
        for name in names
    ]


def _tensorboard_uri(spec: TrainingJobSpec) -> str | None:
    """Where the job's TensorBoard files go: ``<S3OutputPath>/<job>/tensorboard-output``."""
    if spec.tensorboard is None or spec.tensorboard.s3_output_path is None:
        return None
    return join_uri(spec.tensorboard.s3_output_path, spec.training_job_name, "tensorboard-output")
