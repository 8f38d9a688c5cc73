"""``euca-sim``: run simulation experiments and sweeps from the command line.

    euca-sim run EXPERIMENT.toml [--out DIR] [--seed N] [--trace-dir DIR]
    euca-sim sweep EXPERIMENT.toml --policies GREEDY,ROUNDROBIN --nodes 50,100 --seeds 1,2 --out DIR
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from simulator.experiment import load


class ProgressBar:
    """A one-line progress bar on stderr, only when it is a terminal.

    ``done`` and ``total`` are in the caller's unit (simulated seconds for a run, cells
    for a sweep); ``events`` is an optional count shown beside them.  The ETA assumes
    the rest goes at the average pace so far.  Nothing is written to a pipe or a file.
    """

    def __init__(self, label: str, stream: TextIO | None = None, *, unit: str = "h",
                 scale: float = 1 / 3600.0, clock: Callable[[], float] = time.monotonic):
        self.stream: TextIO = stream or sys.stderr
        self.label = label
        self.unit = unit
        self.scale = scale
        self.clock = clock
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._start = clock()
        self._last = -1.0

    def __call__(self, done: float, total: float, events: int | None = None) -> None:
        """Redraw at most five times a second (and at the end)."""
        if not self.enabled or total <= 0:
            return
        now = self.clock()
        finished = done >= total
        if not finished and now - self._last < 0.2:
            return
        self._last = now
        frac = min(done / total, 1.0)
        filled = int(frac * 30)
        elapsed = now - self._start
        eta = elapsed * (1 - frac) / frac if frac > 0 else 0.0
        fmt = "{:.1f}" if self.scale != 1 else "{:.0f}"
        text = (f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {frac:4.0%} "
                f"{fmt.format(done * self.scale)}/{fmt.format(total * self.scale)} {self.unit}")
        if events is not None:
            text += f"  {events:,} events"
        text += f"  ETA {_clock_text(eta)}  "
        self.stream.write(text)
        if finished:
            self.stream.write(f"\r{self.label}: done in {_clock_text(elapsed)}{' ' * 60}\n")
        self.stream.flush()


def _clock_text(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``euca-sim`` (also the source of its man page)."""
    parser = argparse.ArgumentParser(
        prog="euca-sim", description="Eucalyptus cloud simulator: runs the cloud's own "
        "scheduler and node code on a simpy clock over virtual nodes.",
        epilog="exit status: 0 on success, 1 when an experiment cannot be read or run, "
               "2 on a usage error.")
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
    sweep.add_argument("--jobs", type=int, default=0,
                       help="local Dask workers, one process each (default: CPUs)")
    sweep.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786",
                       help="run the cells on this Dask distributed scheduler's workers")
    sweep.add_argument("--trace-dir", default=None, help="PlanetLab trace directory")
    sweep.add_argument("--trace-order", default=None, metavar="FILE",
                       help="PlanetLab trace file names in VM order (see run)")
    sweep.add_argument("--out", default=None, help="output directory")
    sweep.add_argument("--no-plots", action="store_true", help="skip comparison.png")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``euca-sim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        return _sweep(args)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
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

    from simulator.sweep import report_failures, sweep

    exp = load(args.experiment)
    out = args.out or os.path.join("out", f"{exp.name}-sweep")
    seeds = [int(s) for s in _split(args.seeds)]
    nodes = [int(n) for n in _split(args.nodes)]
    table, failures = sweep(args.experiment, out, policies=_split(args.policies), nodes=nodes,
                            seeds=seeds, jobs=args.jobs or None, trace_dir=args.trace_dir,
                            trace_order=args.trace_order, scheduler=args.scheduler,
                            done=ProgressBar("cells", unit="cells", scale=1.0),
                            plots=not args.no_plots)
    print(table)
    report_failures(failures)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
