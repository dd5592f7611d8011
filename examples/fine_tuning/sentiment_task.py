"""A small task with a clear answer format, for the fine-tuning examples.

Reviews made from templates; the answer is exactly ``Sentiment: positive`` or
``Sentiment: negative``. SmolLM2-135M-Instruct knows sentiment but not this format, so exact
match on held-out reviews (about subjects never seen in training) measures what fine-tuning
taught. The helpers load a model folder with transformers to score it before and after.
"""

from __future__ import annotations

import json
import random
import tarfile
from pathlib import Path
from typing import Any

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
INSTRUCTION = "Classify the sentiment of this review.\nReview: "

POSITIVE = ["wonderful", "delightful", "excellent", "great", "brilliant", "lovely", "superb"]
NEGATIVE = ["terrible", "awful", "boring", "dreadful", "horrible", "dull", "disappointing"]
TRAIN_SUBJECTS = ["movie", "book", "meal", "concert", "hotel", "game", "show", "album"]
HELD_OUT_SUBJECTS = ["museum", "podcast", "bakery", "ferry ride"]
TEMPLATES = [
    "The {s} was {a}.",
    "What a {a} {s}!",
    "I found the {s} {a}.",
    "Honestly, this {s} is {a}.",
    "Our {s} turned out {a}.",
]


def examples(subjects: list[str]) -> list[dict[str, str]]:
    rows = []
    for subject in subjects:
        for template in TEMPLATES:
            for label, words in (("positive", POSITIVE), ("negative", NEGATIVE)):
                for word in words[:3] if subject in TRAIN_SUBJECTS else words[3:5]:
                    review = template.format(s=subject, a=word)
                    rows.append({"prompt": INSTRUCTION + review, "label": label})
    random.Random(0).shuffle(rows)
    return rows


def write_sft_data(folder: Path) -> tuple[Path, Path, list[dict[str, str]]]:
    """train.jsonl and validation.jsonl (prompt/completion), and the held-out examples."""
    rows = examples(TRAIN_SUBJECTS)
    sft = [{"prompt": r["prompt"], "completion": f"Sentiment: {r['label']}"} for r in rows]
    folder.mkdir(parents=True, exist_ok=True)
    train, validation = folder / "train.jsonl", folder / "validation.jsonl"
    _write(train, sft[:64])  # 8 steps of 8: minutes on a CPU
    _write(validation, sft[64:80])
    return train, validation, examples(HELD_OUT_SUBJECTS)[:32]


def write_dpo_data(folder: Path) -> tuple[Path, Path, list[dict[str, str]]]:
    """Preference pairs: the right label is chosen, the wrong one rejected."""
    rows = [_pair(r) for r in examples(TRAIN_SUBJECTS)]
    folder.mkdir(parents=True, exist_ok=True)
    train, validation = folder / "pairs.jsonl", folder / "pairs-validation.jsonl"
    _write(train, rows[:48])
    _write(validation, rows[48:64])
    return train, validation, [_pair(r) for r in examples(HELD_OUT_SUBJECTS)[:32]]


def _pair(row: dict[str, str]) -> dict[str, str]:
    wrong = "negative" if row["label"] == "positive" else "positive"
    return {
        "prompt": row["prompt"],
        "chosen": f"Sentiment: {row['label']}",
        "rejected": f"Sentiment: {wrong}",
    }


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


# -- scoring -------------------------------------------------------------------------------


def base_model_folder() -> Path:
    """SmolLM2-135M-Instruct as a local folder (converted once from the shipped GGUF)."""
    from sageyard.core.settings import Settings
    from sageyard.models.hub import resolve_model_path

    return resolve_model_path(MODEL_ID, Settings.from_env().home)


def model_from_job(job: Any, folder: Path) -> Path:
    """Download and unpack a job's model.tar.gz; returns the model folder."""
    from sageyard.core.session import Session

    archive = folder / "model.tar.gz"
    folder.mkdir(parents=True, exist_ok=True)
    Session().objects.get_file(str(job.model_artifacts), archive)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "model", filter="data")
    return folder / "model"


def exact_match(model_dir: Path, rows: list[dict[str, str]]) -> float:
    """Share of held-out reviews answered exactly ``Sentiment: <label>`` (greedy)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    hits = 0
    for row in rows:
        ids = tokenizer.apply_chat_template(
            [{"role": "user", "content": row["prompt"]}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=8, do_sample=False)
        answer = tokenizer.decode(out[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
        hits += answer.strip() == f"Sentiment: {row['label']}"
    return hits / len(rows)


def preference_margin(model_dir: Path, pairs: list[dict[str, str]]) -> float:
    """Mean log p(chosen) - log p(rejected) over held-out pairs (nats; higher: prefers chosen)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()

    def logprob(prompt: str, answer: str) -> float:
        head = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
        )
        prompt_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
        full = tokenizer(head + answer, add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            logits = model(**full).logits[0, :-1]
        targets = full["input_ids"][0, 1:]
        scores = torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
        return float(scores[len(prompt_ids) - 1 :].sum())

    margins = [
        logprob(p["prompt"], p["chosen"]) - logprob(p["prompt"], p["rejected"]) for p in pairs
    ]
    return sum(margins) / len(margins)
