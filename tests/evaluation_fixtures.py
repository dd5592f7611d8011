"""Small evaluation fixtures written for the tests: MMLU-format data and scripted models.

A scripted model (``config.json`` with ``model_type: sageyard-scripted``) answers from its
``script.json``: the first rule whose ``contains`` is in the prompt gives the response,
else ``default``; so every accuracy in a test is known by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The choices of every fixture question (words no answer text contains by chance).
CHOICES = ("Paris", "Berlin", "Madrid", "Rome")


def write_mmlu(root: Path, subtasks: dict[str, list[int]]) -> Path:
    """``root/mmlu/<subtask>/test.jsonl`` with ``cais/mmlu``'s fields: one question per
    answer index given, ``"<subtask> q<i>?"`` with the choices of ``CHOICES``. Returns ``root``."""
    for subtask, answers in subtasks.items():
        folder = root / "mmlu" / subtask
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "test.jsonl").open("w") as out:
            for index, answer in enumerate(answers):
                row = {
                    "question": f"{subtask} q{index}?",
                    "subject": subtask,
                    "choices": list(CHOICES),
                    "answer": answer,
                }
                out.write(json.dumps(row) + "\n")
    return root


def scripted_model(
    folder: Path,
    rules: dict[str, str] | list[dict[str, Any]],
    default: str = "",
    delay: float = 0.0,
    vision: bool = False,
    **extra: Any,
) -> Path:
    """A scripted model folder answering ``rules`` (prompt substring → response, or the
    rules themselves); ``vision``: it reads images (its config has a ``vision_config``)."""
    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"model_type": "sageyard-scripted"}
    if vision:
        config["vision_config"] = {}
    (folder / "config.json").write_text(json.dumps(config))
    if isinstance(rules, dict):
        rules = [{"contains": c, "response": r} for c, r in rules.items()]
    script = {
        "rules": rules,
        "default": default,
        "delay": delay,
        **extra,
    }
    (folder / "script.json").write_text(json.dumps(script))
    return folder


def hf_cached(cache: Path, dataset: str, config: str, split: str, rows: list[dict]) -> None:
    """Put ``rows`` in a Hugging Face datasets cache at ``cache`` as ``load_dataset(dataset,
    config, split=split)`` leaves them after a download: built with datasets' own JSON
    builder, then laid out under ``<namespace>___<name>/<config>/0.0.0/<hash>/`` with the
    dataset's builder name (what datasets reads offline)."""
    import shutil
    import tempfile

    import datasets

    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / f"{split}.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows))
        built = Path(scratch) / "built"
        datasets.load_dataset("json", data_files={split: str(source)}, cache_dir=str(built))
        [folder] = [p for p in built.glob("json/default-*/0.0.0/*") if p.is_dir()]
        namespace, name = dataset.split("/")
        target = cache / f"{namespace}___{name}" / config / "0.0.0" / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, target)
    (target / f"json-{split}.arrow").rename(target / f"{name}-{split}.arrow")
    info = json.loads((target / "dataset_info.json").read_text())
    info.update(builder_name=name, config_name=config, dataset_name=name)
    (target / "dataset_info.json").write_text(json.dumps(info))


#: One MMMU fixture question: its text, options (none: open), answer and image size.
MmmuRow = tuple[str, list[str], str, tuple[int, int]]


def write_mmmu(root: Path, subtask: str, rows: list[MmmuRow]) -> Path:
    """``root/mmmu/<subtask>/validation.parquet`` in ``MMMU/MMMU``'s layout (as ``datasets``
    saves it, images as its Image feature): one row per ``(question, options, answer,
    image size)``, each question showing ``<image 1>`` (a gray PNG of that size); no
    options: an open question. Returns ``root``."""
    import datasets
    from PIL import Image

    folder = root / "mmmu" / subtask
    folder.mkdir(parents=True, exist_ok=True)
    columns: dict[str, list[Any]] = {
        "id": [f"validation_{subtask}_{i + 1}" for i in range(len(rows))],
        "question": [f"{question} <image 1>" for question, _, _, _ in rows],
        "options": [str(options) for _, options, _, _ in rows],
        "answer": [answer for _, _, answer, _ in rows],
        "question_type": ["multiple-choice" if o else "open" for _, o, _, _ in rows],
        "image_1": [Image.new("RGB", size, (128, 128, 128)) for _, _, _, size in rows],
        "subfield": [subtask] * len(rows),
    }
    features = datasets.Features(
        {name: datasets.Value("string") for name in columns if name != "image_1"}
        | {"image_1": datasets.Image()}
    )
    datasets.Dataset.from_dict(columns, features=features).to_parquet(folder / "validation.parquet")
    return root
