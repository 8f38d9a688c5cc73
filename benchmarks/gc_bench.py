"""Full garbage-collection stall with 10,000 instances held, with and without keeping the
long-lived records out of collections (``server/gctune.py``).

Builds what the CLC holds per instance (the record, its rendered XML items for the
account's and the administrator's views, index entries) with the cloud's own classes,
then times full collections after the same burst of request-like allocations: plainly,
and after :func:`server.gctune.freeze_long_lived` (as the server does after loading).

    .venv/bin/python benchmarks/gc_bench.py [--instances 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from server import gctune  # noqa: E402
from server.clc.index import InstanceIndex  # noqa: E402
from server.clc.model import Instance  # noqa: E402
from server.clc.render import render_instance  # noqa: E402


def hold(n: int) -> tuple[dict[str, Instance], dict[Any, Any], InstanceIndex]:
    """``n`` instances (half terminated) as the CLC keeps them."""
    records: dict[str, Instance] = {}
    cache: dict[Any, Any] = {}
    index = InstanceIndex()
    for k in range(n):
        inst = Instance(
            id=f"i-{k:08x}", account_id="123456789012", reservation_id=f"r-{k // 10:08x}",
            image_id="emi-12345678", vm_type="m1.small", zone="zone-1",
            state="running" if k % 2 else "terminated", launch_time=1.7e9 + k,
            node="node-1", key_name="k", groups=[["sg-12345678", "default"]],
            private_ip=f"10.0.{k // 250}.{k % 250}", public_ip="", mac="d0:0d:00:00:00:01",
            launch_index=k % 10, block_devices=[{"device": "/dev/sda1"}])
        records[inst.id] = inst
        index.put(inst)
        for admin in (False, True):
            cache[(inst.id, admin)] = render_instance(inst, admin, {"role": "web"}, "internal")
    return records, cache, index


def burst() -> list[Any]:
    """Allocations of a few requests that outlive young collections."""
    return [{"a": [k], "b": (k, str(k))} for k in range(20000)]


def full_collections(rounds: int) -> list[float]:
    """Milliseconds of each full collection after a burst."""
    out = []
    for _ in range(rounds):
        keep = burst()
        t0 = time.perf_counter()
        gc.collect(2)
        out.append((time.perf_counter() - t0) * 1000)
        del keep
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    held = hold(args.instances)
    gc.collect()
    tracked = len(gc.get_objects())
    plain = full_collections(args.rounds)
    gctune.freeze_long_lived()
    gc.callbacks.remove(gctune._after_collection)  # time the collections alone
    frozen = full_collections(args.rounds)
    gc.unfreeze()
    print(f"{args.instances} instances held: {tracked} objects tracked by the collector; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'full collection, ms':30s} {'plain':>10s} {'frozen':>10s}")
    print(f"{'median':30s} {statistics.median(plain):10.1f} {statistics.median(frozen):10.1f}")
    print(f"{'min':30s} {min(plain):10.1f} {min(frozen):10.1f}")
    assert held


if __name__ == "__main__":
    main()
