"""``RLAIFTrainer``: reinforcement learning from AI feedback (GRPO, a judge's scores), as a job.

Example:
    >>> from sageyard.train.rlaif_trainer import RLAIFTrainer
    >>> trainer = RLAIFTrainer(
    ...     model="HuggingFaceTB/SmolLM2-135M-Instruct",
    ...     reward_model_id="openai.gpt-oss-20b-1:0",
    ...     reward_prompt="Builtin.Helpfulness",
    ...     training_dataset="prompts.jsonl",
    ... )
    >>> trainer.hyperparameters.judge_prompt_template
    'helpfulness'
    >>> job = trainer.train()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sageyard.core.exceptions import ConfigurationError, ResourceNotFound
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

__all__ = ["RLAIFTrainer"]

log = logging.getLogger("sageyard.train")

#: The job's channels: a reward prompt template file, and the stand-in judge's model.
PROMPT_CHANNEL = "reward_prompt"
JUDGE_CHANNEL = "judge"


class RLAIFTrainer(FineTuningTrainer):
    """GRPO (LoRA or full) with Hugging Face TRL, rewarded by a judge model, as a job.

    The positional parameters are the real SDK's, in its order; ``compute``, ``recipe``,
    ``overrides``, ``base_model_name`` and ``disable_output_compression`` (which the real
    RLAIFTrainer lacks) are keyword-only, beside the base trainer's keywords. Each prompt
    gets ``hyperparameters.num_generations`` completions; the judge scores each from 0 to
    10 under the reward prompt, and GRPO compares them within their group.

    Args:
        reward_model_id: The reference's Bedrock reward model (checked against its
            allow-list and the session's region). Its judge is the OpenAI-compatible
            endpoint that ``SAGEYARD_JUDGE_ENDPOINTS`` maps it to (vLLM, llama.cpp's
            server, Ollama, a gateway) or, without one, a stand-in: the local model
            ``SAGEYARD_LOCAL_JUDGE`` (SmolLM2-135M-Instruct by default), run in the job.
        reward_prompt: A preset (``"Builtin.Helpfulness"``, ``"Builtin.Harmlessness"``,
            ``"Builtin.Honesty"``, ``"Builtin.Conciseness"``, ``"Builtin.Summarize"``, or
            the real SDK's spellings: ``"helpfulness"``, ``"helpfulness.jinja"``), a Jinja
            template file with ``{{ prompt }}`` and ``{{ response }}``, or an ``Evaluator``
            of type RewardPrompt (or its ARN or name). Its answer must hold ``Score: N``,
            N from 0 to 10; one without is a reward error (reward 0, counted in
            ``train:reward_errors``).
        training_dataset: Prompt-only JSONL rows, as RLVRTrainer's.

    The job reports ``train:reward``, ``train:reward_std``, ``train:kl``,
    ``train:completion_length``, ``train:reward_errors`` and ``validation:reward``.
    """

    TECHNIQUE = CustomizationTechnique.RLAIF
    OWN_CHANNELS: ClassVar[tuple[str, ...]] = (
        *FineTuningTrainer.OWN_CHANNELS,
        PROMPT_CHANNEL,
        JUDGE_CHANNEL,
    )

    def __init__(
        self,
        model: str | ModelPackage,
        training_type: TrainingType | str = TrainingType.LORA,
        model_package_group: str | ModelPackageGroup | None = None,
        reward_model_id: str | None = None,
        reward_prompt: str | Path | Evaluator | None = None,
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
        is_multimodal: bool | None = None,
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
        compute: Compute | None = None,
        recipe: str | None = None,
        overrides: dict[str, Any] | None = None,
        base_model_name: str | None = None,
        disable_output_compression: bool = False,
    ) -> None:
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
        self.reward_model_id = self._check_reward_model(reward_model_id)
        self.reward_prompt = reward_prompt
        self._evaluator_arn: str | None = None
        self._prompt_source: str | None = None  # the reward_prompt channel's template
        if reward_model_id:
            self.hyperparameters.judge_model_id = f"bedrock/{reward_model_id}"
        if reward_prompt is not None:
            self._take_reward_prompt(reward_prompt)

    def _check_reward_model(self, reward_model_id: str | None) -> str | None:
        """The reference's allow-list, and the session's region (the real SDK's words)."""
        from sageyard.programs.rlaif.spec import REWARD_MODELS

        if not reward_model_id:
            return None
        if reward_model_id not in REWARD_MODELS:
            raise ConfigurationError(
                f"Invalid reward_model_id '{reward_model_id}'. "
                f"Available models are: {list(REWARD_MODELS)}"
            )
        region = self._session().boto_region_name
        regions = list(REWARD_MODELS[reward_model_id])
        if region not in regions:
            raise ConfigurationError(
                f"Reward model '{reward_model_id}' is not available in region '{region}'. "
                f"Available regions for this model: {regions}"
            )
        return reward_model_id

    def _take_reward_prompt(self, value: Any) -> None:
        """A preset sets ``judge_prompt_template``; a template file or an evaluator's is
        sent as the ``reward_prompt`` channel."""
        from sageyard.ai_registry.evaluator import Evaluator
        from sageyard.programs._judges.prompts import PRESET_PROMPTS, check_template, preset_name

        if isinstance(value, Evaluator):
            self._take_evaluator(value)
        elif isinstance(value, str | Path) and Path(value).expanduser().is_file():
            file = Path(value).expanduser().resolve()
            check_template(file.read_text(encoding="utf-8"), str(value))
            self._prompt_source = str(file)
        elif isinstance(value, str):
            name = preset_name(value)
            if not value.startswith("Builtin") and name not in PRESET_PROMPTS:
                try:  # an evaluator's ARN or name
                    self._take_evaluator(Evaluator.get(value, self._session()))
                except ResourceNotFound as error:
                    raise ConfigurationError(
                        f"Custom prompt '{value}' not found in HubContent: {error.message} "
                        "Pass a preset (Builtin.Helpfulness, ...), a template file, or an "
                        "Evaluator of type RewardPrompt."
                    ) from None
            elif name not in PRESET_PROMPTS:
                options = list(PRESET_PROMPTS)
                raise ConfigurationError(
                    f"Selected reward prompt '{value}' is not an available preset. Choose one "
                    f"from the available options: {options} (pass the name directly, e.g. "
                    f"reward_prompt='{options[0]}', or with the 'Builtin.' prefix). "
                    "Alternatively pass an evaluator ARN or a registered prompt's name."
                )
            else:
                self.hyperparameters.judge_prompt_template = name
        else:
            raise ConfigurationError(
                "reward_prompt must be a preset name, a template file or an Evaluator, got "
                f"{type(value).__name__}."
            )

    def _take_evaluator(self, evaluator: Evaluator) -> None:
        from sageyard.ai_registry.evaluator import REWARD_PROMPT

        if evaluator.type != REWARD_PROMPT:
            raise ConfigurationError(
                f"reward_prompt is the evaluator {evaluator.name!r} of type {evaluator.type!r}; "
                f"RLAIF needs a {REWARD_PROMPT!r} evaluator (a reward function goes to "
                "RLVRTrainer(custom_reward_function=...))."
            )
        assert evaluator.source is not None
        self._evaluator_arn = evaluator.arn
        self._prompt_source = evaluator.source

    def _technique_inputs(
        self, datasets: dict[str, str], session: Session
    ) -> tuple[list[InputData], list[MetricDefinition]]:
        """The ``reward_prompt`` channel (a template), and the judge: the endpoint the
        reward model is mapped to, or the stand-in model as the ``judge`` channel.

        Raises:
            ConfigurationError: No reward prompt, or both a preset and a template.
        """
        options = self.hyperparameters
        if self._prompt_source is None and not options.judge_prompt_template:
            raise ConfigurationError(
                "RLAIF training requires a reward prompt: pass reward_prompt= (a preset such "
                "as 'Builtin.Helpfulness', a template file, or an Evaluator of type "
                "RewardPrompt) when initializing RLAIFTrainer."
            )
        if self._prompt_source is not None and options.judge_prompt_template:
            raise ConfigurationError(
                f"Both reward_prompt={str(self.reward_prompt)!r} (a template) and "
                f"hyperparameters.judge_prompt_template={options.judge_prompt_template!r} are "
                "set; give one reward prompt."
            )
        channels = []
        if self._prompt_source is not None:
            channels.append(InputData(channel_name=PROMPT_CHANNEL, data_source=self._prompt_source))
        endpoints = {
            model: (url, served) for model, url, served in session.settings.judge_endpoints
        }
        if not options.judge_endpoint and self.reward_model_id in endpoints:
            url, served = endpoints[self.reward_model_id]
            options.judge_endpoint = url
            options.judge_served_model = served
        if not options.judge_endpoint:
            from sageyard.models.hub import resolve_model_path

            stand_in = session.settings.local_judge
            log.info(
                "No judge endpoint for %s: a stand-in judge (%s) will score the run; map it "
                "with SAGEYARD_JUDGE_ENDPOINTS.",
                self.reward_model_id or "the reward model",
                stand_in,
            )
            folder = resolve_model_path(stand_in, session.settings.home)
            channels.append(InputData(channel_name=JUDGE_CHANNEL, data_source=str(folder)))
        return channels, []
