"""Placement cases for each CC policy, driven in virtual time (whole traces compared)."""

from __future__ import annotations

import pytest
from simhelpers import make_cluster, spec

from simulator.clock import SimpyClock

# (policy, requests as (time, instance, type) or (time, "terminate", instance), expected nodes)
CASES = [
    ("GREEDY", [(0, "i-1", "m1.small"), (0, "i-2", "m1.small"), (0, "i-3", "m1.small")],
     {"i-1": "node-a", "i-2": "node-a", "i-3": "node-b"}),
    ("GREEDY", [(0, "i-1", "m1.large"), (0, "i-2", "m1.small"), (1, "terminate", "i-1"),
                (20, "i-3", "m1.small")],
     {"i-1": "node-a", "i-2": "node-b", "i-3": "node-a"}),
    ("ROUNDROBIN", [(0, "i-1", "m1.small"), (0, "i-2", "m1.small"), (0, "i-3", "m1.small"),
                    (0, "i-4", "m1.small")],
     {"i-1": "node-a", "i-2": "node-b", "i-3": "node-c", "i-4": "node-a"}),
    ("ROUNDROBIN", [(0, "i-1", "m1.large"), (0, "i-2", "m1.large"), (0, "i-3", "m1.small"),
                    (0, "i-4", "m1.small")],
     {"i-1": "node-a", "i-2": "node-b", "i-3": "node-c", "i-4": "node-c"}),
    ("POWERSAVE", [(0, "i-1", "m1.small"), (0, "i-2", "m1.large")],
     {"i-1": "node-a", "i-2": "node-b"}),
]


@pytest.mark.parametrize(("policy", "requests", "expected"), CASES)
def test_placement_table(policy: str, requests: list[tuple], expected: dict[str, str]) -> None:
    clock = SimpyClock()
    cc, _ = make_cluster(clock, policy=policy)
    placed: dict[str, str] = {}

    def act(req: tuple) -> None:
        if req[1] == "terminate":
            cc.terminate_instance(req[2])
        else:
            names = cc.run_instances([spec(req[1], req[2])], 1)
            placed[req[1]] = names[0] if names else "rejected"

    for req in requests:
        clock.call_later(req[0], lambda r=req: act(r))
    clock.run(until=100)
    assert placed == expected


def test_greedy_whole_trace() -> None:
    clock = SimpyClock()
    cc, trace = make_cluster(clock, nodes=2, boot=12.5, teardown=2.0)
    clock.call_later(0, lambda: cc.run_instances([spec("i-1"), spec("i-2", "m1.large")], 2))
    clock.call_later(30, lambda: cc.terminate_instance("i-1"))
    clock.run(until=60)
    assert trace == [
        (0.0, "i-1", "staging", "node-a"),
        (0.0, "i-2", "staging", "node-b"),
        (12.5, "i-1", "running", "node-a"),
        (12.5, "i-2", "running", "node-b"),
        (30.0, "i-1", "shutting-down", "node-a"),
        (32.0, "i-1", "terminated", "node-a"),
    ]


def test_min_count_is_all_or_nothing() -> None:
    clock = SimpyClock()
    cc, trace = make_cluster(clock, nodes=1)
    assert cc.run_instances([spec(f"i-{n}", "m1.large") for n in range(3)], 2) == []
    assert cc.run_instances([spec(f"i-{n}", "m1.large") for n in range(3)], 1) == ["node-a"]
    clock.run(until=20)
    assert trace == [(0.0, "i-0", "staging", "node-a"), (10.0, "i-0", "running", "node-a")]


def test_powersave_powers_down_idle_nodes_and_wakes_them() -> None:
    clock = SimpyClock()
    cc, trace = make_cluster(clock, nodes=2, policy="POWERSAVE", power_idle_seconds=300,
                             power_wake_seconds=60)
    clock.call_later(0, lambda: cc.run_instances([spec("i-1", "m1.large")], 1))
    clock.call_later(400, lambda: cc.run_instances([spec("i-2", "m1.large")], 1))
    clock.run(until=500)
    assert [n.power for n in cc.describe_nodes()] == ["on", "on"]
    assert trace == [
        (0.0, "i-1", "staging", "node-a"),
        (10.0, "i-1", "running", "node-a"),
        (400.0, "i-2", "staging", "node-b"),   # node-b slept at 300 s and is woken
        (460.0, "i-2", "staging", "node-b"),   # the NC starts it once awake
        (470.0, "i-2", "running", "node-b"),
    ]
