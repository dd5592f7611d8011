"""A tiny causal language model, made offline for fine-tuning tests.

:func:`make_tiny_model` saves a 2-layer Llama (hidden size 32, 4 heads, ~43k parameters)
and a 384-token byte-level BPE tokenizer trained on :data:`CORPUS`, with ChatML special
tokens and a ChatML chat template, into a folder, as ``save_pretrained`` does for a real
model: what a job's ``model`` channel holds. Making it takes ~10 ms once torch and
transformers are imported (~3 s the first time).

Example:
    >>> folder = make_tiny_model(tmp_path / "tiny")  # doctest: +SKIP
    >>> AutoModelForCausalLM.from_pretrained(folder)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD = "<|endoftext|>", "<|im_end|>", "<|pad|>"
IM_START = "<|im_start|>"
SPECIAL_TOKENS = [PAD, BOS, IM_START, EOS]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Text with the words of the tests' tasks, so that each becomes one token or two.
CORPUS = [
    "Q: apple banana cherry grape lemon mango melon peach pear plum berry olive",
    "A: red green blue yellow black white pink brown gray orange",
    "one two three four five six seven eight nine ten",
    "yes no good bad right wrong answer question user assistant system",
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! What is the color of the sky? It is blue.",
]

VOCAB_SIZE = 384


def make_tiny_model(folder: Path) -> Path:
    """Save a tiny Llama causal LM and its tokenizer into ``folder``; return ``folder``.

    The weights are seeded, so every call saves the same model.
    """
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = make_tiny_tokenizer()
    # weights larger than Llama's 0.02: a model this narrow then has peaked outputs, so a
    # few LoRA steps visibly lower the loss, as they do on a real model
    config = _llama_config(tokenizer, tie_word_embeddings=False, initializer_range=0.3)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    _save(model, folder)
    tokenizer.save_pretrained(folder)
    return folder


def _llama_config(tokenizer: PreTrainedTokenizerFast, **extra: Any) -> Any:
    """The tiny Llama's config (2 layers, hidden size 32) for ``tokenizer``."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **extra,
    )


def _save(model: Any, folder: Path) -> None:
    """``model.save_pretrained(folder)`` without the "Writing model shards" bar."""
    from transformers.utils import logging as transformers_logging

    folder.mkdir(parents=True, exist_ok=True)
    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        model.save_pretrained(folder)
    finally:
        if bars:
            transformers_logging.enable_progress_bar()


def make_tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (``PreTrainedTokenizerFast``) with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=[IM_START],
        chat_template=CHAT_TEMPLATE,
        model_max_length=512,
    )


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``rows`` as JSON Lines to ``path`` (its folder is made); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


IMAGE = "<image>"

VISION_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}"
    "{{ m['content'] }}{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}"
    "<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def make_tiny_vision_model(folder: Path) -> Path:
    """Save a tiny LLaVA (a 2-layer CLIP vision tower on 32x32 images, 8x8 patches, and the
    tiny Llama) with its processor into ``folder``; return ``folder``. Seeded."""
    import torch
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tokenizer = make_tiny_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": [IM_START, IMAGE]})
    text = _llama_config(tokenizer)
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=32,
        patch_size=8,
        projection_dim=32,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=tokenizer,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=VISION_CHAT_TEMPLATE,
    )
    _save(model, folder)
    processor.save_pretrained(folder)
    return folder
