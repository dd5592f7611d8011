"""The fine-tuning trainers with the real SDK's constructors, keywords, options and methods.

The real SDK is never imported here: its parameter lists are copied below from
``sagemaker/train/sft_trainer.py``, ``dpo_trainer.py`` and ``base_trainer.py`` (3.27.0).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import Session
from sageyard.models import catalog
from sageyard.train import ModelTrainer
from sageyard.train._request import training_job_request
from sageyard.train.common import FineTuningOptions, TrainingType
from sageyard.train.configs import (
    Channel,
    CheckpointConfig,
    Compute,
    DataSource,
    InputData,
    OutputDataConfig,
    S3DataSource,
    StoppingCondition,
)
from sageyard.train.dpo_trainer import DPOTrainer
from sageyard.train.sft_trainer import SFTTrainer

# The real SFTTrainer.__init__'s parameters, in order (then **kwargs, for BaseTrainer).
REAL_SFT_PARAMETERS = [
    "model",
    "training_type",
    "model_package_group",
    "compute",
    "mlflow_resource_arn",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "training_dataset",
    "validation_dataset",
    "s3_output_path",
    "kms_key_id",
    "networking",
    "accept_eula",
    "stopping_condition",
    "sequence_length",
    "recipe",
    "overrides",
    "is_multimodal",
    "data_mixing_config",
    "base_model_name",
    "disable_output_compression",
    "notifications",
]
REAL_DPO_PARAMETERS = [name for name in REAL_SFT_PARAMETERS if name != "data_mixing_config"]
# BaseTrainer.__init__'s keywords that the leaf trainers pass on through **kwargs, and
# sageyard's own checkpoint_config.
BASE_KEYWORDS = [
    "sagemaker_session",
    "role",
    "base_job_name",
    "tags",
    "hyperparameters",
    "output_data_config",
    "input_data_config",
    "environment",
    "training_image",
    "checkpoint_config",
]


@pytest.fixture
def tiny_sft_model(tmp_path: Path) -> Path:
    """A folder that looks like a Hugging Face model (only what is checked before a job)."""
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    return folder


@pytest.fixture
def data(tmp_path: Path) -> str:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"prompt": "Hi", "completion": "Hello"}) + "\n")
    return str(path)


@pytest.fixture
def pairs(tmp_path: Path) -> str:
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"prompt": "Hi", "chosen": "Hello", "rejected": "Go"}) + "\n")
    return str(path)


def request_of(trainer: SFTTrainer | DPOTrainer) -> dict[str, Any]:
    """The CreateTrainingJob request train() sends (nothing is created)."""
    built = trainer.to_model_trainer()
    return training_job_request(built, built._session())


SPECS = {
    "epochs": {"type": "integer", "default": 1, "min": 1, "max": 10},
    "learning_rate": {"type": "float", "default": 0.001, "min": 0.0, "max": 1.0},
    "per_device_train_batch_size": {"type": "integer", "default": 2, "min": 1, "max": 64},
    "gradient_accumulation_steps": {"type": "integer", "default": 2, "min": 1, "max": 64},
    "max_seq_length": {"type": "integer", "default": 512, "min": 8, "max": 8192},
}


def test_recipe_aliases_set_the_same_options() -> None:
    options = FineTuningOptions(SPECS)
    options.max_epochs = 3
    options.lr = 0.01
    options.dataset_max_len = 256
    assert (options.epochs, options.learning_rate, options.max_seq_length) == (3, 0.01, 256)
    options.global_batch_size = 16  # per device x gradient accumulation, on one device
    assert (options.per_device_train_batch_size, options.global_batch_size) == (8, 16)
    with pytest.raises(ConfigurationError, match="whole multiple"):
        options.global_batch_size = 15


def test_to_user_dict_has_only_what_was_set() -> None:
    options = FineTuningOptions(SPECS)
    assert options.to_user_dict() == {}
    options.epochs = 4
    assert options.to_user_dict() == {"epochs": "4"}
    assert options.to_dict()["learning_rate"] == "0.001"


def test_length_constraints_against_the_sequence_length() -> None:
    options = FineTuningOptions(SPECS, sequence_length=1024)
    options.validate_length_constraints()
    options.max_seq_length = 2048
    with pytest.raises(ConfigurationError, match=r"max_seq_length \(2048\) exceeds"):
        options.validate_length_constraints()
    FineTuningOptions(SPECS).validate_length_constraints()  # no ceiling: nothing to check


# -- the constructors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "positional"), [(SFTTrainer, REAL_SFT_PARAMETERS), (DPOTrainer, REAL_DPO_PARAMETERS)]
)
def test_the_parameters_are_the_real_ones_in_the_real_order(
    cls: type[SFTTrainer | DPOTrainer], positional: list[str]
) -> None:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    kinds = {p.name: p.kind for p in parameters}
    assert [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD] == positional
    assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == BASE_KEYWORDS
    assert inspect.Parameter.VAR_KEYWORD not in kinds.values()  # unknown keywords: TypeError


def test_a_positional_call_in_the_real_order_binds_each_parameter(
    tiny_sft_model: Path, data: str
) -> None:
    compute = Compute(instance_type="ml.g5.xlarge")
    stopping = StoppingCondition(max_runtime_in_seconds=600)
    trainer = SFTTrainer(
        str(tiny_sft_model),  # model
        "full",  # training_type
        "my-group",  # model_package_group
        compute,  # compute: 4th, as in the real SDK
        None,  # mlflow_resource_arn
        "exp",  # mlflow_experiment_name
        "run-1",  # mlflow_run_name
        data,  # training_dataset
        data,  # validation_dataset
        "s3://bucket/out",  # s3_output_path
        "key-1",  # kms_key_id
        None,  # networking
        False,  # accept_eula
        stopping,  # stopping_condition
        "1K",  # sequence_length
        None,  # recipe
        {"training_config": {"epochs": 2}},  # overrides
        False,  # is_multimodal
        None,  # data_mixing_config
        "my-base",  # base_model_name
        True,  # disable_output_compression
        None,  # notifications
    )
    assert trainer.compute is compute and trainer.stopping_condition is stopping
    assert trainer.training_type is TrainingType.FULL and trainer.model_package_group == "my-group"
    assert (trainer.mlflow_experiment_name, trainer.mlflow_run_name) == ("exp", "run-1")
    assert (trainer.base_model_name, trainer.disable_output_compression) == ("my-base", True)
    assert trainer.hyperparameters.epochs == 2
    request = request_of(trainer)
    assert request["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert request["StoppingCondition"]["MaxRuntimeInSeconds"] == 600
    assert request["OutputDataConfig"] == {
        "S3OutputPath": "s3://bucket/out",
        "CompressionType": "NONE",
        "KmsKeyId": "key-1",
    }
    _, registration = trainer._model_trainer()
    assert registration is not None and registration["BaseModel"] == "my-base"
    trainer.hyperparameters.max_seq_length = 2048  # above the "1K" ceiling
    with pytest.raises(ConfigurationError, match=r"exceeds the sequence length \(1024\)"):
        trainer.train(dry_run=True)


def test_dpo_has_no_data_mixing_config_so_the_later_ones_move_up(
    tiny_sft_model: Path, pairs: str
) -> None:
    args: list[Any] = [str(tiny_sft_model), "lora", None, None, None, None, None, pairs]
    args += [None, None, None, None, False, None, None, None, None, None, "base-x", True]
    trainer = DPOTrainer(*args)
    assert (trainer.base_model_name, trainer.disable_output_compression) == ("base-x", True)
    assert trainer.train(dry_run=True) is None
    with pytest.raises(TypeError, match="data_mixing_config"):
        DPOTrainer(str(tiny_sft_model), data_mixing_config={"a": 1})  # type: ignore[call-arg]


@pytest.mark.parametrize("cls", [SFTTrainer, DPOTrainer])
def test_an_unknown_keyword_is_a_type_error_naming_it(
    cls: type[SFTTrainer | DPOTrainer], tiny_sft_model: Path
) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'hyper_parameters'"):
        cls(model=str(tiny_sft_model), hyper_parameters={"epochs": 2})  # type: ignore[call-arg]


def test_the_base_trainer_keywords_are_attributes_and_reach_the_job(
    tiny_sft_model: Path, data: str, tmp_path: Path
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "vocab.txt").write_text("a\n")
    Session().upload_data(str(extra), bucket="bucket", key_prefix="shared")
    shared = Channel(
        channel_name="shared",
        data_source=DataSource(s3_data_source=S3DataSource(s3_uri="s3://bucket/shared")),
    )
    checkpoints = CheckpointConfig(s3_uri="s3://bucket/checkpoints")
    given: dict[str, Any] = {
        "role": "arn:aws:iam::111111111111:role/Mine",
        "base_job_name": "my-sft",
        "tags": [{"Key": "team", "Value": "ml"}],
        "hyperparameters": {"learning_rate": 0.0005},
        "output_data_config": {"S3OutputPath": "s3://bucket/out", "KmsKeyId": "key-1"},
        "input_data_config": [InputData(channel_name="extra", data_source=str(extra)), shared],
        "environment": {"MY_FLAG": "1"},
        "training_image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/sft:latest",
        "checkpoint_config": checkpoints,
    }
    trainer = SFTTrainer(model=str(tiny_sft_model), training_dataset=data, **given)
    for name in ("role", "base_job_name", "tags", "environment", "training_image"):
        assert getattr(trainer, name) == given[name], name
    assert trainer.input_data_config == given["input_data_config"]
    assert trainer.checkpoint_config is checkpoints
    assert trainer.output_data_config == OutputDataConfig(
        s3_output_path="s3://bucket/out", kms_key_id="key-1"
    )
    assert trainer.hyperparameters.learning_rate == 0.0005
    assert trainer.latest_training_job is None and trainer.notification_rule_arn is None

    request = request_of(trainer)
    channels = {c["ChannelName"]: c["DataSource"] for c in request["InputDataConfig"]}
    assert set(channels) == {"model", "train", "extra", "shared"}  # beside the dataset
    assert channels["extra"] == {"LocalPath": str(extra)}
    assert channels["shared"]["S3DataSource"]["S3Uri"] == "s3://bucket/shared"
    assert request["Environment"] == {"MY_FLAG": "1"}
    assert request["OutputDataConfig"]["S3OutputPath"] == "s3://bucket/out"
    assert request["OutputDataConfig"]["KmsKeyId"] == "key-1"
    assert request["RoleArn"] == given["role"]
    assert request["Sageyard"]["BaseJobName"] == "my-sft"
    assert request["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert request["CheckpointConfig"]["S3Uri"] == "s3://bucket/checkpoints"
    assert request["HyperParameters"]["learning_rate"] == "0.0005"
    # The image is recorded on the trainer, not run: the job names sageyard's program.
    assert request["AlgorithmSpecification"]["AlgorithmName"] == "sft"
    assert "TrainingImage" not in request["AlgorithmSpecification"]
    assert trainer.train(dry_run=True) is None  # the service takes the extra channels


def test_output_data_config_and_s3_output_path_must_agree(tiny_sft_model: Path) -> None:
    model = str(tiny_sft_model)
    same = SFTTrainer(
        model=model,
        s3_output_path="s3://bucket/out",
        output_data_config=OutputDataConfig(s3_output_path="s3://bucket/out"),
    )
    assert same._output_config() == OutputDataConfig(s3_output_path="s3://bucket/out")
    with pytest.raises(ConfigurationError, match="s3_output_path='s3://bucket/a' and output_data"):
        SFTTrainer(
            model=model,
            s3_output_path="s3://bucket/a",
            output_data_config={"s3_output_path": "s3://bucket/b"},
        )
    with pytest.raises(ConfigurationError, match="kms_key_id='k1' and output_data_config"):
        SFTTrainer(model=model, kms_key_id="k1", output_data_config={"KmsKeyId": "k2"})
    with pytest.raises(ConfigurationError, match="disable_output_compression=True and"):
        SFTTrainer(
            model=model,
            disable_output_compression=True,
            output_data_config={"CompressionType": "GZIP"},
        )
    with pytest.raises(ConfigurationError, match=r"output_data_config .* is not valid"):
        SFTTrainer(model=model, output_data_config={"s3_output_path": "not-a-uri"})


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ([InputData(channel_name="train", data_source="s3://bucket/t")], "which the trainer makes"),
        (
            [InputData(channel_name="x", data_source="s3://bucket/x")] * 2,
            "names the channel 'x' twice",
        ),
        ([{"ChannelName": "x"}], r"input_data_config\[0\] must be a Channel or InputData"),
    ],
)
def test_bad_input_data_config(tiny_sft_model: Path, channels: list[Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SFTTrainer(model=str(tiny_sft_model), input_data_config=channels)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"compute": {"instance_type": "ml.m5.xlarge"}}, TypeError, "compute must be a Compute"),
        ({"sequence_length": "4X"}, ConfigurationError, "'1K', '2K', '4K'"),
        ({"environment": {"N": 1}}, ConfigurationError, "dict of strings to strings"),
        ({"hyperparameters": [1]}, ConfigurationError, "hyperparameters must be a dict"),
        ({"is_multimodal": True}, ConfigurationError, "is_multimodal"),
        ({"data_mixing_config": {"a": 1}}, ConfigurationError, "data_mixing_config"),
    ],
)
def test_bad_keywords_fail_clearly(
    tiny_sft_model: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        SFTTrainer(model=str(tiny_sft_model), **kwargs)


def test_sequence_length_takes_the_real_spelling(tiny_sft_model: Path) -> None:
    trainer = SFTTrainer(model=str(tiny_sft_model), sequence_length="4K")
    assert trainer.sequence_length == "4K"
    trainer.hyperparameters.max_seq_length = 4096
    trainer.hyperparameters.validate_length_constraints()
    trainer.hyperparameters.max_seq_length = 4097
    with pytest.raises(ConfigurationError, match=r"sequence length \(4096\)"):
        trainer.hyperparameters.validate_length_constraints()


def test_the_trainer_takes_the_real_keywords(tiny_sft_model: Path, data: str) -> None:
    trainer = SFTTrainer(
        model=str(tiny_sft_model),
        training_dataset=data,
        sequence_length=4096,
        overrides={"max_epochs": 2},
        hyperparameters={"learning_rate": 0.0005},
        environment={"MY_FLAG": "1"},
        tags=[{"Key": "team", "Value": "ml"}],
        disable_output_compression=True,
    )
    assert (trainer.hyperparameters.epochs, trainer.hyperparameters.learning_rate) == (2, 0.0005)
    assert trainer.train(dry_run=True) is None  # every check, no job
    model_trainer = trainer.to_model_trainer()
    assert model_trainer.environment == {"MY_FLAG": "1"}
    assert model_trainer.output_data_config.compression_type == "NONE"  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError, match="call train"):
        trainer.show_metrics()


# -- the base trainer's methods -----------------------------------------------------------


def test_list_supported_models_is_the_catalog_for_the_technique(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sft = SFTTrainer.list_supported_models()
    assert sft == sorted(sft) and "HuggingFaceTB/SmolLM2-135M-Instruct" in sft
    assert sft == sorted(m for m, e in catalog.CATALOG.items() if "sft" in e.techniques)
    only_sft = catalog.CatalogModel(
        model_id="acme/sft-only",
        display_name="SFT only",
        parameters="1M",
        licence="MIT",
        licence_url="https://opensource.org/license/mit",
        techniques=("sft",),
    )
    monkeypatch.setitem(catalog.CATALOG, only_sft.model_id, only_sft)
    assert "acme/sft-only" in SFTTrainer.list_supported_models(session=None)
    assert "acme/sft-only" not in DPOTrainer.list_supported_models()
    assert DPOTrainer.list_supported_models() == sorted(DPOTrainer.list_supported_models())


def test_notifications_are_refused_and_there_are_no_rules(tiny_sft_model: Path) -> None:
    topic = {"sns_topic_arn": "arn:aws:sns:us-west-2:111111111111:alerts"}
    with pytest.raises(ConfigurationError, match="no SNS or EventBridge"):
        SFTTrainer(model=str(tiny_sft_model), notifications=topic)
    trainer = DPOTrainer(model=str(tiny_sft_model))
    assert trainer.notification_rule_arn is None
    assert trainer.list_notification_rules() == []
    assert trainer.list_notification_rules(event_bus_arn="arn:aws:events:::event-bus/x") == []
    with pytest.raises(ValueError, match=r"'sm-pysdk-job-notif-1' not found.*creates no"):
        trainer.delete_notification_rule("sm-pysdk-job-notif-1")


def test_get_resolved_recipe_merges_recipe_overrides_and_direct_settings(
    tiny_sft_model: Path, data: str, tmp_path: Path
) -> None:
    plain = SFTTrainer(model=str(tiny_sft_model))
    with pytest.raises(ValueError, match="needs a recipe=, overrides= or a hyperparameter"):
        plain.get_resolved_recipe()

    trainer = SFTTrainer(
        model=str(tiny_sft_model),
        training_dataset=data,
        recipe="fine-tuning/smollm2/smollm2_135m_sft_lora",
        overrides={"training_config": {"lr": 0.001}},
        base_job_name="again",
    )
    trainer.hyperparameters.epochs = 3
    resolved = trainer.get_resolved_recipe()
    assert resolved["model"] == {"name_or_path": str(tiny_sft_model), "technique": "sft"}
    assert resolved["peft"]["peft_type"] == "lora" and resolved["peft"]["lora_r"] == 8
    assert resolved["trainer"]["learning_rate"] == 0.001  # the override, over the recipe's
    assert resolved["trainer"]["epochs"] == 3  # set directly: highest precedence
    assert resolved["trainer"]["max_seq_length"] == 256  # the recipe's
    assert resolved["data"] == {"train": data} and resolved["run"] == {"name": "again"}
    resolved["trainer"]["epochs"] = 1
    assert trainer.get_resolved_recipe()["trainer"]["epochs"] == 3  # a new dict each time

    # Saved as YAML, it runs the same fine-tuning again.
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(trainer.get_resolved_recipe()))
    again = ModelTrainer.from_recipe(str(path))
    assert again.hyperparameters == trainer.to_model_trainer().hyperparameters
    assert again.base_job_name == "again"

    full = DPOTrainer(
        model=str(tiny_sft_model), training_type="full", hyperparameters={"beta": 0.2}
    )
    resolved = full.get_resolved_recipe()
    assert resolved["peft"] == {"peft_type": None} and resolved["trainer"]["beta"] == 0.2
    assert resolved["model"]["technique"] == "dpo" and "lora_r" not in resolved["trainer"]
