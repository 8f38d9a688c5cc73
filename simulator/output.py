"""Writing results: metrics.json, a CSV time series and PNG plots, byte-for-byte reproducible.

JSON keys are sorted and floats rounded where they are produced; PNGs carry no software
or date metadata, so the same experiment and seed give identical files.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from typing import Any

PNG_METADATA: dict[str, Any] = {"Software": None}


def write_json(path: str, data: Any) -> None:
    """Pretty, sorted, newline-terminated JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


def write_csv(path: str, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of dicts with the same keys, header first."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        if not rows:
            return
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _pyplot() -> Any:
    import matplotlib  # imported lazily: the CLI starts fast and runs without plots

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "euca-sim"
    return plt


def plot_series(out_dir: str, series: Sequence[dict[str, Any]], title: str) -> list[str]:
    """Utilisation, powered nodes and power over time (one PNG each); returns the paths."""
    if not series:
        return []
    plt = _pyplot()
    hours = [row["time_s"] / 3600.0 for row in series]
    written = []
    panels = [
        ("utilisation.png", "utilisation", "utilisation (busy cores / all cores)"),
        ("powered_nodes.png", "powered_nodes", "powered nodes"),
        ("power.png", "power_w", "power (W)"),
    ]
    if "active_hosts" in series[0]:
        panels = [
            ("utilisation.png", "utilisation", "mean utilisation of active hosts"),
            ("powered_nodes.png", "active_hosts", "active hosts"),
            ("power.png", "power_w", "power (W)"),
        ]
    for name, key, label in panels:
        fig, ax = plt.subplots(figsize=(8, 3.5), dpi=100)
        ax.plot(hours, [row[key] for row in series], linewidth=1.2)
        ax.set_xlabel("time (h)")
        ax.set_ylabel(label)
        ax.set_title(f"{title}: {label}")
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        path = os.path.join(out_dir, name)
        fig.savefig(path, metadata=PNG_METADATA)
        plt.close(fig)
        written.append(path)
    return written


def plot_bars(path: str, labels: Sequence[str], values: Sequence[float], ylabel: str,
              title: str) -> None:
    """A bar chart (energy by policy, etc.)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(labels) + 2), 4), dpi=100)
    ax.bar(range(len(labels)), values)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
