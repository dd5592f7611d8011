"""``RLVRTrainer``: reinforcement learning from verifiable rewards (GRPO), as a training job.

Example:
    >>> from sageyard.train.rlvr_trainer import RLVRTrainer
    >>> trainer = RLVRTrainer(
    ...     model="HuggingFaceTB/SmolLM2-135M-Instruct",
    ...     custom_reward_function="reward.py",  # defines lambda_handler(event, context)
    ...     training_dataset="prompts.jsonl",
    ... )
    >>> trainer.hyperparameters.num_generations = 8
    >>> job = trainer.train()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sageyard.core.exceptions import ConfigurationError
from sageyard.core.session import Session
from sageyard.core.shapes import (
    Channel,
    CheckpointConfig,
    Compute,
    InputData,
    MetricDefinition,
    Networking,
    OutputDataConfig,
    StoppingCondition,
    Tag,
)
from sageyard.models.registry import ModelPackage, ModelPackageGroup
from sageyard.train._fine_tuning import FineTuningTrainer
from sageyard.train.common import CustomizationTechnique, TrainingType

if TYPE_CHECKING:
    from sageyard.ai_registry.evaluator import Evaluator

__all__ = ["RLVRTrainer", "reward_source"]

log = logging.getLogger("sageyard.train")

#: The job's channel holding the reward function's file (read by ``programs/rlvr``).
REWARD_CHANNEL = "reward"
_VERIFIED_ROWS = 3  # as the real SDK


class RLVRTrainer(FineTuningTrainer):
    """GRPO (LoRA or full) with Hugging Face TRL, rewarded by a function, as a training job.

    The parameters are the real SDK's, in its order (see
    :class:`~sageyard.train._fine_tuning.FineTuningTrainer` for the shared ones). Each
    prompt gets ``hyperparameters.num_generations`` completions, rewarded by the reward
    function and compared within their group; ``beta`` weighs a KL penalty to the starting
    model. The reward function runs in sandboxed worker processes of the job (no network,
    ``reward_timeout`` seconds a call, ``reward_memory_mb`` of memory): a call that fails
    gives its samples 0 and counts in ``train:reward_errors``, it never fails the job.

    Args:
        custom_reward_function: An ``Evaluator`` of type RewardFunction (or its ARN, or the
            Lambda-style ARN it was given), or a Python file defining
            ``lambda_handler(event, context)``, in the reference's per-sample contract
            (``event["prompt"]``, ``event["response"]``; returns ``{"reward": float}``) or
            the real SDK's batch one (a list of ``{"id", "messages", "reference_answer"?}``;
            returns ``[{"id", "aggregate_reward_score", "metrics_list"?}]``), told apart by
            calling it. Every other number it returns is logged as ``train:reward/<name>``. Leave it
            out to use ``hyperparameters.preset_reward_function`` (``gsm8k``,
            ``prime_math``, ``prime_code``).
        training_dataset: Prompt-only JSONL rows: ``{"prompt"}`` (text or chat), chat
            ``{"messages"}``, or verl's ``{"prompt", "reward_model": {"ground_truth"}}``;
            ``reference_answer`` and any other field reach the reward function.
        skip_reward_validation: Without it, ``train()`` first rewards the training set's
            first 3 rows (each with its reference answer as the response) in a sandboxed
            worker, and refuses to start a job whose function fails on them.

    The job reports ``train:reward``, ``train:reward_std``, ``train:kl``,
    ``train:completion_length``, ``train:reward_errors`` and, with a validation dataset,
    ``validation:reward``.
    """

    TECHNIQUE = CustomizationTechnique.RLVR
    OWN_CHANNELS: ClassVar[tuple[str, ...]] = (*FineTuningTrainer.OWN_CHANNELS, REWARD_CHANNEL)

    def __init__(
        self,
        model: str | ModelPackage,
        training_type: TrainingType | str = TrainingType.LORA,
        model_package_group: str | ModelPackageGroup | None = None,
        custom_reward_function: str | Path | Evaluator | None = None,
        compute: Compute | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        training_dataset: Any = None,
        validation_dataset: Any = None,
        s3_output_path: str | None = None,
        kms_key_id: str | None = None,
        networking: Networking | None = None,
        accept_eula: bool = False,
        stopping_condition: StoppingCondition | None = None,
        sequence_length: int | str | None = None,
        recipe: str | None = None,
        overrides: dict[str, Any] | None = None,
        is_multimodal: bool | None = None,
        skip_reward_validation: bool = False,
        base_model_name: str | None = None,
        disable_output_compression: bool = False,
        notifications: dict[str, Any] | None = None,
        *,
        sagemaker_session: Session | None = None,
        role: str | None = None,
        base_job_name: str | None = None,
        tags: list[Tag | dict[str, str]] | None = None,
        hyperparameters: dict[str, Any] | None = None,
        output_data_config: OutputDataConfig | dict[str, Any] | None = None,
        input_data_config: list[Channel | InputData] | None = None,
        environment: dict[str, str] | None = None,
        training_image: str | None = None,
        checkpoint_config: CheckpointConfig | None = None,
    ) -> None:
        from sageyard.ai_registry.evaluator import Evaluator

        if custom_reward_function is not None and not isinstance(
            custom_reward_function, str | Path | Evaluator
        ):
            raise ConfigurationError(
                "custom_reward_function must be a Python file defining lambda_handler(event, "
                f"context), an Evaluator or its ARN, got {type(custom_reward_function).__name__}."
            )
        self.custom_reward_function = custom_reward_function
        self.skip_reward_validation = skip_reward_validation
        super().__init__(
            model,
            training_type,
            model_package_group,
            compute,
            mlflow_resource_arn,
            mlflow_experiment_name,
            mlflow_run_name,
            training_dataset,
            validation_dataset,
            s3_output_path,
            kms_key_id,
            networking,
            accept_eula,
            stopping_condition,
            sequence_length,
            recipe,
            overrides,
            is_multimodal,
            base_model_name,
            disable_output_compression,
            notifications,
            sagemaker_session=sagemaker_session,
            role=role,
            base_job_name=base_job_name,
            tags=tags,
            hyperparameters=hyperparameters,
            output_data_config=output_data_config,
            input_data_config=input_data_config,
            environment=environment,
            training_image=training_image,
            checkpoint_config=checkpoint_config,
        )

    def _technique_inputs(
        self, datasets: dict[str, str], session: Session
    ) -> tuple[list[InputData], list[MetricDefinition]]:
        """The ``reward`` channel (the function's file) and a metric per extra metric it
        reports, the function verified first unless ``skip_reward_validation``.

        Raises:
            ConfigurationError: No reward function, or both a file and a preset, or a file
                that is not there, or (verified) one that fails on the first rows.
        """
        from sageyard.programs._rewards.presets import PRESET_METRICS

        preset = self.hyperparameters.preset_reward_function
        if self.custom_reward_function is None:
            if not preset:
                raise ConfigurationError(
                    "RLVR training requires a reward signal. Provide either "
                    "'custom_reward_function' (a Python file defining lambda_handler(event, "
                    "context)) when initializing RLVRTrainer, or set the "
                    "'preset_reward_function' hyperparameter (e.g. "
                    "trainer.hyperparameters.preset_reward_function = 'prime_code')."
                )
            return [], _reward_metrics(PRESET_METRICS[preset])
        if preset:
            raise ConfigurationError(
                f"Both custom_reward_function={str(self.custom_reward_function)!r} and "
                f"hyperparameters.preset_reward_function={preset!r} are set; give one reward "
                "function (set preset_reward_function = '' to use your own)."
            )
        with tempfile.TemporaryDirectory(prefix="sageyard-reward-") as folder:
            uri, file = reward_source(self.custom_reward_function, session, Path(folder))
            metrics: list[str] = []
            if not self.skip_reward_validation and "train" in datasets:
                metrics = self._verify(file, datasets["train"], session)
        channel = InputData(channel_name=REWARD_CHANNEL, data_source=uri)
        return [channel], _reward_metrics(metrics)

    def _verify(self, file: Path, dataset: str, session: Session) -> list[str]:
        """Reward the first rows of ``dataset`` with ``file`` in a sandboxed worker, with the
        job's time and memory limits; the names of the extra metrics it reported."""
        from sageyard.models.datasets import read_dataset
        from sageyard.programs._rewards import verify
        from sageyard.programs._rewards.pool import RewardPool

        program = self._program()
        assert program.dataset is not None
        rows = read_dataset(dataset, program.dataset, session.objects)[:_VERIFIED_ROWS]
        log.info("Verifying reward function with %d sample(s)...", len(rows))
        options = self.hyperparameters
        pool = RewardPool(
            file, workers=1, timeout=options.reward_timeout, memory_mb=options.reward_memory_mb
        )
        try:
            pool.start()
            metrics = verify(pool.score, rows)
        except RuntimeError as error:  # the file does not load
            raise ConfigurationError(f"Reward function verification failed: {error}") from None
        finally:
            pool.close()
        log.info("Reward function verification successful (%s contract)", pool.contract)
        return metrics


def reward_source(
    value: Any,
    session: Session,
    folder: Path,
    what: str = "custom_reward_function",
    user: str = "RLVR",
) -> tuple[str, Path]:
    """Where the job reads the reward function (a local path or an ``s3://`` URI), and a
    local copy of it to verify (fetched into ``folder`` when it is stored).

    ``value`` is a ``.py`` file, an ``Evaluator`` of type RewardFunction, its ARN, or the
    Lambda-style ARN a registered evaluator was given; ``what`` names the parameter that
    gave it in messages, ``user`` what needs it.
    """
    from sageyard.ai_registry.evaluator import REWARD_FUNCTION, Evaluator
    from sageyard.core.exceptions import ResourceNotFound

    evaluator: Evaluator | None = None
    if isinstance(value, Evaluator):
        evaluator = value
    elif str(value).startswith("arn:"):
        text = str(value)
        try:
            if ":lambda:" in text:
                evaluator = Evaluator.by_lambda_arn(text, session)
            else:
                evaluator = Evaluator.get(text, session)
        except ResourceNotFound as error:  # the real SDK's ValueError
            raise ConfigurationError(
                f"{what}={text!r} cannot be resolved: {error.message}"
            ) from None
    if evaluator is not None:
        if evaluator.type != REWARD_FUNCTION:
            raise ConfigurationError(
                f"{what} is the evaluator {evaluator.name!r} of type {evaluator.type!r}; "
                f"{user} needs a {REWARD_FUNCTION!r} evaluator (a reward prompt goes to "
                "RLAIFTrainer(reward_prompt=...))."
            )
        assert evaluator.source is not None
        return evaluator.source, evaluator.local_file(folder)
    path = Path(str(value)).expanduser()
    if not path.is_file() or path.suffix != ".py":
        raise ConfigurationError(
            f"{what}={str(value)!r} is not a Python file; give the path of a "
            ".py file defining lambda_handler(event, context), an Evaluator, or its ARN."
        )
    return str(path.resolve()), path.resolve()


def _reward_metrics(names: list[str] | tuple[str, ...]) -> list[MetricDefinition]:
    from sageyard.programs._llm.metrics import metric_regex
    from sageyard.programs._rl.spec import extra_metric

    metrics = [f"train:{extra_metric(name)}" for name in names]
    return [MetricDefinition(name=name, regex=metric_regex(name)) for name in metrics]
