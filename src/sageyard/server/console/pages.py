"""The console's HTML: whole pages, and the fragments the pages poll to stay live.

Everything is rendered here, once, from ``views.py``'s data; ``static/console.js`` swaps
each ``data-live`` fragment for a fresh copy every two seconds (until one says it is
final), appends new log lines, and draws the charts (uPlot, shipped in ``static/``) and
the parallel coordinates from the JSON API. No build step, no framework.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from sageyard.server.console.views import STATUSES

__all__ = [
    "evaluation_fragment",
    "evaluation_page",
    "evaluations_page",
    "job_fragment",
    "job_page",
    "jobs_fragment",
    "jobs_page",
    "models_page",
    "not_found",
    "tuning_fragment",
    "tuning_page",
    "tunings_page",
]

_FINAL = {"Completed", "Failed", "Stopped"}


def _when(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "&ndash;"


def _took(seconds: float | None) -> str:
    if seconds is None:
        return "&ndash;"
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h {seconds % 3600 // 60}m"
        if seconds >= 3600
        else f"{seconds // 60}m {seconds % 60}s"
    )


def _status(status: str | None) -> str:
    text = escape(status or "")
    return f'<span class="status status-{text}">{text}</span>'


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, int | float) else escape(str(value))


def _table(headers: Iterable[str], rows: Iterable[str], empty: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(rows) or f'<tr><td colspan="99" class="empty">{escape(empty)}</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str, scripts: bool = True) -> str:
    assets = (
        '<link rel="stylesheet" href="/console/static/uPlot.min.css">'
        '<script src="/console/static/uPlot.iife.min.js"></script>'
        '<script src="/console/static/console.js" defer></script>'
        if scripts
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · sageyard</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="stylesheet" href="/console/static/console.css">{assets}</head><body>'
        '<header><a href="/" class="brand">sageyard</a><nav><a href="/">Training jobs</a>'
        '<a href="/console/tuning">Tuning jobs</a><a href="/console/models">Model packages</a>'
        '<a href="/console/evaluations">Evaluations</a></nav></header>'
        f"<main>{body}</main></body></html>"
    )


def _live(url: str, inner: str) -> str:
    return f'<div data-live="{escape(url)}">{inner}</div>'


# -- training jobs ---------------------------------------------------------------------------


def jobs_fragment(rows: list[dict[str, Any]]) -> str:
    cells = []
    for row in rows:
        metrics = ", ".join(f"{escape(k)}={_number(v)}" for k, v in sorted(row["metrics"].items()))
        link = f"/console/jobs/{quote(row['name'])}"
        tuning = (
            f' <a class="tag" href="/console/tuning/{quote(row["tuning"])}">trial</a>'
            if row["tuning"]
            else ""
        )
        cells.append(
            f'<tr data-job="{escape(row["name"])}">'
            f'<td><a href="{link}">{escape(row["name"])}</a>{tuning}</td>'
            f"<td>{_status(row['status'])}</td><td>{escape(row['secondary'] or '')}</td>"
            f"<td>{escape(row['instance_type'])} &times; {row['instance_count']}</td>"
            f"<td>{_when(row['created'])}</td><td>{_took(row['duration'])}</td>"
            f'<td class="metrics">{metrics}</td></tr>'
        )
    headers = [
        "Name",
        "Status",
        "Secondary status",
        "Instances",
        "Created",
        "Duration",
        "Final metrics",
    ]
    return _table(headers, cells, "No training job matches.")


def jobs_page(rows: list[dict[str, Any]], status: str, name: str) -> str:
    options = "".join(
        f'<option value="{s}"{" selected" if s == status else ""}>{s}</option>'
        for s in ("", *STATUSES)
    )
    query = urlencode({"status": status, "name": name})
    form = (
        '<form class="filters" method="get" action="/">'
        f'<label>Status <select name="status">{options}</select></label>'
        f'<label>Name contains <input name="name" value="{escape(name)}"></label>'
        "<button>Filter</button></form>"
    )
    body = f"<h1>Training jobs</h1>{form}" + _live(
        f"/console/fragments/jobs?{query}", jobs_fragment(rows)
    )
    return _page("Training jobs", body)


def job_fragment(job: Mapping[str, Any]) -> str:
    final = job["status"] in _FINAL
    timeline = "".join(
        f"<li>{_status(t['status'])} <time>{_when(t['start'])}</time> {escape(t['message'])}</li>"
        for t in job["timeline"]
    )
    metrics = "".join(
        f"<tr><td>{escape(k)}</td><td>{_number(v)}</td></tr>"
        for k, v in sorted(job["final_metrics"].items())
    )
    stop = (
        f'<form method="post" action="/console/jobs/{quote(job["name"])}/stop" class="stop">'
        '<button id="stop">Stop</button></form>'
        if job["status"] == "InProgress"
        else ""
    )
    failure = f'<p class="failure">{escape(job["failure"])}</p>' if job["failure"] else ""
    warnings = "".join(f'<p class="warning">{escape(w)}</p>' for w in job["warnings"])
    artifacts = "".join(
        f'<li><a href="/console/download?uri={quote(a["uri"], safe="")}">{escape(a["name"])}</a>'
        f" <code>{escape(a['uri'])}</code></li>"
        for a in job["artifacts"]
    )
    return (
        f'<section class="summary" data-final="{int(final)}"><p>{_status(job["status"])} '
        f'<span class="secondary">{escape(job["secondary"] or "")}</span> · '
        f"{escape(job['instance_type'])} &times; {job['instance_count']} · "
        f"created {_when(job['created'])} · "
        f"{_took(job['duration'])}</p>{stop}{failure}{warnings}</section>"
        f'<section><h2>Status timeline</h2><ol class="timeline">{timeline}</ol></section>'
        f"<section><h2>Final metrics</h2>{_table(['Metric', 'Value'], [metrics], 'None yet.')}"
        "</section>"
        f'<section><h2>Artifacts</h2><ul class="artifacts">{artifacts or "<li>None yet.</li>"}'
        "</ul></section>"
    )


def job_page(job: Mapping[str, Any]) -> str:
    name = quote(job["name"])
    hyperparameters = "".join(
        f"<tr><td>{escape(k)}</td><td><code>{escape(str(v))}</code></td></tr>"
        for k, v in sorted(job["hyperparameters"].items())
    )
    logs = "".join(
        f"<h3>{escape(host)}</h3>"
        f'<pre class="log" data-log="/console/api/jobs/{name}/logs?host={host}"></pre>'
        for host in job["hosts"]
    )
    body = (
        f"<h1>{escape(job['name'])}</h1>"
        + _live(f"/console/fragments/jobs/{name}", job_fragment(job))
        + "<section><h2>Metrics</h2>"
        + f'<div class="charts" data-metrics="/console/api/jobs/{name}"></div></section>'
        + "<section><h2>Hyperparameters</h2>"
        + f"{_table(['Name', 'Value'], [hyperparameters], 'None.')}</section>"
        + f"<section><h2>Log</h2>{logs}</section>"
    )
    return _page(job["name"], body)


# -- tuning jobs -----------------------------------------------------------------------------


def tunings_page(rows: list[dict[str, Any]]) -> str:
    cells = [
        f'<tr><td><a href="/console/tuning/{quote(r["name"])}">{escape(r["name"])}</a></td>'
        f"<td>{_status(r['status'])}</td>"
        f"<td>{', '.join(f'{escape(k)}: {v}' for k, v in r['counts'].items() if v)}</td>"
        f"<td>{_number(r['best']) if r['best'] is not None else '&ndash;'}</td>"
        f"<td>{_when(r['created'])}</td><td>{_took(r['duration'])}</td></tr>"
        for r in rows
    ]
    table = _table(
        ["Name", "Status", "Trials", "Best objective", "Created", "Duration"],
        cells,
        "No tuning job yet.",
    )
    return _page("Tuning jobs", f"<h1>Tuning jobs</h1>{table}")


def tuning_fragment(tuning: Mapping[str, Any]) -> str:
    final = tuning["status"] in _FINAL
    parameters = sorted({p for t in tuning["trials"] for p in t["parameters"]})
    rows = []
    for trial in tuning["trials"]:
        marks = []
        if trial["name"] == tuning["best_job"]:
            marks.append('<span class="tag best">best</span>')
        if trial["early_stopped"]:
            marks.append('<span class="tag early">stopped early</span>')
        values = "".join(
            f"<td>{escape(str(trial['parameters'].get(p, '')))}</td>" for p in parameters
        )
        objective = _number(trial["objective"]) if trial["objective"] is not None else "&ndash;"
        rows.append(
            f'<tr data-trial="{escape(trial["name"])}">'
            f'<td><a href="/console/jobs/{quote(trial["name"])}">'
            f"{escape(trial['name'])}</a> {' '.join(marks)}</td><td>{_status(trial['status'])}</td>"
            f"{values}<td>{objective}</td></tr>"
        )
    importance = "".join(
        f'<li><span class="bar" style="width:{share * 100:.0f}%"></span>'
        f'<span class="label">{escape(name)} {share:.0%}</span></li>'
        for name, share in sorted(tuning["importance"].items(), key=lambda kv: -kv[1])
    )
    counts = ", ".join(f"{escape(k)}: {v}" for k, v in tuning["counts"].items() if v)
    headers = [
        "Trial",
        "Status",
        *parameters,
        f"{tuning['objective']['metric']} ({tuning['objective']['type']})",
    ]
    return (
        f'<section class="summary" data-final="{int(final)}"><p>{_status(tuning["status"])} · '
        f"{escape(tuning['strategy'] or '')} · {counts}</p></section>"
        f"<section><h2>Trials</h2>{_table(headers, rows, 'No trial yet.')}</section>"
        '<section><h2>Parameter importance</h2><p class="note">|Spearman rank correlation| of '
        "each parameter with the objective over the scored trials, scaled to sum to 1.</p>"
        f'<ul class="importance">{importance or "<li>Needs three scored trials.</li>"}'
        "</ul></section>"
    )


def tuning_page(tuning: Mapping[str, Any]) -> str:
    name = quote(tuning["name"])
    body = (
        f"<h1>{escape(tuning['name'])}</h1>"
        + _live(f"/console/fragments/tuning/{name}", tuning_fragment(tuning))
        + "<section><h2>Best objective over time</h2>"
        + f'<div class="charts" data-best="/console/api/tuning/{name}"></div></section>'
        + "<section><h2>Parallel coordinates</h2>"
        + f'<div data-parallel="/console/api/tuning/{name}"></div></section>'
    )
    return _page(tuning["name"], body)


def not_found(message: str) -> str:
    return _page("Not found", f"<h1>Not found</h1><p>{escape(message)}</p>", scripts=False)


# -- model packages and evaluations ----------------------------------------------------------


def models_page(groups: list[dict[str, Any]]) -> str:
    sections = []
    for group in groups:
        rows = []
        for package in group["packages"]:
            job = package["training_job"]
            link = f'<a href="/console/jobs/{quote(job)}">{escape(job)}</a>' if job else "&ndash;"
            metrics = ", ".join(
                f"{escape(k)}={_number(v)}" for k, v in sorted(package["metrics"].items())
            )
            rows.append(
                f'<tr data-package="{package["version"]}"><td>{package["version"]}</td>'
                f"<td>{_status(package['status'])}</td><td>{escape(package['approval'] or '')}</td>"
                f"<td>{link}</td><td>{escape(package['base_model'])}</td>"
                f"<td><code>{escape(package['artifact'])}</code></td>"
                f'<td class="metrics">{metrics}</td><td>{_when(package["created"])}</td></tr>'
            )
        headers = [
            "Version",
            "Status",
            "Approval",
            "Training job",
            "Base model",
            "Artifact",
            "Final metrics",
            "Created",
        ]
        sections.append(
            f'<section data-group="{escape(group["name"])}"><h2>{escape(group["name"])}</h2>'
            f'<p class="note">{escape(group["description"])}</p>'
            f"{_table(headers, rows, 'No version yet.')}</section>"
        )
    body = "".join(sections) or "<p>No model package group yet: fine-tuning jobs register one.</p>"
    return _page("Model packages", f"<h1>Model packages</h1>{body}")


def evaluations_page(rows: list[dict[str, Any]]) -> str:
    cells = [
        f'<tr data-evaluation="{escape(r["name"])}">'
        f'<td><a href="/console/evaluations/{quote(r["name"])}">{escape(r["display"])}</a></td>'
        f"<td>{escape(r['type'])}</td><td>{_status(r['status'])}</td>"
        f"<td>{_when(r['created'])}</td></tr>"
        for r in rows
    ]
    table = _table(["Evaluation", "Type", "Status", "Created"], cells, "No evaluation yet.")
    return _page("Evaluations", f"<h1>Evaluations</h1>{table}")


def evaluation_fragment(evaluation: Mapping[str, Any]) -> str:
    final = evaluation["status"] in {"Succeeded", "Failed", "Stopped"}
    steps = []
    for step in evaluation["steps"]:
        job = step["job"]
        link = f'<a href="/console/jobs/{quote(job)}">{escape(job)}</a>' if job else "&ndash;"
        failure = escape(step["failure"] or "")
        steps.append(
            f"<tr><td>{escape(step['name'])}</td><td>{_status(step['status'])}</td>"
            f"<td>{link}</td><td>{failure}</td></tr>"
        )
    scores = [
        f'<tr class="score"><td>{escape(str(row.get("model", "")))}</td>'
        f"<td>{escape(str(row.get('subtask', '')))}</td>"
        f"<td>{escape(str(row.get('metric', '')))}</td><td>{_number(row.get('value'))}</td></tr>"
        for row in evaluation["scores"]
    ]
    failure = (
        f'<p class="failure">{escape(evaluation["failure"])}</p>' if evaluation["failure"] else ""
    )
    return (
        f'<section class="summary" data-final="{int(final)}"><p>{_status(evaluation["status"])}'
        f" · {escape(evaluation['type'])} · created {_when(evaluation['created'])}</p>{failure}"
        "</section>"
        f"<section><h2>Steps</h2>{_table(['Step', 'Status', 'Job', 'Failure'], steps, 'None yet.')}"
        "</section><section><h2>Scores</h2>"
        f"{_table(['Model', 'Subtask', 'Metric', 'Value'], scores, 'Once it has succeeded.')}"
        "</section>"
    )


def evaluation_page(evaluation: Mapping[str, Any]) -> str:
    name = quote(evaluation["name"])
    body = f"<h1>{escape(evaluation['display'])}</h1>" + _live(
        f"/console/fragments/evaluations/{name}", evaluation_fragment(evaluation)
    )
    return _page(evaluation["display"], body)
