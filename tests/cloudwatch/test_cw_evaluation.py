"""The clock-free parts: alarm evaluation for each TreatMissingData, composite rules, and the
metric store's roll-ups, retention and reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cloudwatch import evaluation as ev
from server.cloudwatch.store import MetricStore
from server.db.store import make_engine, migrate

X, G, M = 90.0, 10.0, None  # breaching, not breaching, missing (threshold 50, ">")


def _run(values: list[float | None], treat: str, m: int | None = None,
         current: str = ev.OK) -> str:
    periods = [(60.0 * i, x) for i, x in enumerate(values)]
    return ev.evaluate_metric(periods, threshold=50.0, comparison="GreaterThanThreshold",
                              datapoints_to_alarm=m or len(values), treat_missing=treat,
                              current=current).state


@pytest.mark.parametrize("values,expected", [
    # missing / ignore / breaching / notBreaching, 3 of 3
    ([G, G, G], ("OK", "OK", "OK", "OK")),
    ([X, X, X], ("ALARM", "ALARM", "ALARM", "ALARM")),
    ([X, X, M], ("ALARM", "ALARM", "ALARM", "OK")),
    ([M, X, M], ("ALARM", "ALARM", "ALARM", "OK")),
    ([M, M, M], ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
    ([G, M, X], ("OK", "OK", "OK", "OK")),
])
def test_treat_missing_data(values: list[float | None], expected: tuple[str, ...]) -> None:
    """Each TreatMissingData, as CloudWatch's documented table for 3 of 3 periods."""
    for treat, want in zip(ev.TREAT_MISSING, expected, strict=True):
        got = _run(values, treat, current="ALARM")
        assert got == ("ALARM" if want == "retain" else want), (values, treat)


def test_m_of_n_and_operators() -> None:
    """DatapointsToAlarm counts breaching periods; every static ComparisonOperator."""
    assert _run([X, G, X], "missing", m=2) == ev.ALARM
    assert _run([X, G, G], "missing", m=2) == ev.OK
    for op, x, want in [("GreaterThanOrEqualToThreshold", 50.0, ev.ALARM),
                        ("GreaterThanThreshold", 50.0, ev.OK),
                        ("LessThanThreshold", 49.0, ev.ALARM),
                        ("LessThanOrEqualToThreshold", 51.0, ev.OK)]:
        out = ev.evaluate_metric([(0.0, x)], threshold=50.0, comparison=op,
                                 datapoints_to_alarm=1, treat_missing="missing", current=ev.OK)
        assert out.state == want, op
    reason = ev.evaluate_metric([(0.0, 90.0), (60.0, 95.0)], threshold=50.0,
                                comparison="GreaterThanThreshold", datapoints_to_alarm=2,
                                treat_missing="missing", current=ev.OK).reason
    assert reason.startswith("Threshold Crossed: 2 out of the last 2 datapoints [95.0 (")
    assert ev.period_starts(125.0, 60, 2) == [0.0, 60.0]


def test_composite_rules() -> None:
    """ALARM/OK/INSUFFICIENT_DATA terms, AND/OR/NOT, TRUE/FALSE and parentheses."""
    states = {"a": ev.ALARM, "b": ev.OK}
    rule = ev.parse_rule('ALARM("a") AND (OK(b) OR NOT INSUFFICIENT_DATA(c)) AND TRUE')
    assert ev.rule_alarms(rule) == ["a", "b", "c"]
    assert ev.evaluate_rule(rule, lambda n: states.get(n, ev.INSUFFICIENT_DATA))
    assert not ev.evaluate_rule(ev.parse_rule("ALARM(b) OR FALSE"), states.__getitem__)
    for bad in ("ALARM(a) AND", "(ALARM(a)", "BOGUS(a)", "ALARM(a) ALARM(b)"):
        with pytest.raises(ev.RuleError):
            ev.parse_rule(bad)


def test_store_roll_up_retention_and_reload(tmp_path: Path) -> None:
    """1-second data older than 3 hours becomes 1-minute data, and so on up to 455 days;
    what is committed is there after a reload."""
    engine = make_engine(f"sqlite:///{tmp_path}/cw.db")
    migrate(engine)
    store = MetricStore(engine)
    now = 100 * 86400.0
    s = store.get_series("1", "App", "m", (("k", "v"),), now)
    for i in range(120):  # two minutes of 1-second data
        store.add(s, now - 120 + i, "Count", 1, now, [(1.0, 1.0)])
    store.add(s, now - 86400, "Count", 60, now, [(5.0, 1.0)])
    store.commit()
    assert len(s.res[1][0]) == 120
    store.roll_up(now + 3 * 3600)  # the 1-second buckets age out into 1-minute ones
    assert 1 not in s.res or not s.res[1][0]
    minute = [b for units in s.res[60][1].values() for b in units.values()]
    assert sum(b.count for b in minute) == 121
    store.roll_up(now + 16 * 86400)  # 1-minute data past 15 days becomes 5-minute data
    assert not s.res[60][0] and sum(
        b.count for units in s.res[300][1].values() for b in units.values()) == 121
    store.commit()
    reloaded = MetricStore(engine)
    r = reloaded.series[("1", "App", "m", (("k", "v"),))]
    assert sum(b.count for units in r.res[300][1].values() for b in units.values()) == 121
    store.roll_up(now + 456 * 86400)  # past every retention: gone
    store.commit()
    assert store.stats()["buckets"] == 0
    assert MetricStore(engine).stats() == {"series": 0, "buckets": 0}  # the metric too


def test_sensors_relay_the_virtual_load_model() -> None:
    """NCs report their instances' samples through the CC (DescribeSensors): the virtual
    hypervisor's load model follows user data, and a load handed down through the CC."""
    from server.cc.cluster import ClusterController
    from server.clock import ManualClock
    from server.nc.node import NodeController
    from server.nc.types import InstanceSpec, Resources
    from simulator.experiment import DEFAULT_VM_TYPES
    from simulator.hardware import VirtualHypervisor

    clock = ManualClock()
    node = Resources(2, 4096, 40)
    ncs = [NodeController("n1", clock, VirtualHypervisor("n1", clock, node), lambda e: None,
                          capacity=node)]
    cc = ClusterController("zone-1", clock, ncs, policy="GREEDY")
    cc.set_vm_types(DEFAULT_VM_TYPES)
    specs = [InstanceSpec("i-1", "m1.small", DEFAULT_VM_TYPES["m1.small"],
                          user_data=b"#!/bin/sh\n# euca:cpu-load=30\n"),
             InstanceSpec("i-2", "m1.small", DEFAULT_VM_TYPES["m1.small"])]
    assert cc.run_instances(specs, 2)
    assert cc.describe_sensors(60.0) == {}  # still booting
    clock.advance(5.0)
    samples = cc.describe_sensors(60.0)
    assert samples["i-1"]["CPUUtilization"] == (30.0, "Percent")
    assert samples["i-2"]["CPUUtilization"] == (1.0, "Percent")
    cc.set_instance_load("i-1", {"cpu-load": 85.0, "network-load": 1000.0})
    samples = cc.describe_sensors(60.0)
    assert samples["i-1"]["CPUUtilization"] == (85.0, "Percent")
    assert samples["i-1"]["NetworkIn"] == (60000.0, "Bytes")
