"""Uploading what a job leaves behind: model, output data, checkpoints, TensorBoard files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sageyard.jobs.spec import TrainingJobSpec
from sageyard.runtime.artifacts import merged_files, write_tar_gz
from sageyard.runtime.layout import JobRoot
from sageyard.storage import ObjectStore, join_uri, upload_path


def output_prefix(spec: TrainingJobSpec) -> str:
    return join_uri(spec.output_path, spec.training_job_name, "output")


def model_artifacts_uri(spec: TrainingJobSpec) -> str:
    """``…/<job>/output/model.tar.gz``, or the ``…/output/model/`` folder when uncompressed."""
    if spec.compression_type == "None":
        return join_uri(output_prefix(spec), "model") + "/"
    return join_uri(output_prefix(spec), "model.tar.gz")


def upload_outputs(objects: ObjectStore, spec: TrainingJobSpec, roots: list[JobRoot]) -> None:
    """Merge the hosts' folders (later hosts win on clashes) and upload them."""
    prefix = output_prefix(spec)
    models = merged_files(root.model_dir for root in roots)
    with tempfile.TemporaryDirectory(prefix="sageyard-upload-") as scratch:
        if spec.compression_type == "None":
            for name, path in models.items():
                objects.put_file(path, join_uri(prefix, "model", name))
        else:
            archive = write_tar_gz(models, Path(scratch) / "model.tar.gz")
            objects.put_file(archive, join_uri(prefix, "model.tar.gz"))
        outputs = merged_files(root.output_data_dir for root in roots)
        archive = write_tar_gz(outputs, Path(scratch) / "output.tar.gz")
        objects.put_file(archive, join_uri(prefix, "output.tar.gz"))
    if spec.checkpoint is not None:
        for root in roots:
            local = root.host_path(spec.checkpoint.local_path or "/opt/ml/checkpoints")
            if local.is_dir() and any(local.iterdir()):
                upload_path(objects, local, spec.checkpoint.s3_uri.rstrip("/"))
    if spec.tensorboard is not None:
        target = join_uri(
            spec.tensorboard.s3_output_path, spec.training_job_name, "tensorboard-output"
        )
        for root in roots:
            local = root.host_path(spec.tensorboard.local_path or "/opt/ml/output/tensorboard")
            if local.is_dir() and any(local.iterdir()):
                upload_path(objects, local, target)
