"""MigrateInstances through the CC, NC and virtual driver (modelled copy time)."""

from __future__ import annotations

import pytest
from simhelpers import make_cluster, spec

from server.cc.migration import MigrationError
from simulator.clock import SimpyClock


def test_migrate_one_instance_round_robin_with_copy_time() -> None:
    clock = SimpyClock()
    cc, trace = make_cluster(clock, nodes=3, boot=5.0)
    cc.run_instances([spec("i-1", "m1.large")], 1)
    clock.run(until=10)
    assert cc.migrate_instances(instance_id="i-1") == [("i-1", "node-b")]
    clock.run(until=100)
    # 2048 MB over 62.5 MB/s (half of 1 Gbit/s) = 32.768 s
    assert trace == [
        (0.0, "i-1", "staging", "node-a"),
        (5.0, "i-1", "running", "node-a"),
        (10.0, "i-1", "migrating", "node-a"),
        (42.768, "i-1", "running", "node-b"),
    ]
    assert cc.node_of("i-1").name == "node-b"  # type: ignore[union-attr]
    assert [n.instances for n in cc.describe_nodes()] == [(), ("i-1",), ()]
    assert cc.nodes[0].nc.available() == cc.nodes[0].total


def test_evacuate_node_honours_include_and_exclude() -> None:
    clock = SimpyClock()
    cc, _ = make_cluster(clock, nodes=3, boot=1.0)
    cc.run_instances([spec("i-1"), spec("i-2")], 2)  # GREEDY: both on node-a
    clock.run(until=5)
    assert cc.migrate_instances(source_node="node-a", exclude=["node-b"]) == [
        ("i-1", "node-c"), ("i-2", "node-c")]
    clock.run(until=60)
    assert sorted(cc.nodes[2].instances) == ["i-1", "i-2"]
    with pytest.raises(MigrationError):
        cc.migrate_instances(instance_id="i-1", include=["node-c"])  # the source itself
    with pytest.raises(MigrationError):
        cc.migrate_instances()


def test_terminate_during_migration_releases_both_nodes() -> None:
    clock = SimpyClock()
    cc, trace = make_cluster(clock, nodes=2, boot=1.0, teardown=1.0)
    cc.run_instances([spec("i-1", "m1.large")], 1)
    clock.run(until=2)
    cc.migrate_to("i-1", "node-b")
    clock.call_later(3, lambda: cc.terminate_instance("i-1"))
    clock.run(until=60)
    assert [s for _, _, s, _ in trace] == ["staging", "running", "migrating", "shutting-down",
                                          "terminated"]
    assert all(v.avail == v.total for v in cc.nodes)
    assert all(not v.instances for v in cc.nodes)
