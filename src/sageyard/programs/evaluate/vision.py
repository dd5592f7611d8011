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
from pathlib import Path
from typing import Any

from sageyard.programs._common import AlgorithmError
from sageyard.programs.evaluate.generation import TransformersGenerator

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


class VisionGenerator(TransformersGenerator):
    """A Hugging Face vision-language model, loaded once, generating in batches."""

    def _load(self, folder: Path, dtype: Any) -> tuple[Any, Any]:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.processor = AutoProcessor.from_pretrained(folder)
        model = AutoModelForImageTextToText.from_pretrained(folder, dtype=dtype)
        self.image_token = _image_token(self.processor, model.config)
        self.flat_images = getattr(model.config, "model_type", "") == "llava"
        return self.processor.tokenizer, model

    def _encode(self, prompts: list[str], images: list[list[Any]]) -> Any:
        """Prompts (``<image>`` as the model's image token) and their images; LLaVA's
        processor takes one list of images for the whole batch."""
        texts = [self._with_image_tokens(prompt) for prompt in prompts]
        given: Any = [image for row in images for image in row] if self.flat_images else images
        encoded = self.processor(
            images=given if any(images) else None, text=texts, return_tensors="pt", padding=True
        ).to(self.device)
        if "pixel_values" in encoded:
            encoded["pixel_values"] = encoded["pixel_values"].to(self.model.dtype)
        return encoded

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

    def _with_image_tokens(self, prompt: str) -> str:
        """A prompt without the chat template: ``<image>`` as the model's image token."""
        return prompt.replace(IMAGE_PLACEHOLDER, self.image_token)


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
