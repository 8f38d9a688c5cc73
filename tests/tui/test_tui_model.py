"""Responses to rows, bars, zones and events: tables of cases, no cloud needed."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text

from tui import model

VERBOSE = {"availabilityZoneInfo": [
    {"zoneName": "zone-1", "zoneState": "127.0.0.1 arn:euca:eucalyptus:zone-1:cluster:zone-1-cc/"},
    {"zoneName": "|- vm types", "zoneState": "free / max   cpu   ram  disk"},
    {"zoneName": "|- m1.small", "zoneState": "0032 / 0032   1    256     5"},
    {"zoneName": "|- hs1.8xlarge", "zoneState": "0000 / 0000  48   119808  24000"},
    {"zoneName": "zone-2", "zoneState": "available"},
    {"zoneName": "|- m1.small", "zoneState": "0007 / 0016   1    256     5"},
]}


def test_parse_verbose_zones() -> None:
    """Zone rows, the header row skipped, VM-type rows attached to the zone above them."""
    zones, vmtypes = model.parse_zones(VERBOSE)
    assert [z["name"] for z in zones] == ["zone-1", "zone-2"]
    assert [(v["zone"], v["type"], v["free"], v["max"], v["cpu"], v["ram"], v["disk"]) for v in vmtypes] == [
        ("zone-1", "m1.small", 32, 32, "1", "256", "5"),
        ("zone-1", "hs1.8xlarge", 0, 0, "48", "119808", "24000"),
        ("zone-2", "m1.small", 7, 16, "1", "256", "5"),
    ]
    rows = model.vmtype_rows(vmtypes)
    assert [(k, [str(c) for c in cells[2:4]]) for k, cells in rows][0] == ("zone-1/m1.small", ["0032", "0032"])


def test_aws_zones_without_verbose_rows() -> None:
    """AWS answers plain zones: no VM types, zone rows without bars."""
    zones, vmtypes = model.parse_zones({"availabilityZoneInfo": [
        {"zoneName": "us-east-1a", "zoneState": "available", "regionName": "us-east-1"}]})
    assert vmtypes == []
    (key, cells), = model.zone_rows(zones, None)
    assert key == "us-east-1a" and str(cells[1]) == "available" and cells[3] == ""


@pytest.mark.parametrize("used, total, width, text", [
    (0, 8, 10, "░░░░░░░░░░ 0/8"),
    (4, 8, 10, "█████░░░░░ 4/8"),
    (8, 8, 4, "████ 8/8"),
    (3, 0, 4, "░░░░ 3/0"),
])
def test_bar(used: int, total: int, width: int, text: str) -> None:
    """Bars fill in proportion and print the figures."""
    assert model.bar(used, total, width).plain == text


def test_zone_totals_from_nodes() -> None:
    """Per-zone bars sum the zone's nodes; power and up counts too."""
    nodes = [
        {"name": "n1", "zoneName": "zone-1", "state": "UP", "powerState": "on", "coresUsed": "2",
         "coresTotal": "8", "memoryUsed": "512", "memoryTotal": "1024", "diskUsed": "5", "diskTotal": "10"},
        {"name": "n2", "zoneName": "zone-1", "state": "DOWN", "powerState": "off", "coresUsed": "0",
         "coresTotal": "8", "memoryUsed": "0", "memoryTotal": "1024", "diskUsed": "0", "diskTotal": "10"},
    ]
    (_, cells), = model.zone_rows([{"name": "zone-1", "state": "x", "region": "r"}], nodes)
    assert [c.plain if isinstance(c, Text) else c for c in cells[2:]] == [
        "1/2 up", "█░░░░░░░░░ 2/16", "██░░░░░░░░ 512/2048", "██░░░░░░░░ 5/20", "1 on / 1 off"]
    (_, node_cells), _ = model.node_rows(nodes)
    assert str(node_cells[8]) == "0"  # "instances" is '' when a node runs none


def instance(**kw: Any) -> dict[str, Any]:
    """A DescribeInstances item."""
    base: dict[str, Any] = {"instanceId": "i-1", "instanceState": {"name": "running"},
                            "instanceType": "m1.small", "placement": {"availabilityZone": "z",
                                                                      "hostId": "node-1"},
                            "launchTime": "2026-11-24T07:30:48.177Z", "tagSet": [{"key": "Name", "value": "web"}]}
    base.update(kw)
    return base


def test_instance_row_and_reservation_groups() -> None:
    """The row's columns; groups come from the reservation when the instance has none."""
    (inst,) = model.instances_of({"reservationSet": [
        {"groupSet": [{"groupName": "default"}], "instancesSet": [instance()]}]})
    key, cells = model.instance_row(inst)
    assert key == "i-1"
    assert [c.plain if isinstance(c, Text) else c for c in cells] == [
        "i-1", "web", "running", "m1.small", "z", "node-1", "", "", "2026-11-24 07:30:48", "", "default"]
    assert cells[2].style == "bold green"  # type: ignore[union-attr]


def test_detail_and_console() -> None:
    """The detail pane lists attributes, tags, devices and the decoded console."""
    console = model.decode_console({"output": "aGVsbG8K"})
    assert console == "hello\n"
    text = model.instance_detail(instance(), console).plain
    for part in ("placement.hostId: node-1", "Name = web", "Block devices", "Console output\nhello"):
        assert part in text
    assert model.decode_console({"output": ""}) == "(no console output yet)"


@pytest.mark.parametrize("perm, text", [
    ({"ipProtocol": "tcp", "fromPort": "22", "toPort": "22", "ipRanges": [{"cidrIp": "0.0.0.0/0"}]},
     "tcp 22 from 0.0.0.0/0"),
    ({"ipProtocol": "udp", "fromPort": "0", "toPort": "65535", "groups": [{"groupName": "default"}],
      "ipRanges": ""}, "udp 0-65535 from default"),
    ({"ipProtocol": "icmp", "fromPort": "-1", "toPort": "-1", "groups": [{"groupId": "sg-1"}]},
     "icmp from sg-1"),
    ({"ipProtocol": "-1", "ipRanges": [{"cidrIp": "10.0.0.0/8"}]}, "all from 10.0.0.0/8"),
])
def test_rule_text(perm: dict[str, Any], text: str) -> None:
    """Security group rules read like euca-describe-groups."""
    assert model.rule_text(perm) == text


def test_state_changes_trace() -> None:
    """The event log's whole trace over successive refreshes."""
    snapshots: list[dict[str, str]] = [
        {},
        {"i-1": "pending", "i-2": "pending"},
        {"i-1": "running", "i-2": "pending"},
        {"i-1": "running", "i-2": "running"},
        {"i-2": "shutting-down"},
    ]
    trace = []
    before: dict[str, str] | None = None
    for after in snapshots:
        trace += model.state_changes(before, after)
        before = after
    assert trace == [
        ("i-1", "appeared (pending)"), ("i-2", "appeared (pending)"),
        ("i-1", "pending -> running"),
        ("i-2", "pending -> running"),
        ("i-2", "running -> shutting-down"), ("i-1", "gone"),
    ]
    assert model.state_changes(None, {"i-1": "running"}) == []  # the first look is no event


def test_empty_responses() -> None:
    """Empty lists arrive as '' from the XML parser; every table copes."""
    assert model.instances_of({"reservationSet": ""}) == []
    assert model.image_rows({"imagesSet": ""}) == []
    assert model.volume_rows({}) == [] and model.snapshot_rows({"snapshotSet": []}) == []
    assert model.bucket_rows([]) == []


def test_cpu_request_and_points() -> None:
    """The hour before the given time, per minute; points sorted by time, garbage skipped."""
    from datetime import UTC, datetime

    params = model.cpu_request("i-1", datetime(2026, 1, 2, 0, 30, tzinfo=UTC))
    assert (params["StartTime"], params["EndTime"]) == ("2026-01-01T23:30:00Z", "2026-01-02T00:30:00Z")
    assert params["Dimensions"] == {"member": [{"Name": "InstanceId", "Value": "i-1"}]}
    assert params["Statistics"] == {"member": ["Average"]} and params["Period"] == 60
    answer = {"Datapoints": [{"Timestamp": "2026-01-02T00:02:00Z", "Average": "7.5"},
                             {"Timestamp": "2026-01-02T00:01:00Z", "Average": "2"},
                             {"Timestamp": "2026-01-02T00:03:00Z", "Average": ""}]}
    assert model.cpu_points(answer) == [2.0, 7.5]
    assert model.cpu_points({"Datapoints": ""}) == []


def test_alarm_group_and_activity_rows() -> None:
    """Alarm metric with dimensions and threshold as a comparison; in service counts InService
    members only; activities are the named group's."""
    (key, cells), = model.alarm_rows([{
        "AlarmName": "hot", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}], "Statistic": "Maximum",
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": "90.0",
        "StateValue": "ALARM", "StateUpdatedTimestamp": "2026-01-02T03:04:05.000Z", "StateReason": "r"}])
    assert key == "hot"
    assert [str(c) for c in cells] == ["hot", "AWS/EC2 CPUUtilization [InstanceId=i-1]", "ALARM",
                                       "Maximum >= 90.0", "2026-01-02 03:04:05", "r"]
    assert isinstance(cells[2], Text) and str(cells[2].style) == "bold red"
    (key, cells), = model.scaling_group_rows([{
        "AutoScalingGroupName": "g", "DesiredCapacity": "2", "MinSize": "1", "MaxSize": "3",
        "AvailabilityZones": ["zone-1"], "LaunchConfigurationName": "lc",
        "Instances": [{"LifecycleState": "InService"}, {"LifecycleState": "Pending"}]}])
    assert [str(c) for c in cells] == ["g", "2", "1", "3", "1", "zone-1", "lc"]
    activities = [{"ActivityId": "a", "AutoScalingGroupName": "g", "StatusCode": "Failed"},
                  {"ActivityId": "b", "AutoScalingGroupName": "other", "StatusCode": "Successful"}]
    assert [k for k, _ in model.activity_rows(activities, "g")] == ["a"]
    assert model.activity_rows(activities, None) == []


def test_load_balancer_listener_and_health_rows() -> None:
    """A balancer row counts InService instances (red when none, '?' when unknown); listeners
    fall back to the front protocol; N/A reasons read as empty."""
    lb = {"LoadBalancerName": "web", "DNSName": "web.lb", "Scheme": "internal",
          "AvailabilityZones": ["zone-1", "zone-2"], "CreatedTime": "2026-01-02T03:04:05.000Z",
          "ListenerDescriptions": [
              {"Listener": {"Protocol": "TCP", "LoadBalancerPort": "25", "InstancePort": "2525"},
               "PolicyNames": ["p1", "p2"]}]}
    down = [{"InstanceId": "i-1", "State": "OutOfService", "ReasonCode": "Instance",
             "Description": "failed"}]
    (key, cells), = model.load_balancer_rows([lb], {"web": down})
    assert key == "web"
    assert [str(c) for c in cells] == ["web", "classic", "", "web.lb", "internal", "zone-1,zone-2",
                                       "TCP:25->TCP:2525", "0/1", "2026-01-02 03:04:05"]
    assert isinstance(cells[7], Text) and str(cells[7].style) == "bold red"
    (_, cells), = model.load_balancer_rows([lb], {"web": "gone (LoadBalancerNotFound)"})
    assert str(cells[7]) == "?"
    assert model.listener_rows(lb) == [("25", ("TCP", "25", "TCP", "2525", "p1,p2", ""))]
    assert model.listener_rows(None) == []
    (key, cells), = model.lb_instance_rows(down)
    assert key == "i-1" and [str(c) for c in cells] == ["i-1", "OutOfService", "Instance", "failed"]
    (_, cells), = model.lb_instance_rows([{"InstanceId": "i-2", "State": "InService",
                                           "ReasonCode": "N/A", "Description": "N/A"}])
    assert [str(c) for c in cells] == ["i-2", "InService", "", ""]
    assert model.lb_instance_rows("error") == []
