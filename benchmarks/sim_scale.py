"""Scale benchmark: N nodes and M instance lifecycles through the server's CC and NC code.

    .venv/bin/python benchmarks/sim_scale.py [--nodes 10000] [--lifecycles 1000000]
        [--policies GREEDY,ROUNDROBIN] [--profile]

Each lifecycle is a Poisson arrival, CC placement (RunInstances), NC staging/boot on
the virtual driver, a lifetime, terminate, teardown and the NC forgetting it: about
five scheduled events and four state reports.  Prints seconds and microseconds per
lifecycle for each policy beside the target (< 60 CPU s, < 60 us, on one core), and the
machine's load average while it ran: on a shared machine CPU time grows with the load
(other processes share the cores' caches), so compare runs made side by side.
"""

from __future__ import annotations

import argparse
import os
import time

from simulator.engine import Simulation
from simulator.experiment import parse


def experiment(nodes: int, lifecycles: int, policy: str) -> dict:
    """A steady-state workload: ~10 instances per node at any time."""
    rate = nodes / 100.0                 # arrivals per second
    duration = lifecycles / rate
    return {
        "experiment": {"name": f"scale-{policy.lower()}", "seed": 1, "duration": duration + 20_000.0,
                       "sample_interval": duration / 20},
        "cluster": {"policy": policy, "nodes": nodes, "boot_seconds": 10.0, "teardown_seconds": 2.0,
                    "node": {"cores": 16, "memory_mb": 65536, "disk_gb": 2000}},
        "vm_types": {"m1.small": {"cores": 1, "memory_mb": 256, "disk_gb": 5},
                     "c1.medium": {"cores": 2, "memory_mb": 512, "disk_gb": 10}},
        "workload": {"kind": "poisson", "rate_per_second": rate, "count": lifecycles,
                     "lifetime": {"dist": "exponential", "mean": 1000.0},
                     "types": {"m1.small": 0.7, "c1.medium": 0.3}},
    }


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--lifecycles", type=int, default=1_000_000)
    ap.add_argument("--policies", default="GREEDY,ROUNDROBIN")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    for policy in args.policies.split(","):
        exp = parse(experiment(args.nodes, args.lifecycles, policy))
        t0 = time.perf_counter()
        c0 = time.process_time()
        sim = Simulation(exp)
        if args.profile:
            import cProfile
            import pstats
            prof = cProfile.Profile()
            prof.enable()
            m = sim.run()
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        else:
            m = sim.run()
        dt = time.perf_counter() - t0
        cpu = time.process_time() - c0  # the machine may be shared: CPU time is the fair figure
        done = m["completed"]
        target = 60.0 * args.lifecycles / 1_000_000  # 60 s per million lifecycles
        print(f"{policy:<11} nodes={args.nodes} placed={m['placed']} completed={done} "
              f"rejected={m['rejected']} wall={dt:.1f}s cpu={cpu:.1f}s "
              f"per-lifecycle={cpu / max(m['placed'], 1) * 1e6:.1f}us (cpu) "
              f"target<{target:g}s load={os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
