"""The evaluate program: one step of an evaluation (a benchmark, a custom scorer, or the
generations an LLM judge scores), run as a training job. See ``__main__.py``."""
