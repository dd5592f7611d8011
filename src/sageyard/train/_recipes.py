"""Training recipes: a YAML file (or a shipped recipe's name) → a fine-tuning ModelTrainer.

A recipe has the sections ``run`` (``name``: the base job name), ``model``
(``name_or_path`` — or ``hf_model_name_or_path`` — and ``technique``: the name of a
fine-tuning program, ``sft`` or ``dpo``),
``peft`` (``peft_type: lora`` with ``lora_r``/``lora_alpha``/``lora_dropout``/
``target_modules``, or ``peft_type: null`` for full fine-tuning), ``data`` (``train``,
``validation``: paths or ``s3://`` URIs) and ``trainer`` (any fine-tuning hyperparameter;
``max_epochs`` and ``lr`` are read as ``epochs`` and ``learning_rate``). ``peft`` and
``data`` may also sit inside ``model``, as in SageMaker HyperPod recipes.

``recipe_overrides`` is merged into the recipe (nested dicts, or dotted keys such as
``{"trainer.max_steps": 10}``).

Shipped recipes (``sageyard/models/recipes``) are named by their path without ``.yaml``, e.g.
``fine-tuning/smollm2/smollm2_135m_sft_lora``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError
from sageyard.programs import fine_tuning_program

RECIPES = Path(__file__).resolve().parent.parent / "models" / "recipes"
_SECTIONS = ("run", "model", "peft", "data", "trainer")
_ALIASES = {"max_epochs": "epochs", "lr": "learning_rate", "r": "lora_r", "alpha": "lora_alpha"}
_ALIASES |= {"dropout": "lora_dropout", "max_length": "max_seq_length"}
_IGNORED_TRAINER_KEYS = {"devices", "num_nodes", "accelerator", "precision"}


def shipped_recipes() -> list[str]:
    """The names of the recipes that ship with sageyard."""
    return sorted(str(p.relative_to(RECIPES).with_suffix("")) for p in RECIPES.rglob("*.yaml"))


def load_recipe(training_recipe: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The recipe as a dict, with ``overrides`` merged in.

    Raises:
        ConfigurationError: No such file or shipped recipe, or not a YAML mapping.
    """
    import yaml

    path = Path(training_recipe).expanduser()
    if not path.is_file():
        shipped = RECIPES / f"{training_recipe.removesuffix('.yaml')}.yaml"
        if not shipped.is_file():
            raise ConfigurationError(
                f"training_recipe {training_recipe!r} is neither a YAML file nor a shipped "
                f"recipe. Shipped recipes: {', '.join(shipped_recipes())}."
            )
        path = shipped
    try:
        recipe = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigurationError(f"The recipe {path} is not valid YAML: {error}") from None
    if not isinstance(recipe, dict):
        raise ConfigurationError(f"The recipe {path} must hold a mapping of sections.")
    for key, value in (overrides or {}).items():
        _merge(recipe, key.split(".") if "." in key else [key], value)
    return recipe


def fine_tuning_settings(recipe: dict[str, Any]) -> dict[str, Any]:
    """What a fine-tuning trainer needs from a recipe: model, technique, training type,
    hyperparameters, datasets and base job name."""
    unknown = set(recipe) - set(_SECTIONS)
    if unknown:
        raise ConfigurationError(
            f"The recipe has unknown sections {sorted(unknown)}; known: {', '.join(_SECTIONS)}."
        )
    model_section = dict(recipe.get("model") or {})
    peft = recipe.get("peft", model_section.pop("peft", None))
    data = dict(recipe.get("data", model_section.pop("data", None)) or {})
    model = model_section.pop("name_or_path", None) or model_section.pop(
        "hf_model_name_or_path", None
    )
    if not model:
        raise ConfigurationError(
            "The recipe names no model: set model.name_or_path (e.g. "
            "'HuggingFaceTB/SmolLM2-135M-Instruct')."
        )
    technique = str(model_section.pop("technique", "sft")).lower()
    fine_tuning_program(technique, "model.technique")
    peft_type = (peft or {}).get("peft_type") if isinstance(peft, dict) else peft
    if peft_type not in (None, "lora", "LORA", "none", "null"):
        raise ConfigurationError(f"peft.peft_type must be 'lora' or null, got {peft_type!r}.")
    lora = peft_type in ("lora", "LORA")
    options: dict[str, Any] = {}
    if lora:
        options.update({k: v for k, v in dict(peft or {}).items() if k != "peft_type"})
    for key, value in dict(recipe.get("trainer") or {}).items():
        if key not in _IGNORED_TRAINER_KEYS:
            options[key] = value
    options = {_ALIASES.get(key, key): value for key, value in options.items()}
    return {
        "model": str(model),
        "technique": technique,
        "training_type": "lora" if lora else "full",
        "accept_eula": bool(model_section.pop("accept_eula", False)),
        "options": options,
        "train": data.get("train") or data.get("train_dir"),
        "validation": data.get("validation") or data.get("val_dir"),
        "base_job_name": (recipe.get("run") or {}).get("name"),
    }


def _merge(target: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    last = path[-1]
    if isinstance(value, dict) and isinstance(target.get(last), dict):
        for key, item in value.items():
            _merge(target[last], [key], copy.deepcopy(item))
    else:
        target[last] = copy.deepcopy(value)
