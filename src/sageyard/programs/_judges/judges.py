"""Judges: a model that answers a reward prompt. Two kinds, one small interface.

- :class:`EndpointJudge`: an OpenAI-compatible ``/chat/completions`` endpoint (vLLM,
  llama.cpp's server, Ollama, hosted gateways), called concurrently;
- :class:`LocalJudge`: a causal LM from a local folder, run in the job's process (the
  stand-in when no endpoint is configured), its score read from its digit probabilities.

:class:`JudgeScorer` turns a judge into the reinforcement programs' scorer: each sample's
reward prompt rendered, answered, parsed; a failed call or an answer without a score is a
sample without reward (a reward error), never a failed job.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sageyard.programs._judges.prompts import parse_score, render
from sageyard.programs._rewards.contract import Sample, Score

if TYPE_CHECKING:
    from sageyard.programs._common import ProgramContext

__all__ = ["JUDGE_CHANNEL", "EndpointJudge", "Judge", "JudgeScorer", "LocalJudge", "pick_judge"]

#: The channel holding a local judge's model folder.
JUDGE_CHANNEL = "judge"

log = logging.getLogger("sageyard.programs.judges")


class Judge(Protocol):
    """Answers judge prompts: one answer per prompt, or an exception for the batch.

    ``scales`` gives, per prompt, the highest score it asks for (10 when None: ``Score:
    N`` from 0 to 10); a judge that reads scores rather than writing them needs it."""

    def answer(
        self, prompts: Sequence[str], scales: Sequence[int] | None = None
    ) -> list[str | Exception]: ...


class EndpointJudge:
    """An OpenAI-compatible chat-completions endpoint: ``url`` is its base
    (``http://host:8000/v1``), ``model`` the served model's name."""

    def __init__(
        self,
        url: str,
        model: str,
        max_tokens: int = 16,
        timeout: float = 30.0,
        concurrency: int = 4,
        api_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.api_key = api_key

    def answer(
        self, prompts: Sequence[str], scales: Sequence[int] | None = None
    ) -> list[str | Exception]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self._one, prompts))

    def _one(self, prompt: str) -> str | Exception:
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": self.max_tokens,
            "temperature": 0,
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
            return str(reply["choices"][0]["message"]["content"] or "")
        except urllib.error.HTTPError as error:
            return RuntimeError(f"the judge at {self.url} answered HTTP {error.code}")
        except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
            return RuntimeError(f"the judge at {self.url} failed: {error}")


class LocalJudge:
    """A causal LM in ``folder`` (a Hugging Face model folder), on the CPU or the job's
    first GPU, with its chat template when it has one.

    A small model seldom writes ``Score: N`` when asked, so this judge does not generate:
    it reads the model's next-token probabilities after its answer begins ``Score: `` and
    answers the expected digit, scaled to 0-10 (``"Score: 6.67"``); for a prompt whose
    scale is below 10, the expected digit among 0 to that scale. Every completion gets a
    score, as G-Eval scores with a model's token probabilities; it writes no reasoning.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._model: Any = None
        self._tokenizer: Any = None
        self._digits: list[int] = []

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(self.folder)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model: Any = AutoModelForCausalLM.from_pretrained(self.folder)
        self._model = model.to(device).eval()
        self._digits = [
            self._tokenizer(str(d), add_special_tokens=False)["input_ids"][-1] for d in range(10)
        ]

    def answer(
        self, prompts: Sequence[str], scales: Sequence[int] | None = None
    ) -> list[str | Exception]:
        import torch

        if self._model is None:
            self._load()
        tokenizer, model = self._tokenizer, self._model
        answers: list[str | Exception] = []
        for index, prompt in enumerate(prompts):
            top = 10 if scales is None else min(10, max(1, scales[index]))
            if tokenizer.chat_template:
                text = tokenizer.apply_chat_template(
                    [{"role": "user", "content": prompt}],
                    add_generation_prompt=True,
                    tokenize=False,
                )
            else:
                text = prompt + "\n"
            ids = tokenizer(text + "Score: ", return_tensors="pt", add_special_tokens=False)
            with torch.no_grad():
                logits = model(**ids.to(model.device)).logits[0, -1]
            digits = self._digits if top == 10 else self._digits[: top + 1]
            odds = torch.softmax(logits[digits].float(), dim=-1)
            expected = float((odds * torch.arange(len(digits), device=odds.device)).sum())
            answers.append(f"Score: {expected * 10 / 9 if top == 10 else expected:.2f}")
        return answers


def pick_judge(ctx: ProgramContext, options: Mapping[str, Any], who: str) -> tuple[Judge, str, str]:
    """A job's judge, its name, and the note a judge that writes no reasoning adds to
    explanations: the OpenAI-compatible endpoint ``judge_endpoint`` serving
    ``judge_served_model``, else the ``judge`` channel's local model — a stand-in for
    ``judge_model_id`` (said in the log) unless ``judge_local_model`` is that model.

    ``options`` are the job's judge options (``judge_endpoint``, ``judge_served_model``,
    ``judge_max_tokens``, ``judge_timeout``, ``judge_concurrency``, ``judge_model_id``,
    optionally ``judge_local_model``); ``who`` names the program in messages.

    Raises:
        AlgorithmError: Neither an endpoint nor a judge model is given.
    """
    from sageyard.programs._common import AlgorithmError

    wanted = options["judge_model_id"] or "the judge model"
    if options["judge_endpoint"]:
        served = options["judge_served_model"] or wanted
        log.info("The judge is %s at %s", served, options["judge_endpoint"])
        endpoint = EndpointJudge(
            options["judge_endpoint"],
            options["judge_served_model"],
            max_tokens=options["judge_max_tokens"],
            timeout=options["judge_timeout"],
            concurrency=options["judge_concurrency"],
        )
        return endpoint, wanted, ""
    if JUDGE_CHANNEL not in ctx.input_data_config:
        raise AlgorithmError(
            f"ClientError: {who} needs a judge: the hyperparameter judge_endpoint (an "
            "OpenAI-compatible endpoint) or a 'judge' channel holding a model folder."
        )
    folder = _model_root(ctx.input_data_dir / JUDGE_CHANNEL)
    name = options.get("judge_local_model") or folder.name
    how = "the expected score from its next-token probabilities; it wrote no reasoning"
    if name == wanted:
        log.info("The judge is the local model %s", name)
        return LocalJudge(folder), name, f" ({how})"
    log.info(
        "No endpoint is configured for %s: a stand-in judge, the local model %s, scores "
        "this run (map the model to an OpenAI-compatible endpoint with "
        "SAGEYARD_JUDGE_ENDPOINTS for real judgements).",
        wanted,
        name,
    )
    return (
        LocalJudge(folder),
        f"{name} (stand-in for {wanted})",
        f" (stand-in judge {name} for {wanted}: {how})",
    )


def _model_root(folder: Path) -> Path:
    """The folder holding the judge model's ``config.json`` (the channel, or one below)."""
    from sageyard.programs._common import AlgorithmError

    found = sorted(folder.rglob("config.json"), key=lambda p: len(p.parts))
    if not found:
        raise AlgorithmError(
            f"ClientError: The 'judge' channel holds no model (no config.json under {folder})."
        )
    return found[0].parent


class JudgeScorer:
    """Scores samples by asking ``judge`` the rendered ``template``."""

    def __init__(self, judge: Judge, template: str) -> None:
        self.judge = judge
        self.template = template

    def score(self, samples: Sequence[Sample]) -> list[Score]:
        prompts: list[str | None] = []
        for sample in samples:
            try:
                prompts.append(
                    render(self.template, sample.prompt_text, sample.response, sample.extra)
                )
            except Exception as error:  # a template error is the sample's, not the job's
                prompts.append(None)
                log.debug("The reward prompt failed to render: %s", error)
        asked = [prompt for prompt in prompts if prompt is not None]
        answers = iter(self.judge.answer(asked) if asked else [])
        scores = []
        for prompt in prompts:
            if prompt is None:
                scores.append(Score(None, error="the reward prompt failed to render"))
                continue
            answer = next(answers)
            if isinstance(answer, Exception):
                scores.append(Score(None, error=str(answer)))
                continue
            reward = parse_score(answer)
            if reward is None:
                scores.append(Score(None, error=f"the judge gave no score: {answer[:80]!r}"))
            else:
                scores.append(Score(reward))
        return scores
