"""Node failures and the CC's polling model."""

from __future__ import annotations

from simhelpers import make_cluster, spec

from simulator.clock import SimpyClock


def test_node_failure_loses_instances_and_node_leaves_scheduling() -> None:
    clock = SimpyClock()
    cc, trace = make_cluster(clock, nodes=2, boot=1.0)
    cc.run_instances([spec("i-1")], 1)
    clock.run(until=5)
    assert cc.node_failed("node-a") == ["i-1"]
    assert cc.run_instances([spec("i-2")], 1) == ["node-b"]
    cc.node_up("node-a")
    assert cc.run_instances([spec("i-3")], 1) == ["node-a"]
    assert trace[2:4] == [(5.0, "i-1", "failed", "node-a"), (5.0, "i-1", "terminated", "node-a")]


def test_polling_cc_sees_capacity_only_at_its_next_poll() -> None:
    clock = SimpyClock()
    cc, trace = make_cluster(clock, nodes=1, boot=1.0, teardown=1.0, poll_interval=6.0)
    cc.run_instances([spec("i-1", "m1.large")], 1)
    clock.call_later(3, lambda: cc.terminate_instance("i-1"))
    results = []
    clock.call_later(5, lambda: results.append(cc.run_instances([spec("i-2", "m1.large")], 1)))
    clock.call_later(7, lambda: results.append(cc.run_instances([spec("i-3", "m1.large")], 1)))
    clock.run(until=20)
    assert results == [[], ["node-a"]]  # at 5 s the node is free but the CC does not know yet
    assert trace[:4] == [(0.0, "i-1", "staging", "node-a"), (1.0, "i-1", "running", "node-a"),
                         (3.0, "i-1", "shutting-down", "node-a"),
                         (4.0, "i-1", "terminated", "node-a")]
