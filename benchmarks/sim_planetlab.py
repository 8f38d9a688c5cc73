"""PlanetLab validation runs (Beloglazov & Buyya, CCPE 2012): metrics and wall time each.

    .venv/bin/python benchmarks/sim_planetlab.py [--trace-dir DIR] [--policies npa,dvfs,...]

Runs every ``simulator/experiments/planetlab-20110303-<policy>.toml`` one after the
other (one core each) and prints energy, migrations, SLATAH, PDM, SLAV, wall and CPU
seconds.  VMs take the traces in sorted file-name order unless ``--trace-order`` says
otherwise.  CloudSim 3.0.3 takes 25-53 CPU s per consolidation run on this machine kind
(``planetlab_vs_cloudsim.py`` compares the figures themselves).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from simulator.experiment import load
from simulator.planetlab import find_trace_dir
from simulator.runner import run_experiment

POLICIES = ["npa", "dvfs", "thr-mmt-0.8", "thr-mc-0.8", "thr-mu-0.8", "iqr-mmt-1.5", "iqr-mc-1.5",
            "iqr-mu-1.5", "mad-mmt-2.5", "mad-mc-2.5", "mad-mu-2.5", "lr-mmt-1.2", "lr-mc-1.2",
            "lr-mu-1.2", "lrr-mmt-1.2", "lrr-mc-1.2", "lrr-mu-1.2", "thr-rs-0.8"]
#: CPU seconds of CloudSim 3.0.3 per consolidation run, measured here (reference CSV).
CLOUDSIM_SECONDS = "25-53"
HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    """Run the policies and print one row each."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--trace-dir", default=find_trace_dir())
    ap.add_argument("--trace-order", default=None, help="file of trace names (default: sorted)")
    ap.add_argument("--policies", default=",".join(POLICIES))
    args = ap.parse_args()
    order = args.trace_order
    if order is None:
        order = os.path.join(tempfile.mkdtemp(prefix="sim-planetlab-"), "order.txt")
        with open(order, "w", encoding="utf-8") as f:
            f.write("".join(n + "\n" for n in sorted(os.listdir(args.trace_dir))))
    print(f"{'policy':<13}{'energy kWh':>11}{'migrations':>11}{'SLATAH %':>10}{'PDM %':>8}"
          f"{'SLAV %':>10}{'wall s':>8}{'CPU s':>7}{'CloudSim s':>11}")
    for policy in args.policies.split(","):
        exp = load(os.path.join(HERE, "..", "simulator", "experiments",
                                f"planetlab-20110303-{policy}.toml"))
        t0, c0 = time.perf_counter(), time.process_time()
        m = run_experiment(exp, None, trace_dir=args.trace_dir, plots=False, trace_order=order)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        peer = CLOUDSIM_SECONDS if policy not in ("npa", "dvfs") else "-"
        print(f"{policy:<13}{m['energy_kwh']:>11.2f}{m['migrations']:>11}{m['slatah_pct']:>10.3f}"
              f"{m['pdm_pct']:>8.3f}{m['slav_pct']:>10.5f}{dt:>8.1f}{cpu:>7.1f}{peer:>11}",
              flush=True)


if __name__ == "__main__":
    main()
