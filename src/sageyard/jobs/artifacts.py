"""Where a job's model and output archives go, and their upload from every host's folders.

Scratch space (the archives before upload, an unpacked code archive) is never the system's
temporary folder, where a killed supervisor would leave it for good: it is a folder under
``$SAGEYARD_HOME/tmp`` named by the job and the process that made it
(:func:`scratch_dir`), and every supervisor, when it starts, removes those whose process is
gone (:func:`collect_scratch`).
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sageyard.jobs.liveness import owner_alive, owner_token
from sageyard.jobs.spec import TrainingJobSpec
from sageyard.runtime.artifacts import merged_files, write_tar_gz
from sageyard.runtime.host import HostOutputs, disk_full
from sageyard.storage import ObjectStore, join_uri


def output_prefix(spec: TrainingJobSpec) -> str:
    return join_uri(spec.output_path, spec.training_job_name, "output")


def model_artifacts_uri(spec: TrainingJobSpec) -> str:
    """``…/<job>/output/model.tar.gz``, or the ``…/output/model/`` folder when uncompressed."""
    if spec.compression_type == "None":
        return join_uri(output_prefix(spec), "model") + "/"
    return join_uri(output_prefix(spec), "model.tar.gz")


@contextlib.contextmanager
def scratch_dir(root: Path, job_name: str) -> Iterator[Path]:
    """A fresh folder under ``root`` for ``job_name``, removed on exit (or, if this process
    is killed first, by the next :func:`collect_scratch`).

    Example:
        >>> import tempfile
        >>> with scratch_dir(Path(tempfile.mkdtemp()), "job") as folder:
        ...     folder.name.startswith("job@")
        True
    """
    _, pid, started = owner_token().split(":")
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{job_name}@{pid}@{started}@", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def collect_scratch(root: Path) -> list[Path]:
    """Remove the scratch folders under ``root`` whose process is gone; the ones removed."""
    removed: list[Path] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        parts = entry.name.split("@")
        if len(parts) < 4 or not parts[1].isdigit():
            continue
        if owner_alive(f"{socket.gethostname()}:{parts[1]}:{parts[2]}") is False:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def upload_outputs(
    objects: ObjectStore,
    spec: TrainingJobSpec,
    hosts: list[HostOutputs],
    scratch_root: Path | None = None,
) -> None:
    """Merge the hosts' model and output-data folders (later hosts win) and upload them.

    The archives are written in a :func:`scratch_dir` under ``scratch_root``
    (``$SAGEYARD_HOME/tmp`` in a supervisor; the system's temporary folder if ``None``).
    Checkpoints and TensorBoard files each host uploads itself (``runtime/host.py``).
    """
    root = scratch_root or Path(tempfile.gettempdir())
    try:
        _upload_outputs(objects, spec, hosts, root)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        raise disk_full(error, root) from error


def _upload_outputs(
    objects: ObjectStore, spec: TrainingJobSpec, hosts: list[HostOutputs], root: Path
) -> None:
    prefix = output_prefix(spec)
    models = merged_files(host.model_dir for host in hosts)
    with scratch_dir(root, spec.training_job_name) as scratch:
        if spec.compression_type == "None":
            for name, path in models.items():
                objects.put_file(path, join_uri(prefix, "model", name))
        else:
            archive = write_tar_gz(models, Path(scratch) / "model.tar.gz")
            objects.put_file(archive, join_uri(prefix, "model.tar.gz"))
        outputs = merged_files(host.output_data_dir for host in hosts)
        archive = write_tar_gz(outputs, Path(scratch) / "output.tar.gz")
        objects.put_file(archive, join_uri(prefix, "output.tar.gz"))
        if spec.compression_type == "None":
            # uncompressed too, as SageMaker's serverless evaluation jobs leave their
            # results (``<job>/output/output/<name>/eval_results/results_*.json``)
            for name, path in outputs.items():
                objects.put_file(path, join_uri(prefix, "output", name))
