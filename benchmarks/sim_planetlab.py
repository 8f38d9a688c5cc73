"""PlanetLab validation runs (Beloglazov & Buyya, CCPE 2012): metrics and wall time each.

    .venv/bin/python benchmarks/sim_planetlab.py [--trace-dir DIR] [--policies npa,dvfs,...]

Runs every ``simulator/experiments/planetlab-20110303-<policy>.toml`` one after the
other (one core each) and prints energy, migrations, SLATAH, PDM, SLAV and seconds.
The reference Java simulator takes about 30 s per run on this machine.
"""

from __future__ import annotations

import argparse
import os
import time

from simulator.experiment import load
from simulator.runner import run_experiment

POLICIES = ["npa", "dvfs", "thr-mmt-0.8", "thr-mc-0.8", "iqr-mmt-1.5", "iqr-mc-1.5",
            "mad-mmt-2.5", "mad-mc-2.5", "lr-mmt-1.2", "lr-mc-1.2"]
HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    """Run the policies and print one row each."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--trace-dir", default=os.path.join(HERE, "..", "..", "shared", "data",
                                                        "planetlab", "20110303"))
    ap.add_argument("--policies", default=",".join(POLICIES))
    args = ap.parse_args()
    print(f"{'policy':<13}{'energy kWh':>11}{'migrations':>11}{'SLATAH %':>10}{'PDM %':>8}"
          f"{'SLAV %':>10}{'wall s':>8}")
    for policy in args.policies.split(","):
        exp = load(os.path.join(HERE, "..", "simulator", "experiments",
                                f"planetlab-20110303-{policy}.toml"))
        t0 = time.perf_counter()
        m = run_experiment(exp, None, trace_dir=args.trace_dir, plots=False)
        dt = time.perf_counter() - t0
        print(f"{policy:<13}{m['energy_kwh']:>11.2f}{m['migrations']:>11}{m['slatah_pct']:>10.3f}"
              f"{m['pdm_pct']:>8.3f}{m['slav_pct']:>10.5f}{dt:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
