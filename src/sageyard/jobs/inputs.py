"""A job's local inputs, uploaded to the object store when its hosts run elsewhere.

The hosts of an executor whose nodes share no disk with the caller (the Ray executor:
``shares_no_disk``) cannot read a channel given as a local path (a data folder, a JSONL
file, a fine-tuning job's base model in the local model cache). Before such a job is
stored, :func:`upload_local_inputs` puts each local channel in the object store and points
the channel there, as SageMaker's SDK uploads local data before a job. Uploads are kept by
content: ``s3://<default bucket>/sageyard-inputs/<fingerprint>/``, where the fingerprint
covers each file's path, size and modification time, and a marker beside the prefix says
the upload is whole; so a tuning job's trials, or a second job on the same data, upload
nothing again.

Example:
    >>> spec = upload_local_inputs(spec, objects, settings)  # doctest: +SKIP
    >>> spec.channels[0].source  # doctest: +SKIP
    's3://sagemaker-us-west-2-000000000000/sageyard-inputs/5c1e…'
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from sageyard.core.settings import Settings
from sageyard.executors import executor_class
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.storage import ObjectStore, upload_path

__all__ = ["fingerprint", "upload_local_inputs", "upload_once"]


def upload_local_inputs(
    spec: TrainingJobSpec, objects: ObjectStore, settings: Settings
) -> TrainingJobSpec:
    """``spec`` with every local channel uploaded (once) and given as its ``s3://`` URI;
    ``spec`` itself when its executor's hosts share this machine's disk."""
    if not getattr(executor_class(spec.executor), "shares_no_disk", False):
        return spec
    bucket = settings.default_bucket
    channels = [
        channel
        if channel.source.startswith("s3://")
        else channel.model_copy(
            update={"source": upload_once(objects, Path(channel.source), bucket)}
        )
        for channel in spec.channels
    ]
    return spec.model_copy(update={"channels": channels})


def fingerprint(local: Path) -> str:
    """A digest of a file or folder: its path, and each file's relative path, size and
    modification time (what changes when its content does)."""
    digest = hashlib.sha256(str(local.resolve()).encode())
    files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
    for path in files:
        stat = path.stat()
        name = path.name if path == local else str(path.relative_to(local))
        digest.update(f"\0{name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def upload_once(objects: ObjectStore, local: Path, bucket: str) -> str:
    """The URI of ``local``'s upload, made now unless a whole one is there already."""
    uri = f"s3://{bucket}/sageyard-inputs/{fingerprint(local)}"
    marker = f"{uri}.uploaded"
    if not objects.exists(marker):
        upload_path(objects, local, uri)
        with tempfile.NamedTemporaryFile() as empty:
            objects.put_file(Path(empty.name), marker)
    return uri
