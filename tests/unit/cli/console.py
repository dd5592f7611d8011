"""Rendering rich output to plain text, for the CLI view tests."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType


def text_of(renderable: RenderableType, width: int = 200) -> str:
    """What ``renderable`` prints, without colour or trailing spaces."""
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in out.splitlines())
