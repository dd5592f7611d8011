"""The reference's RLVR example (``Evaluator`` + ``RLVRTrainer``), run on sageyard.

    python examples/fine_tuning/reference_rlvr.py     # a few minutes on a 2-core CPU

Changed from the reference: the imports, the model (SmolLM2-135M-Instruct instead of
CodeLlama-7b), the data path (coding tasks written below) and the length of training,
scaled to a CPU. ``reward_function.py`` is the reference's ``lambda_handler``, exactly,
after the two helpers it calls and leaves undefined (``extract_test_cases``: the
prompt's ``Input: ... -> Output: ...`` lines; ``execute_code``: the response run by
Python with the input on stdin). Without them the reference's file fails the check that
``train()`` makes before any job (``name 'extract_test_cases' is not defined``), as it
does with the real SDK.
"""

import json
import os
import tempfile
from pathlib import Path

from sageyard.ai_registry.evaluator import Evaluator
from sageyard.train.rlvr_trainer import RLVRTrainer

HELPERS = '''
import re
import subprocess
import sys


def extract_test_cases(prompt):
    """The prompt's test cases: one 'Input: <stdin> -> Output: <stdout>' per line."""
    return re.findall(r"Input: (.*?) -> Output: (.*)", prompt)


def execute_code(code, test_input):
    """The response's code (its fenced block, if any) run with test_input on stdin."""
    blocks = re.findall(r"```(?:python)?\\n(.*?)```", code, re.DOTALL)
    program = blocks[-1] if blocks else code
    done = subprocess.run([sys.executable, "-c", program], input=test_input,
                          capture_output=True, text=True, timeout=3)
    return done.stdout.strip()
'''

# The reference's reward_function.py, as it writes it.
REFERENCE = '''
import json
def lambda_handler(event, context):
    """
    Reward function for code correctness.
    Args:
    event: Dict with 'prompt' and 'response' fields
    Returns:
    Dict with 'reward' field (float between 0 and 1)
    """
    prompt = event['prompt']
    response = event['response']
    # Extract test cases from prompt
    test_cases = extract_test_cases(prompt)
    # Execute generated code with test cases
    try:
        passed = 0
        for test_input, expected_output in test_cases:
            actual_output = execute_code(response, test_input)
            if actual_output == expected_output:
                passed += 1
        reward = passed / len(test_cases)
    except Exception as e:
        # Syntax errors or runtime failures get 0 reward
        reward = 0.0
    return {
        'reward': reward
    }
'''

TASKS = [
    ("prints the input number doubled", [("3", "6"), ("10", "20")]),
    ("prints the input text in upper case", [("abc", "ABC"), ("hi", "HI")]),
    ("prints the input number plus one", [("1", "2"), ("41", "42")]),
    ("prints the input text reversed", [("abc", "cba"), ("ab", "ba")]),
]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sageyard-reference-rlvr-"))
    os.chdir(work)
    Path("reward_function.py").write_text(HELPERS + REFERENCE)
    rows = []
    for task, cases in TASKS:
        tests = "\n".join(f"Input: {given} -> Output: {wanted}" for given, wanted in cases)
        prompt = f"Write a Python program that reads one line from stdin and {task}.\n{tests}"
        rows.append({"prompt": prompt})
    Path("coding-tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows * 2))

    # Create custom evaluator for code correctness
    evaluator = Evaluator.create(
        name="code-correctness-evaluator",
        type="RewardFunction",
        source="./reward_function.py",  # Local file uploaded to Lambda
        wait=True,
    )
    # Create RLVR trainer with custom rewards
    trainer = RLVRTrainer(
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        model_package_group="rl-code-models",
        custom_reward_function=evaluator,
        training_dataset="coding-tasks.jsonl",
        accept_eula=True,
    )
    # Configure training
    trainer.hyperparameters.epochs = 1
    trainer.hyperparameters.learning_rate = 1e-5
    trainer.hyperparameters.max_response_length = 48  # CPU scale
    trainer.hyperparameters.max_steps = 4
    # Train with verifiable rewards
    try:
        job = trainer.train(wait=True)
        print(f"RLVR training completed: {job.training_job_name}")
    except ValueError as e:
        print(f"Reward function error: {e}")
        raise


if __name__ == "__main__":
    main()
