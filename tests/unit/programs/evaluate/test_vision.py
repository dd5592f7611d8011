"""Images in benchmark data: each form a dataset may hold them in is read as one image."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sageyard.programs._common import AlgorithmError
from sageyard.programs.evaluate.vision import load_image

Image = pytest.importorskip("PIL.Image")


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 7).save(out, format="PNG")
    return out.getvalue()


def test_images_are_read_from_pil_bytes_or_a_path_beside_the_data(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(png((5, 4)))
    given = [
        Image.new("L", (3, 2)),
        {"bytes": png((6, 1)), "path": None},
        {"bytes": None, "path": "images/a.png"},
        "images/a.png",
    ]
    read = [load_image(value, tmp_path) for value in given]
    assert [image.size for image in read] == [(3, 2), (6, 1), (5, 4), (5, 4)]
    assert {image.mode for image in read} == {"RGB"}


def test_what_is_not_an_image_says_what_was_found_and_what_is_read(tmp_path: Path) -> None:
    with pytest.raises(AlgorithmError, match=r"holds int '3'.*relative to the subtask's folder"):
        load_image(3, tmp_path)
    with pytest.raises(AlgorithmError, match="cannot be read"):
        load_image("missing.png", tmp_path)
    (tmp_path / "bad.png").write_text("not a png")
    with pytest.raises(AlgorithmError, match="cannot be read"):
        load_image({"path": "bad.png"}, tmp_path)
