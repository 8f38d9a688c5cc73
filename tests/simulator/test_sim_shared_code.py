"""The shared-code property: the server's CC on its real-time clock and the simulator's
simpy clock, fed the same recorded request trace, make the same placements."""

from __future__ import annotations

import asyncio

from simhelpers import make_cluster, spec

from server.cc.cluster import ClusterController
from server.clock import RealClock
from simulator.clock import SimpyClock

# A recorded request trace: (virtual time, action, instance, type); times 2 s apart or more
# so real-time jitter (at 50x, 40 ms of wall time) cannot reorder them.
TRACE = [
    (0.0, "run", "i-1", "m1.large"), (2.0, "run", "i-2", "m1.small"),
    (4.0, "run", "i-3", "m1.small"), (6.0, "run", "i-4", "m1.large"),
    (8.0, "terminate", "i-1", ""), (14.0, "run", "i-5", "m1.large"),
    (16.0, "run", "i-6", "m1.small"), (18.0, "terminate", "i-3", ""),
    (24.0, "run", "i-7", "m1.small"), (26.0, "run", "i-8", "m1.large"),
]


def replay(cc: ClusterController, later) -> dict[str, str]:  # type: ignore[no-untyped-def]
    placements: dict[str, str] = {}

    def act(action: str, iid: str, vm_type: str) -> None:
        if action == "terminate":
            cc.terminate_instance(iid)
            return
        names = cc.run_instances([spec(iid, vm_type)], 1)
        placements[iid] = names[0] if names else "rejected"

    for t, action, iid, vm_type in TRACE:
        later(t, lambda a=action, i=iid, v=vm_type: act(a, i, v))
    return placements


def simulated(policy: str) -> dict[str, str]:
    clock = SimpyClock()
    cc, _ = make_cluster(clock, nodes=3, policy=policy, boot=1.0, teardown=1.0)
    placements = replay(cc, clock.call_later)
    clock.run(until=40)
    return placements


async def served(policy: str) -> dict[str, str]:
    clock = RealClock(asyncio.get_running_loop(), speed=50)
    cc, _ = make_cluster(clock, nodes=3, policy=policy, boot=1.0, teardown=1.0)  # type: ignore[arg-type]
    placements = replay(cc, clock.call_later)
    await asyncio.sleep(32 / 50)
    return placements


async def test_real_time_and_simulated_placements_agree() -> None:
    for policy in ("GREEDY", "ROUNDROBIN", "POWERSAVE"):
        sim = simulated(policy)
        real = await served(policy)
        assert real == sim, policy
        assert len(sim) == 8
