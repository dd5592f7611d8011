"""Real jobs whose requests point outside their box: sageyard keeps them inside it.

A checkpoint ``local_path`` outside the job root (``/tmp/ckpt``, a user's folder) is mapped
into the job root: the job finds its folder in ``SM_CHECKPOINT_DIR`` and in
``checkpointconfig.json``, its log says so, checkpoints are restored into it and uploaded
from it, and sageyard writes nothing to the folder the request named.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sageyard.core.exceptions import TrainingJobFailedError
from sageyard.core.settings import Settings
from sageyard.storage import object_store_for
from sageyard.train.configs import CheckpointConfig
from tests.integration.conftest import MakeTrainer

CHECKPOINTS = """
    import json, os
    folder = os.environ["SM_CHECKPOINT_DIR"]
    with open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "checkpointconfig.json")) as f:
        print("CONFIG", json.load(f)["LocalPath"] == folder)
    print("FOUND", sorted(os.listdir(folder)))
    n = len(os.listdir(folder))
    open(os.path.join(folder, f"step-{n}.pt"), "w").write(str(n))
"""


def test_a_checkpoint_path_outside_the_job_root_is_mapped_into_it(
    make_trainer: MakeTrainer, tmp_path: Path
) -> None:
    outside = tmp_path / "my-checkpoints"  # a folder of this machine, outside any job root
    trainer = make_trainer(
        CHECKPOINTS,
        checkpoint_config=CheckpointConfig(s3_uri="s3://ckpts/run-1", local_path=str(outside)),
    )
    trainer.train(logs=False)
    first = trainer._latest_training_job
    assert first is not None and first.training_job_status == "Completed"
    lines = first.logs()
    assert "CONFIG True" in lines and "FOUND []" in lines
    note = next(line for line in lines if "is outside the job root" in line)
    assert note.startswith(f"CheckpointConfig.LocalPath {str(outside)!r}")
    assert "SM_CHECKPOINT_DIR" in note

    trainer.train(logs=False)  # restored into the mapped folder of the next job
    second = trainer._latest_training_job
    assert second is not None and "FOUND ['step-0.pt']" in second.logs()
    assert not outside.exists()  # sageyard never wrote there
    objects = object_store_for(Settings.from_env())
    assert objects.list("s3://ckpts/run-1/") == [
        "s3://ckpts/run-1/step-0.pt",
        "s3://ckpts/run-1/step-1.pt",
    ]


def test_the_exception_of_a_failed_job_masks_its_secrets(make_trainer: MakeTrainer) -> None:
    trainer = make_trainer(
        """
        import os, sys
        sys.exit("token rejected: " + os.environ["HF_TOKEN"])
        """,
        environment={"HF_TOKEN": "hf_Zq9vXwT0k3n"},
    )
    with pytest.raises(TrainingJobFailedError) as caught:
        trainer.train(logs=False)
    assert "hf_Zq9vXwT0k3n" not in str(caught.value)
    assert caught.value.failure_reason is not None
    assert "token rejected: ********" in caught.value.failure_reason
