"""``euca-sim sweep``: a grid of policies x sizes x seeds, each cell an independent run.

Cells run on Dask distributed: an existing scheduler (``--scheduler tcp://HOST:8786``)
or a local cluster of ``--jobs N`` single-threaded worker processes.  Without the
``sweep`` extra installed, ``--jobs`` falls back to a local process pool.  Each cell
has its own seed and process state, so results do not depend on the engine or the
number of workers; they are gathered in grid order and written with sorted keys and
fixed rounding, hence byte-identical whichever engine ran them.  A cell that fails is
reported (its row carries the error) without losing the others.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from simulator.experiment import load
from simulator.output import PlotsUnavailable, plot_sweep, write_csv, write_json

COLUMNS = ("policy", "nodes", "seed", "placed", "rejected", "rejection_rate", "mean_wait_s",
           "p95_wait_s", "utilisation", "energy_kwh", "node_hours_powered", "migrations",
           "slatah_pct", "pdm_pct", "slav_pct", "error")

Cell = tuple[str, str, int | None, int | None, str | None, str | None]
CellsDone = Callable[[float, float], None]


class SweepError(RuntimeError):
    """The sweep could not run at all (e.g. no scheduler at the given address)."""


def run_cell(job: Cell) -> dict[str, Any]:
    """One cell of the grid; a failure becomes the row's ``error`` (never an exception)."""
    path, policy, nodes, seed, trace_dir, trace_order = job
    try:
        return _cell(job)
    except Exception as exc:  # noqa: BLE001 - one bad cell must not lose the others
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return {"policy": policy, "nodes": nodes, "seed": seed,
                "error": f"{type(exc).__name__}: {exc} ({os.path.basename(last.filename)}:"
                         f"{last.lineno})"}


def _cell(job: Cell) -> dict[str, Any]:
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


def grid_of(path: str, policies: Sequence[str], nodes: Sequence[int], seeds: Sequence[int],
            trace_dir: str | None = None, trace_order: str | None = None) -> list[Cell]:
    """The cells in grid order: policy-major, then nodes, then seed."""
    node_counts: list[int | None] = list(nodes) or [None]
    seed_list: list[int | None] = list(seeds) or [None]
    path = os.path.abspath(path)
    trace_dir = os.path.abspath(trace_dir) if trace_dir else None
    trace_order = os.path.abspath(trace_order) if trace_order else None
    return [(path, p, n, s, trace_dir, trace_order)
            for p in (policies or [""]) for n in node_counts for s in seed_list]


def run_cells(grid: Sequence[Cell], *, jobs: int | None = None, scheduler: str | None = None,
              client: Any = None, done: CellsDone | None = None,
              use_dask: bool | None = None) -> list[dict[str, Any]]:
    """Every cell's metrics, in grid order, on the engine asked for.

    ``client``: a ``distributed.Client`` to use as is; ``scheduler``: the address of a
    running Dask scheduler; otherwise ``jobs`` local workers (default: CPUs), on Dask
    when it is installed (``use_dask=False``: a plain process pool).
    """
    if client is not None:
        return _on_dask(client, grid, done)
    if use_dask is False:
        return _on_processes(grid, jobs, done)
    try:
        import distributed
    except ImportError:
        if scheduler:
            raise SweepError("--scheduler needs Dask distributed: pip install "
                             "'eucalyptus[sweep]' (or 'dask[distributed]')") from None
        return _on_processes(grid, jobs, done)
    if scheduler:
        try:
            with distributed.Client(scheduler, timeout="10s") as c:  # type: ignore[no-untyped-call]
                return _on_dask(c, grid, done)
        except OSError as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    workers = max(1, min(jobs or os.cpu_count() or 1, len(grid)))
    # Our own short-lived cluster: its start-up chatter and shutdown races (heartbeats to
    # a closing scheduler) are not the user's business; real errors come back per cell.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    # Everything listens on the loopback only; any free port for its HTTP endpoint.
    cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", worker_dashboard_address=None)
    with cluster, distributed.Client(cluster) as c:  # type: ignore[no-untyped-call]
        return _on_dask(c, grid, done)


def _on_dask(client: Any, grid: Sequence[Cell], done: CellsDone | None) -> list[dict[str, Any]]:
    from distributed import as_completed as dask_completed

    futures = client.map(run_cell, list(grid), pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    results: list[dict[str, Any] | None] = [None] * len(grid)
    completed = dask_completed(futures, with_results=True,  # type: ignore[no-untyped-call]
                               raise_errors=False)
    for n, (future, value) in enumerate(completed, 1):
        if isinstance(value, BaseException) or future.status == "error":
            job = grid[index[future.key]]
            value = {"policy": job[1], "nodes": job[2], "seed": job[3],
                     "error": f"worker failed: {future.exception()!r}"}
        results[index[future.key]] = value
        if done:
            done(n, len(grid))
    return [r for r in results if r is not None]


def _on_processes(grid: Sequence[Cell], jobs: int | None, done: CellsDone | None
                  ) -> list[dict[str, Any]]:
    results: list[dict[str, Any] | None] = [None] * len(grid)
    with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {pool.submit(run_cell, job): i for i, job in enumerate(grid)}
        for n, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if done:
                done(n, len(grid))
    return [r for r in results if r is not None]


def sweep(path: str, out_dir: str, *, policies: list[str], nodes: list[int], seeds: list[int],
          jobs: int | None = None, trace_dir: str | None = None,
          trace_order: str | None = None, scheduler: str | None = None, client: Any = None,
          done: CellsDone | None = None, plots: bool = True, use_dask: bool | None = None
          ) -> tuple[str, list[str]]:
    """Run the grid, write comparison.csv/json (+ PNGs); returns the table and the failures."""
    grid = grid_of(path, policies, nodes, seeds, trace_dir, trace_order)
    results = run_cells(grid, jobs=jobs, scheduler=scheduler, client=client, done=done,
                        use_dask=use_dask)
    rows = [{c: r.get(c, "") for c in COLUMNS} for r in results]
    failures = [f"{r['policy'] or '-'}/{r['nodes'] or '-'}/{r['seed'] or '-'}: {r['error']}"
                for r in rows if r["error"]]
    os.makedirs(out_dir, exist_ok=True)
    write_csv(os.path.join(out_dir, "comparison.csv"), rows)
    write_json(os.path.join(out_dir, "comparison.json"), results)
    if plots:
        try:
            plot_sweep(out_dir, [r for r in rows if not r["error"]])
        except PlotsUnavailable as exc:
            print(f"euca-sim: {exc}", file=sys.stderr)
    return format_table(rows), failures


def format_table(rows: list[dict[str, Any]]) -> str:
    """Aligned text table of the columns that have values."""
    cols = [c for c in COLUMNS if any(r.get(c, "") not in ("", None) for r in rows)]
    cells = [[str(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def report_failures(failures: Sequence[str]) -> None:
    """One line per failed cell on stderr."""
    for line in failures:
        print(f"euca-sim: cell {line}", file=sys.stderr)
