"""The web console in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium) opens the jobs list, a running job's page (its
log and status follow without a reload, the stop button stops it), a finished job's
charts and artifacts, and a tuning job's page; a screenshot of each page is kept in
``tests/artifacts/console/``. With credentials on the server, the console asks for them."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sageyard.core.settings import Settings
from sageyard.server import RunningServer
from tests.integration.test_server import _client, _request, _wait

pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver (scripts/test.sh installs them)",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _until(check: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.time() + seconds
    while True:
        try:
            found = check()
        except Exception:  # an element between two renders
            found = None
        if found:
            return found
        assert time.time() < deadline, "the page did not get there in time"
        time.sleep(0.2)


def _shot(browser: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


#: Prints a metric now and then, so the page's log and chart have something to follow.
SLOW = (
    "import time\n"
    "for step in range(40):\n"
    "    print(f'step {step} loss={1.0 / (step + 1):.4f}', flush=True)\n"
    "    time.sleep(0.5)\n"
)


def test_a_running_job_is_followed_live_and_stopped_from_its_page(
    server: RunningServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    client = _client(server)
    request = _request("console-live", SLOW)
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "loss", "Regex": "loss=([0-9.]+)"}
    ]
    client.create_training_job(**request)
    browser.get(server.url + "/")
    row = _until(lambda: browser.find_element(By.CSS_SELECTOR, 'tr[data-job="console-live"]'))
    assert "ml.m5.large" in row.text
    _shot(browser, "jobs")
    browser.get(server.url + "/console/jobs/console-live")
    log = browser.find_element(By.CSS_SELECTOR, "pre.log")
    _until(lambda: "step 1 " in log.text)
    seen = log.text.count("step ")
    _until(lambda: log.text.count("step ") > seen + 2)  # new lines, no reload
    _until(lambda: "Training" in browser.find_element(By.CSS_SELECTOR, ".summary").text)
    _until(lambda: browser.find_elements(By.CSS_SELECTOR, '.chart[data-chart="loss"]'))
    _shot(browser, "job-running")
    browser.find_element(By.ID, "stop").click()
    _until(lambda: "Stopped" in browser.find_element(By.CSS_SELECTOR, ".summary").text, 60)
    assert client.describe_training_job(TrainingJobName="console-live")["TrainingJobStatus"] == (
        "Stopped"
    )


def test_a_finished_job_shows_its_timeline_metrics_and_artifacts(
    server: RunningServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    client = _client(server)
    code = "for step in range(5): print(f'loss={1.0 / (step + 1)}')"
    request = _request("console-done", code)
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "loss", "Regex": "loss=([0-9.]+)"}
    ]
    request["HyperParameters"] = {"lr": "0.1"}
    client.create_training_job(**request)
    assert _wait(client, "console-done")["TrainingJobStatus"] == "Completed"
    browser.get(server.url + "/console/jobs/console-done")
    timeline = browser.find_element(By.CSS_SELECTOR, ".timeline").text
    for status in ("Starting", "Downloading", "Training", "Uploading", "Completed"):
        assert status in timeline
    assert "lr" in browser.find_element(By.TAG_NAME, "main").text
    _until(lambda: browser.find_elements(By.CSS_SELECTOR, '.chart[data-chart="loss"] canvas'))
    link = browser.find_element(By.LINK_TEXT, "model.tar.gz").get_attribute("href")
    with urllib.request.urlopen(link, timeout=30) as download:
        assert download.read(2) == b"\x1f\x8b"  # a gzip archive
    _shot(browser, "job-completed")
    browser.get(server.url + "/?status=Completed&name=console-d")
    assert browser.find_elements(By.CSS_SELECTOR, 'tr[data-job="console-done"]')
    browser.get(server.url + "/?status=Failed")
    assert not browser.find_elements(By.CSS_SELECTOR, 'tr[data-job="console-done"]')
    browser.get(server.url + "/console/jobs/no-such-job")
    assert "Not found" in browser.find_element(By.TAG_NAME, "h1").text


def test_a_tuning_jobs_page_shows_its_trials_best_so_far_and_parallel_coordinates(
    server: RunningServer, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    from tests.integration.test_server import (
        test_a_tuning_job_from_boto3_runs_toolkit_trials_and_lists_them as run_tuning,
    )

    run_tuning(server, tmp_path)  # "wire-tuning": three trials, Completed
    browser.get(server.url + "/console/tuning")
    assert "wire-tuning" in browser.find_element(By.TAG_NAME, "table").text
    browser.get(server.url + "/console/tuning/wire-tuning")
    trials = browser.find_elements(By.CSS_SELECTOR, "tr[data-trial]")
    assert len(trials) == 3
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tag.best")) == 1
    _until(lambda: browser.find_elements(By.CSS_SELECTOR, ".chart canvas"))
    lines = _until(lambda: browser.find_elements(By.CSS_SELECTOR, "svg.parallel polyline"))
    assert len(lines) == 3
    assert "x" in browser.find_element(By.CSS_SELECTOR, ".importance").text
    _shot(browser, "tuning")


def test_a_running_tuning_job_is_followed_live_until_it_completes(
    server: RunningServer, browser: Any, tmp_path: Path
) -> None:
    """Opened while its first trials run, a tuning job's page fills in the rest of its
    trials and its end without a reload."""
    from selenium.webdriver.common.by import By

    from sageyard.core.parameter import ContinuousParameter
    from sageyard.train import ModelTrainer
    from sageyard.train.configs import SourceCode
    from sageyard.train.tuner import HyperparameterTuner

    code = tmp_path / "trial"
    code.mkdir()
    (code / "train.py").write_text(
        "import json, os, time\n"
        "x = float(json.loads(os.environ['SM_HPS'])['x'])\n"
        "time.sleep(2)\n"
        "print(f'score={1 - (x - 0.3) ** 2:.4f}')\n"
    )
    trainer = ModelTrainer(
        training_image="python:3.11",
        source_code=SourceCode(source_dir=str(code), entry_script="train.py"),
        base_job_name="live-trial",
    )
    tuner = HyperparameterTuner(
        trainer,
        objective_metric_name="score",
        hyperparameter_ranges={"x": ContinuousParameter(0.0, 1.0)},
        metric_definitions=[{"Name": "score", "Regex": "score=([-0-9.]+)"}],
        strategy="Random",
        max_jobs=4,
        max_parallel_jobs=2,
        random_seed=1,
    )
    tuner.tune(wait=False)
    name = tuner.latest_tuning_job.name
    browser.get(f"{server.url}/console/tuning/{name}")
    summary = browser.find_element(By.CSS_SELECTOR, ".summary")
    assert "InProgress" in summary.text
    _until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "tr[data-trial]")) == 4, 120)
    _until(lambda: "Completed" in browser.find_element(By.CSS_SELECTOR, ".summary").text, 120)
    _until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "svg.parallel polyline")) == 4)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tag.best")) == 1
    _shot(browser, "tuning-live")


def test_with_credentials_the_console_asks_for_them() -> None:
    import base64

    with RunningServer(Settings.from_env(), credentials={"AKIDCONSOLE": "s3cret"}) as signed:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(signed.url + "/", timeout=30)
        assert refused.value.code == 401
        assert refused.value.headers["WWW-Authenticate"].startswith("Basic")
        refused.value.close()
        wrong = base64.b64encode(b"AKIDCONSOLE:guess").decode()
        request = urllib.request.Request(signed.url, headers={"Authorization": f"Basic {wrong}"})
        with pytest.raises(urllib.error.HTTPError) as guessed:
            urllib.request.urlopen(request, timeout=30)
        assert guessed.value.code == 401
        guessed.value.close()
        right = base64.b64encode(b"AKIDCONSOLE:s3cret").decode()
        request = urllib.request.Request(signed.url, headers={"Authorization": f"Basic {right}"})
        with urllib.request.urlopen(request, timeout=30) as page:
            assert b"Training jobs" in page.read()
        # a stop from another site's page is refused, even with the credentials
        stop = urllib.request.Request(
            signed.url + "/console/jobs/any/stop",
            method="POST",
            headers={"Authorization": f"Basic {right}", "Origin": "http://evil.example"},
        )
        with pytest.raises(urllib.error.HTTPError) as forged:
            urllib.request.urlopen(stop, timeout=30)
        assert forged.value.code == 403
        forged.value.close()


def test_model_packages_and_evaluations_have_pages_of_their_own(
    server: RunningServer, browser: Any, tmp_path: Path
) -> None:
    import json

    from selenium.webdriver.common.by import By

    from sageyard.models.registry import ModelRegistry

    pytest.importorskip("lm_eval")
    from sageyard.train import CustomScorerEvaluator, get_builtin_metrics
    from tests.evaluation_fixtures import scripted_model

    registry = ModelRegistry(Settings.from_env())
    registry.create_group("console-models", "fine-tuned for the console")
    registry.register(
        "console-models",
        {
            "model_artifact_uri": "s3://models/run-1/model.tar.gz",
            "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "training_job_name": "run-1",
            "final_metrics": {"train_loss": 0.25},
        },
    )
    browser.get(server.url + "/console/models")
    group = browser.find_element(By.CSS_SELECTOR, 'section[data-group="console-models"]')
    assert "train_loss=0.25" in group.text and "SmolLM2-135M-Instruct" in group.text
    _shot(browser, "models")

    dataset = tmp_path / "math.jsonl"
    rows = [{"query": "What is 2+3?", "response": "5"}, {"query": "What is 7*6?", "response": "42"}]
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    model = scripted_model(tmp_path / "model", {"2+3": "\\boxed{5}"}, default="\\boxed{0}")
    execution = CustomScorerEvaluator(
        evaluator=get_builtin_metrics().PRIME_MATH,
        dataset=str(dataset),
        model=str(model),
        s3_output_path="s3://bucket/evals/",
    ).evaluate()
    assert execution is not None
    browser.get(server.url + "/console/evaluations")
    link = _until(lambda: browser.find_element(By.CSS_SELECTOR, "tr[data-evaluation] a"))
    link.click()
    # the page follows the evaluation until it has its scores, without a reload
    _until(lambda: browser.find_elements(By.CSS_SELECTOR, "tr.score"), 240)
    scores = browser.find_element(By.TAG_NAME, "main").text
    assert "prime_math" in scores and "0.5" in scores  # one of the two answers is right
    assert "Succeeded" in browser.find_element(By.CSS_SELECTOR, ".summary").text
    _shot(browser, "evaluation")


def test_the_log_tail_reads_on_from_where_it_was_and_keeps_a_last_line_without_newline(
    server: RunningServer,
) -> None:
    from sageyard.server.console.views import log_view
    from sageyard.train.client import LocalClient

    client = _client(server)
    code = "import sys; print('one'); print('two'); sys.stdout.write('three')"
    client.create_training_job(**_request("console-tail", code))
    assert _wait(client, "console-tail")["TrainingJobStatus"] == "Completed"
    local = LocalClient(Settings.from_env())
    first = log_view(local, "console-tail", "algo-1", 0)
    assert first["lines"][-3:] == ["one", "two", "three"]
    assert log_view(local, "console-tail", "algo-1", first["next"]) == {
        "lines": [],
        "next": first["next"],
    }
