"""``sageyard cluster status``: the Ray cluster's nodes, their resources, the jobs on each.

The nodes come from Ray (``SAGEYARD_RAY_ADDRESS``); which job's hosts run on which node
from the job store (each running job's placement, as describe shows it). Ray and the
stores are imported inside the command.

Example:
    $ SAGEYARD_RAY_ADDRESS=10.0.0.5:6379 sageyard cluster status
"""

from __future__ import annotations

import json
from typing import Any

import click


@click.group()
def cluster() -> None:
    """The Ray cluster the ray executor runs jobs on."""


@cluster.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the nodes as JSON.")
def status(as_json: bool) -> None:
    """Each node: its address, resources in all and free, and the job hosts on it."""
    from sageyard.core.exceptions import ConfigurationError
    from sageyard.core.settings import Settings
    from sageyard.executors.ray import cluster_nodes

    settings = Settings.from_env()
    if not settings.ray_address:
        raise ConfigurationError(
            "sageyard cluster status reads the Ray cluster at SAGEYARD_RAY_ADDRESS, which "
            "is not set: set it to the cluster's address (host:port of its head node)."
        )
    nodes = cluster_nodes(settings)
    hosts = hosts_by_node(settings)
    for node in nodes:
        node["Jobs"] = hosts.get(node["NodeId"], [])
    if as_json:
        click.echo(json.dumps({"address": settings.ray_address, "nodes": nodes}, indent=2))
        return
    from sageyard.cli import _render

    table = _render.simple_table(
        "Node",
        "Address",
        "Role",
        "State",
        "CPU free/all",
        "GPU",
        "Memory GiB free/all",
        "Job hosts",
    )
    for node in nodes:
        total, free = node["Total"], node["Free"]
        table.add_row(
            node["NodeId"][:12],
            node["NodeAddress"],
            "head" if node["Head"] else "worker",
            "alive" if node["Alive"] else "dead",
            f"{free.get('CPU', 0):g}/{total['CPU']:g}",
            f"{free.get('GPU', 0):g}/{total['GPU']:g}" if total.get("GPU") else "-",
            f"{free.get('memory_gib', 0):g}/{total['memory_gib']:g}",
            "\n".join(f"{job} ({host})" for job, host in node["Jobs"]) or "-",
        )
    out = _render.console()
    out.print(table)
    out.print(f"Ray cluster at {settings.ray_address} (SAGEYARD_RAY_ADDRESS)", style="dim")


def hosts_by_node(settings: Any) -> dict[str, list[tuple[str, str]]]:
    """Node id → the (job, host) pairs of the running jobs placed on it."""
    from sageyard.store import open_store

    store = open_store(settings.store_url)
    found: dict[str, list[tuple[str, str]]] = {}
    for record in store.list("TrainingJob", status="InProgress"):
        placement = record.document.get("placement") or {}
        for host, node in sorted((placement.get("Hosts") or {}).items()):
            found.setdefault(node["NodeId"], []).append((record.name, host))
    return found
