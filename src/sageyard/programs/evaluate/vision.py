"""Generation with images: a Hugging Face vision-language model, and the images it reads.

A multi-modal benchmark's prompts (MMMU's, through lm-evaluation-harness) mark each image
with ``<image>`` and come with the images in that order. :class:`VisionGenerator` loads a
model folder that ``AutoModelForImageTextToText`` and ``AutoProcessor`` read (LLaVA,
Idefics, Qwen-VL, SmolVLM, …: its ``config.json`` has a ``vision_config``) and generates in
left-padded batches, as :class:`~sageyard.programs.evaluate.generation.TransformersGenerator`
does for text: greedy unless ``temperature`` > 0, cut at the task's stop strings. The
model's chat template (its processor's) places the images as content parts, as
lm-evaluation-harness's ``hf-multimodal`` model does; without one, ``<image>`` becomes the
model's own image token.

:func:`load_image` reads an image however the data holds it: a PIL image (Parquet in the
Hugging Face layout, decoded by ``datasets``), ``{"bytes": ..., "path": ...}`` (Parquet
written without the ``datasets`` features), or a file path, relative to the subtask's
folder (JSONL).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sageyard.programs._common import AlgorithmError
from sageyard.programs.evaluate.generation import Generation, cut, generate_options

log = logging.getLogger(__name__)

__all__ = ["IMAGE_PLACEHOLDER", "VisionGenerator", "load_image"]

#: Where a prompt shows an image (lm-evaluation-harness's placeholder).
IMAGE_PLACEHOLDER = "<image>"


def load_image(value: Any, root: Path) -> Any:
    """``value`` as an RGB PIL image (see the module's docstring for the forms read).

    Raises:
        AlgorithmError: ``value`` is none of them, or its file is missing or not an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        if isinstance(value, Image.Image):
            return value.convert("RGB")
        if isinstance(value, dict) and value.get("bytes"):
            return Image.open(io.BytesIO(value["bytes"])).convert("RGB")
        path = value.get("path") if isinstance(value, dict) else value
        if isinstance(path, str) and path:
            return Image.open(root / path).convert("RGB")
    except (OSError, UnidentifiedImageError) as error:
        raise AlgorithmError(
            f"ClientError: An image of the benchmark data cannot be read ({error}); give "
            "images as the dataset's Image feature, {'bytes': ...} or a file path relative "
            "to the subtask's folder."
        ) from error
    raise AlgorithmError(
        f"ClientError: An image field of the benchmark data holds {type(value).__name__} "
        f"{str(value)[:60]!r}; give images as the dataset's Image feature, {{'bytes': ...}} "
        "or a file path relative to the subtask's folder."
    )


class VisionGenerator:
    """A Hugging Face vision-language model, loaded once, generating in batches."""

    def __init__(self, folder: Path) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.processor = AutoProcessor.from_pretrained(folder)
        self.tokenizer = self.processor.tokenizer
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = AutoModelForImageTextToText.from_pretrained(folder, dtype=dtype)
        self.model = model.to(self.device)  # type: ignore[arg-type]
        self.model.eval()
        self.image_token = _image_token(self.processor, model.config)
        self.flat_images = getattr(model.config, "model_type", "") == "llava"
        self._name = folder.name

    @property
    def name(self) -> str:
        return self._name

    @property
    def reads_images(self) -> bool:
        return True

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.processor, "chat_template", None))

    def chat(self, messages: list[dict[str, str]]) -> str:
        """``messages`` in the processor's chat template, each ``<image>`` an image part."""
        parts = []
        for message in messages:
            content: list[dict[str, str]] = []
            pieces = str(message.get("content", "")).split(IMAGE_PLACEHOLDER)
            for index, piece in enumerate(pieces):
                if piece:
                    content.append({"type": "text", "text": piece})
                if index < len(pieces) - 1:
                    content.append({"type": "image"})
            parts.append({"role": message["role"], "content": content})
        text = self.processor.apply_chat_template(parts, add_generation_prompt=True)
        return str(text)

    def generate(
        self,
        prompts: Sequence[str],
        stop: Sequence[str],
        settings: Generation,
        images: Sequence[Sequence[Any]] | None = None,
    ) -> list[str]:
        import torch

        shown = list(images or [[] for _ in prompts])
        stops = [s for s in stop if s]
        options = generate_options(settings, self.tokenizer, stops)
        out: list[str] = []
        size = max(1, settings.batch_size)
        for start in range(0, len(prompts), size):
            texts = [self._with_image_tokens(p) for p in prompts[start : start + size]]
            batch = [list(row) for row in shown[start : start + size]]
            given: Any = batch
            if self.flat_images:  # LLaVA's processor takes one list for the whole batch
                given = [image for row in batch for image in row]
            encoded = self.processor(
                images=given if any(batch) else None, text=texts, return_tensors="pt", padding=True
            ).to(self.device)
            if "pixel_values" in encoded:
                encoded["pixel_values"] = encoded["pixel_values"].to(self.model.dtype)
            with torch.inference_mode():
                tokens = self.model.generate(**encoded, **options)
            new = tokens[:, encoded["input_ids"].shape[1] :]
            decoded = self.tokenizer.batch_decode(new, skip_special_tokens=True)
            out.extend(cut(text, stops) for text in decoded)
            log.info("Generated %d of %d", min(start + len(texts), len(prompts)), len(prompts))
        return out

    def _with_image_tokens(self, prompt: str) -> str:
        """A prompt without the chat template: ``<image>`` as the model's image token."""
        if self.image_token == IMAGE_PLACEHOLDER:
            return prompt
        return re.sub(re.escape(IMAGE_PLACEHOLDER), lambda _: self.image_token, prompt)


def _image_token(processor: Any, config: Any) -> str:
    """The text that stands for an image in the model's prompts.

    Raises:
        AlgorithmError: Neither the processor nor the config names one.
    """
    token = getattr(processor, "image_token", None)
    if isinstance(token, str) and token:
        return token
    index = getattr(config, "image_token_id", None) or getattr(config, "image_token_index", None)
    if index is None:
        raise AlgorithmError(
            "ClientError: The model's processor names no image token and its config.json "
            "no image_token_id, so its prompts cannot show images; evaluate a "
            "vision-language model saved with its processor."
        )
    return str(processor.tokenizer.convert_ids_to_tokens(int(index)))
