"""How the evaluate program makes a model answer: batched generation through transformers.

A :class:`Generator` turns prompts into completions, each cut at the first of its stop
strings. :class:`TransformersGenerator` runs a Hugging Face model folder (CPU or GPU),
left-padded batches, greedy unless ``temperature`` > 0 (then ``top_p`` / ``top_k``
sampling). :class:`ScriptedGenerator` is the test double: a model folder whose
``config.json`` says ``"model_type": "sageyard-scripted"`` answers from its
``script.json`` (the first rule whose ``contains`` is in the prompt gives the response;
else ``default``; ``delay`` seconds pass per prompt), so an evaluation's accuracy is known
exactly.

Multi-modal benchmarks (MMMU) give each prompt its images: a vision-language model folder
(its ``config.json`` has a ``vision_config``) generates through
:class:`~sageyard.programs.evaluate.vision.VisionGenerator`; a scripted model with a
``vision_config`` reads them too (a rule's ``image_size`` ``[width, height]`` must match the
prompt's first image).

Example:
    >>> from pathlib import Path
    >>> cut("The answer is (B).\\nQ: next", ["Q:"])
    'The answer is (B).\\n'
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = [
    "SCRIPTED_MODEL_TYPE",
    "Generation",
    "Generator",
    "ScriptedGenerator",
    "TransformersGenerator",
    "cut",
    "prompt_of",
    "read_config",
]

#: The ``model_type`` of a scripted model folder's ``config.json``.
SCRIPTED_MODEL_TYPE = "sageyard-scripted"


@dataclass(frozen=True)
class Generation:
    """How to generate: the hyperparameters ``max_new_tokens``, ``temperature``, ``top_p``,
    ``top_k`` (-1: off) and the batch size."""

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = -1
    batch_size: int = 8


class Generator(Protocol):
    """Completions for prompts (plain text, chat templates already applied).

    ``images`` (one list per prompt, PIL images) only for a generator that
    :attr:`reads_images`; its prompts mark each image's place with ``<image>``.
    """

    def generate(
        self,
        prompts: Sequence[str],
        stop: Sequence[str],
        settings: Generation,
        images: Sequence[Sequence[Any]] | None = None,
    ) -> list[str]: ...

    @property
    def reads_images(self) -> bool: ...

    def chat(self, messages: list[dict[str, str]]) -> str:
        """``messages`` as the model's chat template renders them, ready to continue."""
        ...

    @property
    def has_chat_template(self) -> bool: ...

    @property
    def name(self) -> str: ...


def cut(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the first of the ``stop`` strings (lm-evaluation-harness's rule)."""
    for marker in stop:
        if marker:
            text = text.split(marker, 1)[0]
    return text


def prompt_of(generator: Generator, messages: list[dict[str, Any]], chat: bool) -> str:
    """The prompt of chat ``messages``: the model's chat template when ``chat`` and it has
    one, else their contents, a line each."""
    if chat and generator.has_chat_template:
        return generator.chat(messages)
    return "\n".join(str(m.get("content", "")) for m in messages)


def read_config(folder: Path) -> dict[str, Any]:
    """The model folder's ``config.json`` ({} when it has none)."""
    try:
        value = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class ScriptedGenerator:
    """Answers from ``script.json``: ``{"rules": [{"contains", "response", "image_size"}],
    "default", "delay"}``."""

    def __init__(self, folder: Path) -> None:
        script = json.loads((folder / "script.json").read_text())
        self.rules = [
            (rule["contains"], rule["response"], rule.get("image_size"))
            for rule in script.get("rules", [])
        ]
        self.default = str(script.get("default", ""))
        self.delay = float(script.get("delay", 0.0))
        self._name = folder.name
        self._reads_images = "vision_config" in read_config(folder)

    @property
    def reads_images(self) -> bool:
        return self._reads_images

    @property
    def name(self) -> str:
        return self._name

    @property
    def has_chat_template(self) -> bool:
        return False

    def chat(self, messages: list[dict[str, str]]) -> str:
        return "\n".join(str(m.get("content", "")) for m in messages)

    def generate(
        self,
        prompts: Sequence[str],
        stop: Sequence[str],
        settings: Generation,
        images: Sequence[Sequence[Any]] | None = None,
    ) -> list[str]:
        out = []
        for index, prompt in enumerate(prompts):
            time.sleep(self.delay)
            shown = images[index] if images else []
            size = list(shown[0].size) if shown else None
            response = next(
                (r for c, r, want in self.rules if c in prompt and want in (None, size)),
                self.default,
            )
            out.append(cut(response, stop))
        return out


class TransformersGenerator:
    """A Hugging Face causal language model, loaded once, generating in batches.

    Subclasses change how a model folder loads (:meth:`_load`) and how a batch is encoded
    (:meth:`_encode`); batching, sampling, stop strings and decoding are shared.
    """

    def __init__(self, folder: Path) -> None:
        import torch

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.tokenizer, model = self._load(folder, dtype)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = model.to(self.device)
        self.model.eval()
        self._name = folder.name

    def _load(self, folder: Path, dtype: Any) -> tuple[Any, Any]:
        """The folder's tokenizer and model."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder)
        return tokenizer, AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)

    def _encode(self, prompts: list[str], images: list[list[Any]]) -> Any:
        """One batch of prompts as the model's inputs, on its device."""
        encoded = self.tokenizer(
            prompts, return_tensors="pt", padding=True, add_special_tokens=False
        )
        return encoded.to(self.device)

    @property
    def name(self) -> str:
        return self._name

    @property
    def reads_images(self) -> bool:
        return False

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def chat(self, messages: list[dict[str, str]]) -> str:
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        return str(text)

    def generate(
        self,
        prompts: Sequence[str],
        stop: Sequence[str],
        settings: Generation,
        images: Sequence[Sequence[Any]] | None = None,
    ) -> list[str]:
        import torch

        out: list[str] = []
        stops = [s for s in stop if s]
        options = _generate_options(settings, self.tokenizer, stops)
        size = max(1, settings.batch_size)
        shown = [list(row) for row in images] if images else [[] for _ in prompts]
        for start in range(0, len(prompts), size):
            batch = list(prompts[start : start + size])
            encoded = self._encode(batch, shown[start : start + size])
            with torch.inference_mode():
                tokens = self.model.generate(**encoded, **options)
            new = tokens[:, encoded["input_ids"].shape[1] :]
            texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
            out.extend(cut(text, stops) for text in texts)
            log.info("Generated %d of %d", min(start + len(batch), len(prompts)), len(prompts))
        return out


def _generate_options(settings: Generation, tokenizer: Any, stops: list[str]) -> dict[str, Any]:
    """``model.generate``'s options for ``settings``: greedy unless ``temperature`` > 0,
    stopping at ``stops``."""
    sample = settings.temperature > 0
    options: dict[str, Any] = {
        "max_new_tokens": settings.max_new_tokens,
        "do_sample": sample,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if sample:
        options.update(temperature=settings.temperature, top_p=settings.top_p)
        if settings.top_k > 0:
            options["top_k"] = settings.top_k
    if stops:
        options.update(stop_strings=stops, tokenizer=tokenizer)
    return options
