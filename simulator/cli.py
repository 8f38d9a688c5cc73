"""``euca-sim``: run simulation experiments and sweeps from the command line.

    euca-sim run EXPERIMENT.toml [--out DIR] [--seed N] [--trace-dir DIR]
    euca-sim sweep EXPERIMENT.toml --policies GREEDY,ROUNDROBIN --nodes 50,100 --seeds 1,2 --out DIR
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from simulator.experiment import load


class ProgressBar:
    """A one-line progress bar on stderr, only when it is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None):
        self.stream: TextIO = stream or sys.stderr
        self.label = label
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = -1

    def __call__(self, done: float, total: float) -> None:
        """Redraw when the whole-percent figure changes."""
        if not self.enabled or total <= 0:
            return
        pct = int(100 * done / total)
        if pct == self._last:
            return
        self._last = pct
        filled = pct * 30 // 100
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {pct:3d}%")
        if pct >= 100:
            self.stream.write("\n")
        self.stream.flush()


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``euca-sim`` console script."""
    parser = argparse.ArgumentParser(prog="euca-sim", description="Eucalyptus cloud simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one experiment")
    run.add_argument("experiment", help="experiment file (TOML)")
    run.add_argument("--out", default=None, help="output directory (default: ./out/<name>)")
    run.add_argument("--seed", type=int, default=None, help="override the file's seed")
    run.add_argument("--trace-dir", default=None, help="PlanetLab trace directory")
    run.add_argument("--trace-order", default=None, metavar="FILE",
                     help="PlanetLab trace file names, one a line, in the order VMs take them "
                          "(default: the directory's listing order, as CloudSim reads it)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    sweep = sub.add_parser("sweep", help="run a grid of policies x sizes x seeds in parallel")
    sweep.add_argument("experiment", help="base experiment file (TOML)")
    sweep.add_argument("--policies", default=None,
                       help="comma-separated: GREEDY,ROUNDROBIN,POWERSAVE (or PlanetLab policies)")
    sweep.add_argument("--nodes", default=None, help="comma-separated node counts")
    sweep.add_argument("--seeds", default=None, help="comma-separated seeds")
    sweep.add_argument("--jobs", type=int, default=0, help="parallel processes (default: CPUs)")
    sweep.add_argument("--trace-dir", default=None, help="PlanetLab trace directory")
    sweep.add_argument("--trace-order", default=None, metavar="FILE",
                       help="PlanetLab trace file names in VM order (see run)")
    sweep.add_argument("--out", default=None, help="output directory")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        return _sweep(args)
    except (OSError, ValueError, KeyError) as exc:
        print(f"euca-sim: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    import json
    import os

    from simulator.runner import run_experiment

    exp = load(args.experiment)
    out = args.out or os.path.join("out", exp.name)
    metrics = run_experiment(exp, out, seed=args.seed, trace_dir=args.trace_dir,
                             progress=ProgressBar(exp.name), plots=not args.no_plots,
                             trace_order=args.trace_order)
    print(json.dumps(metrics, indent=2, sort_keys=True))
    print(f"wrote {out}/metrics.json, timeseries.csv and plots", file=sys.stderr)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import os

    from simulator.sweep import sweep

    exp = load(args.experiment)
    out = args.out or os.path.join("out", f"{exp.name}-sweep")
    seeds = [int(s) for s in _split(args.seeds)]
    nodes = [int(n) for n in _split(args.nodes)]
    table = sweep(args.experiment, out, policies=_split(args.policies), nodes=nodes, seeds=seeds,
                  jobs=args.jobs or None, trace_dir=args.trace_dir,
                  trace_order=args.trace_order)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
