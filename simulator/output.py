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


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed: the numbers are written, the pictures are not."""


PLOTS_HINT = "plots skipped: matplotlib is not installed (pip install 'eucalyptus[plots]')"


def _pyplot() -> Any:
    try:
        import matplotlib  # imported lazily: the CLI starts fast and runs without plots
    except ImportError:
        raise PlotsUnavailable(PLOTS_HINT) from None

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


def _groups(rows: Sequence[dict[str, Any]]) -> list[tuple[str, Any, list[dict[str, Any]]]]:
    """Rows grouped by (policy, nodes) in first-seen order: one marker each."""
    out: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault((str(r["policy"]), r["nodes"]), []).append(r)
    return [(p, n, rs) for (p, n), rs in out.items()]


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return mean, sd


def _num(rows: Sequence[dict[str, Any]], key: str) -> list[float] | None:
    vals = [r.get(key, "") for r in rows]
    if any(v in ("", None) for v in vals):
        return None
    return [float(v) for v in vals]


def plot_sweep(out_dir: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The sweep's comparison figure(s); returns the paths written.

    PlanetLab grids get energy, migrations and SLATAH per policy side by side (bars,
    error bars over seeds); other grids get the trade-offs compared in the literature:
    energy against rejection rate, mean wait and SLA violation, one marker per policy
    and size, error bars (one standard deviation) over seeds.
    """
    if not rows:
        return []
    plt = _pyplot()
    groups = _groups(rows)
    path = os.path.join(out_dir, "comparison.png")
    if _num(rows, "slatah_pct") is not None:
        panels = [("energy_kwh", "energy (kWh)"), ("migrations", "VM migrations"),
                  ("slatah_pct", "SLATAH (%)"), ("pdm_pct", "PDM (%)")]
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.2), dpi=100)
        labels = [p if n in ("", None) else f"{p}\n{n} hosts" for p, n, _ in groups]
        for ax, (key, label) in zip(axes, panels, strict=True):
            stats = [_mean_sd(_num(rs, key) or [0.0]) for _, _, rs in groups]
            ax.bar(range(len(groups)), [m for m, _ in stats], yerr=[sd for _, sd in stats],
                   capsize=3, color="#4c72b0")
            ax.set_xticks(range(len(groups)))
            ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
            ax.set_title(label)
            ax.grid(True, axis="y", alpha=0.3)
        fig.suptitle("PlanetLab consolidation: energy, migrations and SLA per policy")
    else:
        panels = [(x, lab) for x, lab in (("rejection_rate", "rejection rate"),
                                          ("mean_wait_s", "mean wait (s)"),
                                          ("slav_pct", "SLA violation (%)"))
                  if _num(rows, x) is not None]
        if not panels:
            panels = [("utilisation", "utilisation")]
        fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), dpi=100,
                                 squeeze=False)
        markers = "osD^v<>pPX*h"
        policies = list(dict.fromkeys(p for p, _, _ in groups))
        sizes = list(dict.fromkeys(str(n) for _, n, _ in groups))
        cmap = plt.get_cmap("tab10")
        for ax, (key, label) in zip(axes[0], panels, strict=True):
            for p, n, rs in groups:
                xs, ys = _num(rs, key), _num(rs, "energy_kwh")
                if xs is None or ys is None:
                    continue
                (mx, sx), (my, sy) = _mean_sd(xs), _mean_sd(ys)
                ax.errorbar([mx], [my], xerr=[sx], yerr=[sy], capsize=3,
                            marker=markers[sizes.index(str(n)) % len(markers)],
                            color=cmap(policies.index(p) % 10), linestyle="none",
                            label=p if n in ("", None) else f"{p}, {n} nodes")
            ax.set_xlabel(label)
            ax.set_ylabel("energy (kWh)")
            ax.grid(True, alpha=0.3)
        axes[0][-1].legend(fontsize=7, loc="best")
        fig.suptitle("energy against service: one marker per policy and size "
                     "(error bars: 1 SD over seeds)")
    fig.tight_layout()
    fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    return [path]


def plot_elasticity(out_dir: str, series: Sequence[dict[str, Any]], metrics: dict[str, Any],
                    title: str) -> list[str]:
    """An elasticity experiment's figures: ``elasticity.png`` (per group, the request load
    against the capacity its InService members serve, and its instances, over time) and
    ``elasticity_summary.png`` (instance-hours, time under-provisioned, scaling actions
    and energy per group side by side)."""
    if not series:
        return []
    plt = _pyplot()
    names = list(metrics["groups"])
    hours = [row["time_s"] / 3600.0 for row in series]
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.6 * len(names) + 0.6), dpi=100,
                             sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        kinds = "/".join(metrics["groups"][name]["policy_types"]) or "no policy"
        ax.plot(hours, [row[f"{name}_load_rps"] for row in series], color="#333333",
                linewidth=1.2, label="requests/s")
        ax.step(hours, [row[f"{name}_capacity_rps"] for row in series], where="post",
                color="#4c72b0", linewidth=1.2, label="in-service capacity (requests/s)")
        ax.set_ylabel("requests/s")
        ax.set_title(f"{name} ({kinds})", fontsize=10)
        ax.grid(True, alpha=0.3)
        twin = ax.twinx()
        twin.step(hours, [row[f"{name}_instances"] for row in series], where="post",
                  color="#dd8452", linewidth=1.0, label="instances")
        twin.set_ylabel("instances")
        lines = ax.get_lines() + twin.get_lines()
        ax.legend(lines, [str(line.get_label()) for line in lines], fontsize=7,
                  loc="upper right")
    axes[-1, 0].set_xlabel("time (h)")
    fig.suptitle(f"{title}: load against capacity")
    fig.tight_layout()
    path = os.path.join(out_dir, "elasticity.png")
    fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    panels = [("instance_hours", "instance-hours"), ("under_provisioned_pct",
                                                     "time under-provisioned (%)"),
              ("scaling_actions", "scaling actions"), ("energy_kwh", "energy (kWh)")]
    fig, axes1 = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.8), dpi=100)
    cmap = plt.get_cmap("tab10")
    for ax, (key, label) in zip(axes1, panels, strict=True):
        ax.bar(range(len(names)), [float(metrics["groups"][n][key]) for n in names],
               color=[cmap(i % 10) for i in range(len(names))])
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.set_title(label, fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"{title}: policies compared")
    fig.tight_layout()
    summary = os.path.join(out_dir, "elasticity_summary.png")
    fig.savefig(summary, metadata=PNG_METADATA)
    plt.close(fig)
    return [path, summary]
