"""The program registry: one "module:NAME" line per program, resolved lazily and checked."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.parameter import CategoricalParameter, ParameterRange
from sageyard.core.shapes import MetricDefinition
from sageyard.models import catalog
from sageyard.programs import (
    PROGRAMS,
    OptionSpec,
    ProgramSpec,
    find_program,
    image_repository,
    program,
    program_for_image,
    program_names,
)
from sageyard.train._fine_tuning import FineTuningTrainer, trainer_class

HEAVY = ["torch", "transformers", "trl", "peft", "datasets", "mlflow", "numpy", "xgboost"]
ECR = "683313688378.dkr.ecr.us-east-1.amazonaws.com"


def loaded_after(statement: str) -> list[str]:
    """The watched packages loaded by ``statement`` in a new process."""
    code = (
        "import json, sys\n"
        f"{statement}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_program_is_registered() -> None:
    assert program_names() == [
        "xgboost",
        "kmeans",
        "linear-learner",
        "sft",
        "dpo",
        "rlvr",
        "rlaif",
        "evaluate",
    ]
    assert program_names(fine_tuning=True) == ["sft", "dpo", "rlvr", "rlaif"]
    assert program_names(fine_tuning=False) == ["xgboost", "kmeans", "linear-learner", "evaluate"]


def test_an_unknown_name_lists_the_known_ones_and_how_to_run_your_own_code() -> None:
    with pytest.raises(ConfigurationError) as caught:
        program("lightgbm")
    message = str(caught.value)
    assert "'lightgbm' is not a built-in algorithm" in message
    assert "known: dpo, evaluate, kmeans, linear-learner, rlaif, rlvr, sft, xgboost" in message
    assert "training_image=... and source_code=..." in message
    assert isinstance(caught.value, ValueError)
    assert find_program("lightgbm") is None


def test_names_are_case_insensitive() -> None:
    assert program("XGBoost") is program("xgboost") is find_program("xgboost")


@pytest.mark.parametrize(
    ("image", "name"),
    [
        (f"{ECR}/sagemaker-xgboost:1.7-1", "xgboost"),
        (f"{ECR}/xgboost:latest", "xgboost"),
        ("174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1", "kmeans"),
        (
            "174872318107.dkr.ecr.us-west-2.amazonaws.com/linear-learner@sha256:abc",
            "linear-learner",
        ),
        ("linear-learner", "linear-learner"),
    ],
)
def test_an_algorithm_image_selects_its_program(image: str, name: str) -> None:
    found = program_for_image(image)
    assert found is not None and found.name == name


def test_other_images_select_no_program() -> None:
    assert program_for_image(f"{ECR}/pytorch-training:2.1-cpu-py310") is None
    assert program_for_image("my-registry:5000/sft:1") is None  # fine-tuning has no image


def test_image_repository() -> None:
    assert image_repository(f"{ECR}/sagemaker-xgboost:1.7-1") == "sagemaker-xgboost"
    assert image_repository("registry:5000/team/kmeans@sha256:ff") == "kmeans"
    assert image_repository("xgboost") == "xgboost"


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_every_registered_program_resolves_to_a_well_formed_spec(name: str) -> None:
    spec = program(name)
    assert isinstance(spec, ProgramSpec)
    assert spec.name == name and spec.display_name
    assert PROGRAMS[name] == f"{spec.module}.spec:PROGRAM"  # one folder per program
    assert importlib.util.find_spec(f"{spec.module}.__main__") is not None
    names = [definition.name for definition in spec.metric_definitions]
    assert names and len(names) == len(set(names))
    assert all(isinstance(d, MetricDefinition) for d in spec.metric_definitions)
    assert spec.tunable_ranges or name == "evaluate"  # evaluation trains nothing to tune
    assert all(isinstance(r, ParameterRange) for r in spec.tunable_ranges.values())
    if spec.fine_tuning:
        assert spec.dataset is not None and spec.training_types == ("lora", "full")
        assert not spec.hyperparameters and not spec.image_repositories
        for training_type in spec.training_types:
            assert set(spec.tunable_ranges) <= set(spec.options[training_type])
            assert all(isinstance(o, OptionSpec) for o in spec.options[training_type].values())
    else:
        # a built-in algorithm is picked by SageMaker's image too; evaluation by name only
        assert (spec.image_repositories or name == "evaluate") and spec.hyperparameters
        assert spec.dataset is None and not spec.options
        documented = {h.name for h in spec.hyperparameters}
        documented |= {alias for h in spec.hyperparameters for alias in h.aliases}
        assert set(spec.tunable_ranges) <= documented
        spec.check_hyperparameters({"anything": "goes"})  # checked when the job starts


def test_a_tunable_category_is_a_value_the_program_accepts() -> None:
    for name in program_names(fine_tuning=False):
        by_name = {h.name: h for h in program(name).hyperparameters}
        for hyperparameter, parameter in program(name).tunable_ranges.items():
            choices = by_name[hyperparameter].choices
            if isinstance(parameter, CategoricalParameter) and choices is not None:
                assert set(parameter.values) <= set(choices), (name, hyperparameter)


def test_no_image_selects_two_programs() -> None:
    repositories = [r for name in PROGRAMS for r in program(name).image_repositories]
    assert len(repositories) == len(set(repositories))


@pytest.mark.parametrize("name", ["sft", "dpo"])
def test_a_fine_tuning_program_names_its_facade_class(name: str) -> None:
    spec = program(name)
    cls = spec.trainer_class()
    assert issubclass(cls, FineTuningTrainer) and cls.TECHNIQUE.value == name
    assert trainer_class(name) is cls
    assert name in catalog.TECHNIQUES  # the catalog knows every technique sageyard ships


def test_a_built_in_algorithm_has_no_facade_or_options() -> None:
    with pytest.raises(ConfigurationError, match="'kmeans' is not a fine-tuning program"):
        program("kmeans").trainer_class()
    with pytest.raises(
        ValueError,
        match=(
            "technique must be a fine-tuning program, 'sft', 'dpo', 'rlvr' or 'rlaif', but "
            "got 'kmeans'"
        ),
    ):
        trainer_class("kmeans")
    with pytest.raises(ValueError, match="but got 'cpt'"):
        trainer_class("cpt")


def test_the_dataset_channels_are_checked_by_the_program() -> None:
    spec = program("sft")
    with pytest.raises(ValueError, match="A SFT job needs a training dataset"):
        spec.check_channels({"model": "/m"}, objects=None)  # type: ignore[arg-type]
    program("xgboost").check_channels({}, objects=None)  # type: ignore[arg-type]


def test_a_spec_is_frozen_and_checks_its_facade() -> None:
    spec = program("sft")
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.tunable_ranges["x"] = CategoricalParameter(["a"])  # type: ignore[index]
    with pytest.raises(ValueError, match="facade must be 'module:NAME'"):
        ProgramSpec(name="x", module="m", display_name="X", facade="no-colon")
    with pytest.raises(ValueError, match="declares its options and its dataset format too"):
        ProgramSpec(name="x", module="m", display_name="X", facade="m:C")


def test_looking_programs_up_imports_no_heavy_library() -> None:
    statement = (
        "from sageyard.programs import program, program_names, program_for_image\n"
        "for name in program_names(): program(name)\n"
        "program_for_image('x/sagemaker-xgboost:1')\n"
        "program('dpo').option_specs('lora')"
    )
    assert loaded_after(statement) == []


def test_the_registry_resolves_a_spec_only_when_asked() -> None:
    statement = (
        "import sageyard.programs\n"
        "assert 'sageyard.programs.xgboost.spec' not in sys.modules\n"
        "sageyard.programs.program('kmeans')\n"
        "assert 'sageyard.programs.xgboost.spec' not in sys.modules\n"
        "assert 'sageyard.programs.kmeans.spec' in sys.modules"
    )
    assert loaded_after(statement) == []
