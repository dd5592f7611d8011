"""Pin ``__all__`` of every public module: each name is importable and none is missing."""

from __future__ import annotations

import importlib

import pytest

SHAPES = {
    "Channel",
    "CheckpointConfig",
    "Compute",
    "TrainingJobCompute",
    "DataSource",
    "FileSystemDataSource",
    "InfraCheckConfig",
    "InputData",
    "InstanceGroup",
    "MetricDefinition",
    "Mode",
    "Networking",
    "OutputDataConfig",
    "RemoteDebugConfig",
    "RetryStrategy",
    "S3DataSource",
    "SessionChainingConfig",
    "SourceCode",
    "StoppingCondition",
    "Tag",
    "TensorBoardOutputConfig",
    "TrainingImageConfig",
    "TrainingRepositoryAuthConfig",
    "BaseConfig",
    "DatasetSource",
    "HubAccessConfig",
    "HyperPodCompute",
    "ModelAccessConfig",
    "ShuffleConfig",
}

TUNING_SHAPES = {
    "BestObjectiveNotImproving",
    "ConvergenceDetected",
    "HyperParameterTuningInstanceConfig",
    "HyperParameterTuningJobStrategyConfig",
    "HyperParameterTuningJobWarmStartConfig",
    "HyperbandStrategyConfig",
    "ParentHyperParameterTuningJob",
    "TuningJobCompletionCriteria",
}

EXPECTED = {
    "sageyard.train": {
        "BenchMarkEvaluator",
        "CustomScorerEvaluator",
        "EvaluationPipelineExecution",
        "LLMAsJudgeEvaluator",
        "PipelineExecutionStatus",
        "StepDetail",
        "get_benchmark_properties",
        "get_benchmarks",
        "get_builtin_metrics",
        "Compute",
        "CustomizationTechnique",
        "DPOTrainer",
        "ModelTrainer",
        "RLAIFTrainer",
        "RLVRTrainer",
        "SFTTrainer",
        "Session",
        "TrainingJob",
        "TrainingType",
        "get_execution_role",
    },
    "sageyard.train.evaluate": {
        "BaseEvaluator",
        "BenchMarkEvaluator",
        "CustomScorerEvaluator",
        "EvaluationPipelineExecution",
        "LLMAsJudgeEvaluator",
        "PipelineExecutionStatus",
        "StepDetail",
        "get_benchmark_properties",
        "get_benchmarks",
        "get_builtin_metrics",
        "results_dataframe",
    },
    "sageyard.train.configs": SHAPES,
    "sageyard.core.shapes": SHAPES
    | TUNING_SHAPES
    | {
        "Base",
        "InstancePlacementConfig",
        "InstancePreference",
        "ModelPackageConfig",
        "PlacementSpecification",
        "api_name",
        "check_compute",
        "Shape",
        "from_request",
        "name_or_base",
        "only_known",
        "optional_shape",
        "pascal_case",
        "request_mapping",
        "string_map",
        "to_request",
    },
    "sageyard.core.parameter": {
        "CategoricalParameter",
        "ContinuousParameter",
        "IntegerParameter",
        "ParameterRange",
        "ScalingType",
        "range_from_request",
    },
    "sageyard.train.tuner": {
        "CategoricalParameter",
        "Channel",
        "ContinuousParameter",
        "HyperParameterTuningInstanceConfig",
        "HyperParameterTuningJob",
        "HyperParameterTuningJobStrategyConfig",
        "HyperParameterTuningJobWarmStartConfig",
        "HyperparameterTuner",
        "HyperparameterTuningJobAnalytics",
        "InputData",
        "IntegerParameter",
        "ParameterRange",
        "TuningJobCompletionCriteria",
        "WarmStartTypes",
    },
    "sageyard.core.helper.session_helper": {"Session", "get_execution_role", "s3_path_join"},
    "sageyard.core.training.configs": SHAPES,
    "sageyard.core.utils.exceptions": {
        "FailedStatusError",
        "SageMakerCoreError",
        "TimeoutExceededError",
        "WaiterError",
    },
    "sageyard.storage": {
        "LocalObjectStore",
        "ObjectInfo",
        "ObjectStore",
        "S3ObjectStore",
        "download_prefix",
        "is_s3_uri",
        "join_uri",
        "object_store_for",
        "parse_s3_uri",
        "resolve_local_source",
        "upload_path",
    },
    "sageyard.store": {
        "JobRecord",
        "JobStore",
        "LogChunk",
        "MetricPoint",
        "SqlJobStore",
        "close_pooled_connections",
        "open_store",
        "final_metrics",
    },
    "sageyard.testing": {
        "BEHAVIOURS",
        "ExecutorSuite",
        "JobStoreSuite",
        "ObjectStoreSuite",
        "plan_of",
    },
    "sageyard.train.client": {"Client", "LocalClient", "RemoteClient", "client_for"},
    "sageyard.core.enums": {"BothSpellings", "CustomizationTechnique", "TrainingType"},
    "sageyard.executors": {
        "EXECUTORS",
        "Executor",
        "HostExit",
        "HostHandle",
        "HostOutputs",
        "HostPlan",
        "HostSetupError",
        "Progress",
        "WarmExecutor",
        "check_executor_name",
        "executor_class",
        "executor_for",
    },
    "sageyard.executors.scripted": {"NoProgress", "Script", "ScriptedExecutor", "ScriptedHost"},
    "sageyard.core.resources": {
        "HyperParameterTuningJob",
        "MetricData",
        "ModelArtifacts",
        "ModelPackage",
        "ModelPackageGroup",
        "TrainingJob",
    },
    "sageyard.train.common": {"CustomizationTechnique", "FineTuningOptions", "TrainingType"},
    "sageyard.train.sft_trainer": {"SFTTrainer"},
    "sageyard.train.dpo_trainer": {"DPOTrainer"},
    "sageyard.train.rlvr_trainer": {"RLVRTrainer", "reward_source"},
    "sageyard.train.rlaif_trainer": {"RLAIFTrainer"},
    "sageyard.ai_registry.dataset": {"DataSet", "check_dataset", "dataset_uri"},
    "sageyard.ai_registry.evaluator": {
        "Evaluator",
        "EvaluatorMethod",
        "REWARD_FUNCTION",
        "REWARD_PROMPT",
    },
    "sageyard.core.jumpstart": {"JumpStartConfig"},
    "sageyard.server": {"RunningServer", "check_binding", "create_app", "serve"},
    "sageyard.programs": {
        "PROGRAMS",
        "OptionSpec",
        "ProgramSpec",
        "find_program",
        "fine_tuning_program",
        "image_repository",
        "program",
        "program_for_image",
        "program_names",
    },
}


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_all_is_pinned(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert len(module.__all__) == len(set(module.__all__)), "no name listed twice"
    assert set(module.__all__) == EXPECTED[module_name]


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_every_exported_name_is_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None, f"{module_name}.{name}"
        exec(f"from {module_name} import {name}", {})


def test_configs_reexport_the_shapes() -> None:
    configs = importlib.import_module("sageyard.train.configs")
    shapes = importlib.import_module("sageyard.core.shapes")
    for name in configs.__all__:
        assert getattr(configs, name) is getattr(shapes, name)


def test_train_lists_its_lazy_names() -> None:
    train = importlib.import_module("sageyard.train")
    assert set(dir(train)) >= EXPECTED["sageyard.train"]
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = train.no_such_name


def _modules_with_all() -> list[str]:
    """Every sageyard module that declares ``__all__`` (found without importing them)."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    found = []
    for path in sorted((src / "sageyard").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        declares = any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for node in tree.body
        )
        if declares:
            parts = list(path.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append(".".join(parts))
    return found


@pytest.mark.parametrize("module_name", _modules_with_all())
def test_all_matches_what_the_module_defines(module_name: str) -> None:
    """``__all__`` names only what exists, and every public class or function the module
    defines itself is in it (a name left out is private: give it a leading underscore)."""
    import inspect

    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ lists names it does not have: {missing}"
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module_name
    }
    unlisted = sorted(defined - set(module.__all__))
    assert not unlisted, f"{module_name} defines public {unlisted} but leaves them out of __all__"
