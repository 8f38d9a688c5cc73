"""``euca-sim sweep``: a grid of policies x sizes x seeds, run in parallel processes.

Each cell is an independent run (own process, own seed), so the grid's results do not
depend on the number of processes; the comparison table and plot are written in grid
order.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from simulator.experiment import load
from simulator.output import plot_bars, write_csv, write_json

COLUMNS = ("policy", "nodes", "seed", "placed", "rejected", "rejection_rate", "mean_wait_s",
           "p95_wait_s", "utilisation", "energy_kwh", "node_hours_powered", "migrations",
           "slatah_pct", "pdm_pct", "slav_pct")


def _cell(job: tuple[str, str, int | None, int | None, str | None, str | None]) -> dict[str, Any]:
    path, policy, nodes, seed, trace_dir, trace_order = job
    from simulator.runner import run_experiment

    exp = load(path)
    if exp.planetlab is not None:
        exp.planetlab = dict(exp.planetlab)
        if policy:
            exp.planetlab["policy"] = policy
        if nodes:
            exp.planetlab["hosts"] = nodes
    else:
        if policy:
            exp.policy = policy
        if nodes:
            total = exp.nodes
            for g in exp.groups:  # scale every group, keeping proportions
                g.count = max(1, round(g.count * nodes / total))
    metrics = run_experiment(exp, None, seed=seed, trace_dir=trace_dir, plots=False,
                             trace_order=trace_order)
    metrics.setdefault("seed", seed if seed is not None else exp.seed)
    metrics["nodes"] = metrics.get("nodes", metrics.get("hosts"))
    return metrics


def sweep(path: str, out_dir: str, *, policies: list[str], nodes: list[int], seeds: list[int],
          jobs: int | None = None, trace_dir: str | None = None,
          trace_order: str | None = None) -> str:
    """Run the grid, write comparison.csv/json and comparison.png; returns the table as text."""
    node_counts: list[int | None] = list(nodes) or [None]
    seed_list: list[int | None] = list(seeds) or [None]
    if trace_order:
        trace_order = os.path.abspath(trace_order)
    grid = [(path, p, n, s, trace_dir, trace_order)
            for p in (policies or [""]) for n in node_counts for s in seed_list]
    with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        results = list(pool.map(_cell, grid))
    rows = [{c: r.get(c, "") for c in COLUMNS} for r in results]
    os.makedirs(out_dir, exist_ok=True)
    write_csv(os.path.join(out_dir, "comparison.csv"), rows)
    write_json(os.path.join(out_dir, "comparison.json"), results)
    labels = [f"{r['policy']}/{r['nodes']}/{r['seed']}" for r in rows]
    plot_bars(os.path.join(out_dir, "comparison.png"), labels,
              [float(r["energy_kwh"] or 0.0) for r in rows], "energy (kWh)",
              "energy by policy / nodes / seed")
    return format_table(rows)


def format_table(rows: list[dict[str, Any]]) -> str:
    """Aligned text table of the columns that have values."""
    cols = [c for c in COLUMNS if any(r.get(c, "") != "" for r in rows)]
    cells = [[str(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
