"""Our PlanetLab runs beside CloudSim 3.0.3's, row by row, with the ratios.

    .venv/bin/python benchmarks/planetlab_vs_cloudsim.py CLOUDSIM.csv \
        [--orders DIR] [--trace-dir DIR] [--only thr-mmt-0.8,npa] [--order sorted]

CLOUDSIM.csv has one row per CloudSim run: ``experiment,order,energy_kwh,migrations,
sla,slatah,pdm,host_shutdowns,cpu_s`` (``experiment`` as CloudSim names it, e.g.
``20110303_thr_mmt_0.8`` or ``thr-mmt-0.8``; ``order`` the name of a trace-order file
in ``--orders``, e.g. ``sorted`` for ``sorted.txt``, or a path).  The committed
reference is ``simulator/reference/cloudsim-3.0.3-20110303.csv``.  For each row the
matching ``simulator/experiments/planetlab-20110303-<policy>.toml`` runs with that
order, and the table prints CloudSim's figure, ours and ours / CloudSim's.  The
issue's targets: NPA and DVFS energy within 2 %; the consolidation policies within
10 % energy and 25 % migrations, SLATAH and PDM in the same range.

SLA columns are compared in percent: a CloudSim figure below 1 for SLATAH (or 0.01 for
PDM and SLA) is taken as a fraction and multiplied by 100.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import time
from typing import Any

from simulator.experiment import load
from simulator.planetlab import find_trace_dir
from simulator.runner import run_experiment

HERE = os.path.dirname(os.path.abspath(__file__))

EXPERIMENTS = os.path.join(HERE, "..", "simulator", "experiments")
REFERENCE = os.path.join(HERE, "..", "simulator", "reference", "cloudsim-3.0.3-20110303.csv")
#: CloudSim's example class names -> our policy names (default parameters of the examples).
CLASS_NAMES = {"nonpoweraware": "npa", "npa": "npa", "dvfs": "dvfs"}
DEFAULT_PARAMETER = {"thr": "0.8", "iqr": "1.5", "mad": "2.5", "lr": "1.2", "lrr": "1.2"}


def policy_name(experiment: str) -> str:
    """``20110303_thr_mmt_0.8``, ``ThrMmt`` or ``thr-mmt-0.8`` -> ``thr-mmt-0.8``."""
    name = experiment.strip()
    name = re.sub(r"^\d{8}[_-]", "", name)
    if re.fullmatch(r"[A-Za-z]+", name) and name.lower() not in CLASS_NAMES:
        parts = [p.lower() for p in re.findall(r"[A-Z][a-z]*", name)]  # ThrMmt -> thr, mmt
        if len(parts) == 2:
            return f"{parts[0]}-{parts[1]}-{DEFAULT_PARAMETER.get(parts[0], '0.8')}"
    name = name.lower().replace("_", "-")
    return CLASS_NAMES.get(name, name)


def as_percent(value: float, fraction_below: float) -> float:
    """CloudSim's figure in percent (fractions are recognised by their size)."""
    return value * 100.0 if 0 < value < fraction_below else value


def read_rows(path: str) -> list[dict[str, str]]:
    """The CSV's rows, skipping comments and blank lines."""
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def order_file(order: str, orders_dir: str) -> str | None:
    """The trace-order file a row names (``sorted`` -> ``DIR/sorted.txt``)."""
    if not order or order == "listing-unknown":
        return None
    for candidate in (order, os.path.join(orders_dir, order),
                      os.path.join(orders_dir, order + ".txt")):
        if os.path.isfile(candidate):
            return candidate
    raise SystemExit(f"no trace-order file for {order!r} in {orders_dir}")


def run_ours(policy: str, order: str | None, trace_dir: str | None) -> tuple[dict[str, Any], float]:
    """One of our runs and its CPU seconds."""
    exp = load(os.path.join(EXPERIMENTS, f"planetlab-20110303-{policy}.toml"))
    c0 = time.process_time()
    m = run_experiment(exp, None, trace_dir=trace_dir, plots=False, trace_order=order)
    return m, time.process_time() - c0


def _ratio(ours: float, theirs: float) -> str:
    if theirs == 0:
        return "  =" if ours == 0 else "  -"
    return f"{ours / theirs:5.3f}"


def main() -> None:
    """Print the comparison table (and a summary line per target)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="?", default=REFERENCE, help="CloudSim's results")
    ap.add_argument("--orders", default=None, help="directory of trace-order files "
                    "(default: orders/ beside the CSV, else simulator/reference/orders)")
    ap.add_argument("--trace-dir", default=find_trace_dir())
    ap.add_argument("--only", default=None, help="comma-separated policies to compare")
    ap.add_argument("--order", default=None, help="only rows of this order")
    ap.add_argument("--markdown", action="store_true",
                    help="one Markdown table row per comparison (CloudSim / ours)")
    args = ap.parse_args()
    orders_dir = args.orders or next(
        (d for d in (os.path.join(os.path.dirname(os.path.abspath(args.csv)), "orders"),
                     os.path.join(HERE, "..", "simulator", "reference", "orders"))
         if os.path.isdir(d)), ".")
    only = set(args.only.split(",")) if args.only else None
    if args.markdown:
        print("| policy | order | energy kWh CloudSim / ours | migrations | SLATAH % | PDM % "
              "| CPU s |\n|---|---|---|---|---|---|---|")
    else:
        print(f"{'policy':<13}{'order':<10}{'':>5}{'energy kWh':>11}{'migrations':>11}"
              f"{'SLATAH %':>10}{'PDM %':>8}{'SLAV %':>10}{'shutdowns':>10}{'CPU s':>8}")
    worst: dict[str, float] = {}
    for row in read_rows(args.csv):
        policy = policy_name(row["experiment"])
        if (only and policy not in only) or (args.order and row["order"] != args.order):
            continue
        if not os.path.isfile(os.path.join(EXPERIMENTS, f"planetlab-20110303-{policy}.toml")):
            print(f"{policy:<13}{row['order']:<10} no experiment file; skipped")
            continue
        ours, cpu = run_ours(policy, order_file(row["order"], orders_dir), args.trace_dir)
        theirs = {
            "energy": float(row["energy_kwh"]), "migrations": float(row["migrations"] or 0),
            "slatah": as_percent(float(row.get("slatah") or 0), 1.0),
            "pdm": as_percent(float(row.get("pdm") or 0), 0.01),
            "sla": as_percent(float(row.get("sla") or 0), 0.0001),
            "shutdowns": float(row.get("host_shutdowns") or 0),
            "cpu": float(row.get("cpu_s") or 0)}
        mine = {"energy": ours["energy_kwh"], "migrations": ours["migrations"],
                "slatah": ours["slatah_pct"], "pdm": ours["pdm_pct"], "sla": ours["slav_pct"],
                "shutdowns": ours.get("host_shutdowns", 0), "cpu": cpu}
        for key in ("energy", "migrations", "slatah", "pdm"):
            if theirs[key]:
                off = abs(float(mine[key]) / theirs[key] - 1.0)
                worst[key] = max(worst.get(key, 0.0), off)
        if args.markdown:
            print(f"| {policy} | {row['order']} | {theirs['energy']:.2f} / {mine['energy']:.2f} "
                  f"| {theirs['migrations']:.0f} / {mine['migrations']} "
                  f"| {theirs['slatah']:.3f} / {mine['slatah']:.3f} "
                  f"| {theirs['pdm']:.4f} / {mine['pdm']:.4f} "
                  f"| {theirs['cpu']:.1f} / {mine['cpu']:.1f} |", flush=True)
            continue
        print(f"{policy:<13}{row['order']:<10}{'CS':>5}{theirs['energy']:>11.2f}"
              f"{theirs['migrations']:>11.0f}{theirs['slatah']:>10.3f}{theirs['pdm']:>8.3f}"
              f"{theirs['sla']:>10.5f}{theirs['shutdowns']:>10.0f}{theirs['cpu']:>8.1f}")
        print(f"{'':<23}{'ours':>5}{mine['energy']:>11.2f}{mine['migrations']:>11}"
              f"{mine['slatah']:>10.3f}{mine['pdm']:>8.3f}{mine['sla']:>10.5f}"
              f"{mine['shutdowns']:>10}{mine['cpu']:>8.1f}")
        ratios = {k: _ratio(float(mine[k]), theirs[k]) for k in mine}
        print(f"{'':<23}{'x':>5}{ratios['energy']:>11}{ratios['migrations']:>11}"
              f"{ratios['slatah']:>10}{ratios['pdm']:>8}{ratios['sla']:>10}"
              f"{ratios['shutdowns']:>10}{ratios['cpu']:>8}", flush=True)
    if worst:
        print("largest deviation: " + ", ".join(f"{k} {v * 100:.1f} %" for k, v in worst.items()))


if __name__ == "__main__":
    main()
