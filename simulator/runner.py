"""Run one experiment file and write its outputs (shared by ``run`` and ``sweep``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from simulator.experiment import Experiment
from simulator.output import (
    PlotsUnavailable,
    plot_bars,
    plot_elasticity,
    plot_series,
    write_csv,
    write_json,
)

#: ``progress(done, total, events)``: simulated seconds so far and in all, events so far.
Progress = Callable[[float, float, int], None]


def run_experiment(exp: Experiment, out_dir: str | None, *, seed: int | None = None,
                   trace_dir: str | None = None, progress: Progress | None = None,
                   plots: bool = True, trace_order: str | None = None) -> dict[str, Any]:
    """Simulate ``exp`` and, if ``out_dir`` is given, write metrics.json, timeseries.csv, PNGs.

    ``trace_order`` names a file listing PlanetLab trace names in the order VMs take
    them (default: the trace directory's listing order, as CloudSim reads it).
    """
    if exp.planetlab is not None:
        metrics, series = _run_planetlab(exp, trace_dir, progress, trace_order,
                                         exp.seed if seed is None else seed)
    elif "autoscaling" in exp.raw:
        from simulator.elasticity import ElasticityRun

        metrics, series = ElasticityRun(exp, progress, seed).run()
    else:
        from simulator.engine import Simulation

        sim = Simulation(exp, seed=seed, progress=progress)
        metrics = sim.run()
        metrics["seed"] = sim.seed
        series = sim.metrics.series
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        write_json(os.path.join(out_dir, "metrics.json"), metrics)
        write_csv(os.path.join(out_dir, "timeseries.csv"), series)
        if plots:
            try:
                if "groups" in metrics:  # an elasticity experiment
                    plot_elasticity(out_dir, series, metrics, exp.name)
                else:
                    plot_series(out_dir, series, exp.name)
                    plot_bars(os.path.join(out_dir, "energy.png"), [str(metrics["policy"])],
                              [float(metrics["energy_kwh"])], "energy (kWh)",
                              f"{exp.name}: energy")
            except PlotsUnavailable as exc:  # the numbers are written; say how to get pictures
                print(f"euca-sim: {exc}", file=sys.stderr)
    return metrics


def _run_planetlab(exp: Experiment, trace_dir: str | None, progress: Progress | None,
                   trace_order: str | None, seed: int
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from simulator.planetlab import (
        EVENT_OFFSET,
        PlanetLabConfig,
        PlanetLabRun,
        find_trace_dir,
        read_trace_order,
    )

    pl = dict(exp.planetlab or {})
    directory = trace_dir or pl.get("trace_dir")
    if not directory:
        raise SystemExit("this experiment needs --trace-dir (the PlanetLab trace directory)")
    if not os.path.isabs(directory) and not os.path.isdir(directory):
        beside = os.path.join(exp.base_dir, directory)
        # A shipped file's relative path fits a main checkout; work trees sit deeper.
        directory = beside if os.path.isdir(beside) else (
            find_trace_dir(os.path.basename(os.path.normpath(directory)), exp.base_dir) or beside)
    cfg = PlanetLabConfig(
        trace_dir=directory, policy=str(pl.get("policy", "thr-mmt-0.8")),
        hosts=int(pl.get("hosts", 800)), interval=float(pl.get("interval", 300.0)),
        steps=int(pl.get("steps", 288)), vms=pl.get("vms"),
        enforce_memory=bool(pl.get("enforce_memory", False)),
        event_offset=float(pl.get("event_offset", EVENT_OFFSET)), seed=seed)
    order_file = trace_order or pl.get("trace_order")
    if order_file:
        if not os.path.isabs(order_file) and not os.path.exists(order_file):
            order_file = os.path.join(exp.base_dir, order_file)
        cfg.trace_order = read_trace_order(order_file)
    if "host_types" in pl:
        cfg.host_types = list(pl["host_types"])
    if "vm_types" in pl:
        cfg.vm_types = list(pl["vm_types"])
    interval = cfg.interval
    step_progress = ((lambda k, n, events: progress(k * interval, n * interval, events))
                     if progress else None)
    metrics, series = PlanetLabRun(cfg, step_progress).run()
    metrics["experiment"] = exp.name
    return metrics, series
