"""Fine-tune with SFT on the sentiment task, then compare base vs tuned: with a custom
scorer and with an LLM judge.

    python examples/evaluation/compare_sft.py        # about ten minutes on a 2-core CPU

The SFT run is the fine-tuning example's (LoRA on SmolLM2-135M-Instruct, reviews answered
``Sentiment: positive`` / ``negative``). Both evaluations take the trainer as the model and
``evaluate_base_model=True``, so each step runs on the tuned model and on its base model:

- ``CustomScorerEvaluator`` scores each held-out answer with ``sentiment_scorer.py`` (1 for
  the exact format, 0.5 for the right label in other words);
- ``LLMAsJudgeEvaluator`` asks a judge whether each answer is correct against the
  reference. The judge is the endpoint ``SAGEYARD_JUDGE_ENDPOINTS`` maps ``evaluator_model``
  to, or else a local stand-in (SmolLM2 itself, a weak judge: its scores say little).
"""

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fine_tuning"))

from sentiment_task import MODEL_ID, write_sft_data  # noqa: E402

from sageyard.train import CustomScorerEvaluator, LLMAsJudgeEvaluator  # noqa: E402
from sageyard.train.common import TrainingType  # noqa: E402
from sageyard.train.sft_trainer import SFTTrainer  # noqa: E402


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-compare-"))
    train, validation, held_out = write_sft_data(work / "data")
    questions = work / "held_out.jsonl"
    questions.write_text(
        "".join(
            json.dumps({"query": r["prompt"], "response": f"Sentiment: {r['label']}"}) + "\n"
            for r in held_out[:16]
        )
    )

    trainer = SFTTrainer(
        model=MODEL_ID,
        training_type=TrainingType.LORA,
        training_dataset=str(train),
        validation_dataset=str(validation),
        accept_eula=True,
    )
    trainer.hyperparameters.epochs = 1
    trainer.hyperparameters.learning_rate = 1e-3
    trainer.hyperparameters.per_device_train_batch_size = 8
    trainer.hyperparameters.gradient_accumulation_steps = 1
    trainer.hyperparameters.max_seq_length = 128
    trainer.train(wait=True)

    scorer = CustomScorerEvaluator(
        evaluator=str(HERE / "sentiment_scorer.py"),
        dataset=str(questions),
        model=trainer,
        evaluate_base_model=True,
        s3_output_path="s3://my-bucket/evaluations/",
    )
    scorer.hyperparameters.max_new_tokens = 8
    scored = scorer.evaluate()
    scored.wait()
    scored.show_results()
    results = scored.step_results()
    base = results["base"].metrics["custom_score"]
    tuned = results["custom"].metrics["custom_score"]
    print(f"Custom scorer: base {base:.3f}, tuned {tuned:.3f}")

    judge = LLMAsJudgeEvaluator(
        evaluator_model="anthropic.claude-3-haiku-20240307-v1:0",
        dataset=str(questions),
        builtin_metrics=["Builtin.Correctness"],
        model=trainer,
        evaluate_base_model=True,
        s3_output_path="s3://my-bucket/evaluations/",
    )
    judge.hyperparameters.max_new_tokens = 8
    judged = judge.evaluate()
    judged.wait()
    judged.show_results(limit=3, show_explanations=True)
    found = judged.judge_results()
    scores = {role: r.aggregate["results"]["Correctness"]["score"] for role, r in found.items()}
    print(f"Judge's Correctness: base {scores['base']:.3f}, tuned {scores['custom']:.3f}")


if __name__ == "__main__":
    main()
