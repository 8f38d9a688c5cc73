"""The controller's pure decision (the part the simulator can run): zones, victims, processes."""

from __future__ import annotations

from server.autoscaling.model import Member
from server.autoscaling.plan import GroupView, Launch, Terminate, plan


def _m(iid: str, zone: str, launched: float = 0.0, lc: str = "lc", **kw: object) -> Member:
    return Member(iid, zone, "InService", launched=launched, launch_config=lc, **kw)  # type: ignore[arg-type]


def test_launches_fill_the_emptiest_zones() -> None:
    """From 1 (in a) to 4 over a, b: b, then alternating."""
    view = GroupView(4, ["a", "b"], [_m("i-1", "a")], now=0.0)
    zones = [a.zone for a in plan(view) if isinstance(a, Launch)]
    assert sorted(zones) == ["a", "b", "b"]


def test_failing_zone_is_avoided_while_another_has_room() -> None:
    """A zone that just failed is used last."""
    view = GroupView(2, ["a", "b"], [], now=0.0, failing_zones=frozenset({"a"}))
    assert [a.zone for a in plan(view)] == ["b", "b"]


def test_scale_in_picks_the_fullest_zone_then_policies() -> None:
    """OldestInstance from the zone with most members; protected members stay."""
    members = [_m("i-1", "a", 10), _m("i-2", "a", 5, protected=True), _m("i-3", "a", 20),
               _m("i-4", "b", 1)]
    view = GroupView(3, ["a", "b"], members, now=100.0, termination_policies=("OldestInstance",))
    assert plan(view) == [Terminate("i-1", plan(view)[0].cause)]
    view.termination_policies = ("NewestInstance",)
    assert [a.instance_id for a in plan(view) if isinstance(a, Terminate)] == ["i-3"]


def test_default_policy_prefers_oldest_launch_configuration() -> None:
    """Default: the member of the oldest launch configuration goes first."""
    members = [_m("i-1", "a", lc="new"), _m("i-2", "a", lc="old")]
    view = GroupView(1, ["a"], members, now=0.0, config_created={"new": 50.0, "old": 10.0})
    assert [a.instance_id for a in plan(view) if isinstance(a, Terminate)] == ["i-2"]


def test_closest_to_next_instance_hour() -> None:
    """The member nearest the end of its billed hour."""
    members = [_m("i-1", "a", launched=0.0), _m("i-2", "a", launched=1000.0)]
    view = GroupView(1, ["a"], members, now=3500.0,
                     termination_policies=("ClosestToNextInstanceHour",))
    assert [a.instance_id for a in plan(view) if isinstance(a, Terminate)] == ["i-1"]


def test_unhealthy_replaced_and_suspended_processes_respected() -> None:
    """Unhealthy members are terminated and replaced unless the processes are suspended."""
    members = [_m("i-1", "a"), Member("i-2", "b", "InService", health="Unhealthy")]
    acts = plan(GroupView(2, ["a", "b"], members, now=0.0))
    assert Terminate("i-2", acts[0].cause) in acts
    assert [a.zone for a in acts if isinstance(a, Launch)] == ["b"]
    quiet = plan(GroupView(2, ["a", "b"], members, now=0.0,
                           suspended=frozenset({"ReplaceUnhealthy", "Launch"})))
    assert quiet == []


def test_rebalance_launches_in_the_short_zone() -> None:
    """At desired capacity but 3/1 across zones: one more in the short zone."""
    members = [_m("i-1", "a"), _m("i-2", "a"), _m("i-3", "a"), _m("i-4", "b")]
    acts = plan(GroupView(4, ["a", "b"], members, now=0.0))
    assert [(type(a).__name__, getattr(a, "zone", "")) for a in acts] == [("Launch", "b")]
    assert plan(GroupView(4, ["a", "b"], members, now=0.0,
                          suspended=frozenset({"AZRebalance"}))) == []


def test_target_tracking_alarms_and_capacity() -> None:
    """The alarms a target-tracking policy owns, and the proportional capacity it asks for."""
    from server.autoscaling.model import Group, Policy
    from server.autoscaling.policies import alarm_specs, target_tracking_capacity

    pol = Policy("1/web/cpu", "1", "cpu", "web", "arn:pol", "TargetTrackingScaling",
                 target_tracking={"TargetValue": 50.0, "PredefinedMetricSpecification":
                                  {"PredefinedMetricType": "ASGAverageCPUUtilization"}})
    high, low = alarm_specs(pol)
    assert (high["MetricName"], high["ComparisonOperator"], high["Threshold"]) == \
        ("CPUUtilization", "GreaterThanThreshold", 50.0)
    assert high["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": "web"}]
    assert low["Threshold"] == 45.0 and low["AlarmActions"] == ["arn:pol"]
    group = Group("1/web", "1", "web", "arn:g", 1, 10, 2, ["a"], 0.0)
    assert target_tracking_capacity(group, pol, 90.0) == 4  # ceil(2 * 90 / 50)
    assert target_tracking_capacity(group, pol, 20.0) == 1  # ceil(0.8)
    assert target_tracking_capacity(group, pol, 500.0) == 10  # max size
    # One of the two still warming up: the metric describes one instance.
    assert target_tracking_capacity(group, pol, 90.0, current=1) == 2  # not launched twice
    assert target_tracking_capacity(group, pol, 20.0, current=1) == 2  # no scale-in yet
    assert target_tracking_capacity(group, pol, 20.0, current=2) == 1


def test_target_tracking_scales_in_only_as_far_as_the_target_holds() -> None:
    """Scale-in is conservative (as AWS's): the group keeps the capacity at which the
    metric stays at or under the target.  Two instances at 30 % of a 50 % target stay
    two (one would run at 60 % and scale out again: the flap rounding down made)."""
    from server.autoscaling.model import Group, Policy
    from server.autoscaling.policies import target_tracking_capacity

    pol = Policy("1/web/cpu", "1", "cpu", "web", "arn:pol", "TargetTrackingScaling",
                 target_tracking={"TargetValue": 50.0, "PredefinedMetricSpecification":
                                  {"PredefinedMetricType": "ASGAverageCPUUtilization"}})
    two = Group("1/web", "1", "web", "arn:g", 1, 10, 2, ["a"], 0.0)
    assert target_tracking_capacity(two, pol, 30.0) == 2   # 1.2 instances' worth: stays
    assert target_tracking_capacity(two, pol, 25.0) == 1   # exactly one at 50 %
    five = Group("1/web", "1", "web", "arn:g", 1, 10, 5, ["a"], 0.0)
    assert target_tracking_capacity(five, pol, 30.0) == 3  # 3 at exactly 50 %
    assert target_tracking_capacity(five, pol, 31.0) == 4  # 3 would be at 51.7 %
    three = Group("1/web", "1", "web", "arn:g", 1, 10, 3, ["a"], 0.0)
    assert target_tracking_capacity(three, pol, 100.0 / 3) == 2  # 2 at 50.000..., not 3
    # With scale-in disabled, nothing goes.
    keep = Policy("1/web/cpu", "1", "cpu", "web", "arn:pol", "TargetTrackingScaling",
                  target_tracking={"TargetValue": 50.0, "DisableScaleIn": True})
    assert target_tracking_capacity(five, keep, 5.0) == 5


def test_members_of_a_removed_zone_are_moved() -> None:
    """Zones changed from a to b: launch in b first, then the member in a goes."""
    members = [_m("i-1", "a"), _m("i-2", "b")]
    acts = plan(GroupView(2, ["b"], members, now=0.0))
    assert [(type(a).__name__, getattr(a, "zone", "")) for a in acts] == [("Launch", "b")]
    members.append(_m("i-3", "b"))
    acts = plan(GroupView(2, ["b"], members, now=0.0))
    assert [a.instance_id for a in acts if isinstance(a, Terminate)] == ["i-1"]
