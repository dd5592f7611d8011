"""Where a job's model and output archives go, and their upload from every host's folders."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

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


def upload_outputs(objects: ObjectStore, spec: TrainingJobSpec, hosts: list[HostOutputs]) -> None:
    """Merge the hosts' model and output-data folders (later hosts win) and upload them.

    Checkpoints and TensorBoard files each host uploads itself (``runtime/host.py``).
    """
    try:
        _upload_outputs(objects, spec, hosts)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        raise disk_full(error, tempfile.gettempdir()) from error


def _upload_outputs(objects: ObjectStore, spec: TrainingJobSpec, hosts: list[HostOutputs]) -> None:
    prefix = output_prefix(spec)
    models = merged_files(host.model_dir for host in hosts)
    with tempfile.TemporaryDirectory(prefix="sageyard-upload-") as scratch:
        if spec.compression_type == "None":
            for name, path in models.items():
                objects.put_file(path, join_uri(prefix, "model", name))
        else:
            archive = write_tar_gz(models, Path(scratch) / "model.tar.gz")
            objects.put_file(archive, join_uri(prefix, "model.tar.gz"))
        outputs = merged_files(host.output_data_dir for host in hosts)
        archive = write_tar_gz(outputs, Path(scratch) / "output.tar.gz")
        objects.put_file(archive, join_uri(prefix, "output.tar.gz"))
