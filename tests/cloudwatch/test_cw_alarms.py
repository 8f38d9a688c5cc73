"""Alarms (metric and composite), their history, tags and dashboards through boto3; and an
instance whose modelled CPU drives its alarm, whose EC2 stop action stops it."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(__file__))
from cw_helpers import call_query  # noqa: E402


@pytest.fixture(scope="module")
def cw(cloud: Any) -> Any:
    """A boto3 CloudWatch client (the installed botocore picks AWS JSON 1.0)."""
    return cloud.client("cloudwatch", path="/")


def _code(err: Any) -> str:
    return str(err.value.response["Error"]["Code"])


def _alarm(cw: Any, name: str, **kw: Any) -> None:
    args = {"AlarmName": name, "Namespace": "Svc", "MetricName": "Errors",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold"} | kw
    cw.put_metric_alarm(**args)


def test_put_describe_and_set_state(cw: Any) -> None:
    """A new alarm starts INSUFFICIENT_DATA; SetAlarmState moves it; filters find it."""
    _alarm(cw, "errors-high", AlarmDescription="too many errors",
           Dimensions=[{"Name": "Svc", "Value": "api"}], TreatMissingData="notBreaching",
           Tags=[{"Key": "team", "Value": "core"}])
    _alarm(cw, "other-alarm", Threshold=1.0)
    alarms = cw.describe_alarms(AlarmNames=["errors-high"])["MetricAlarms"]
    assert len(alarms) == 1
    a = alarms[0]
    assert a["AlarmDescription"] == "too many errors" and a["Threshold"] == 5.0
    assert a["AlarmArn"].endswith(":alarm:errors-high")
    # notBreaching with no data: evaluated at creation to OK
    assert a["StateValue"] == "OK"
    cw.set_alarm_state(AlarmName="errors-high", StateValue="ALARM", StateReason="testing")
    assert [x["AlarmName"] for x in cw.describe_alarms(StateValue="ALARM")["MetricAlarms"]] == [
        "errors-high"]
    assert [x["AlarmName"] for x in cw.describe_alarms(AlarmNamePrefix="oth")["MetricAlarms"]] == [
        "other-alarm"]
    found = cw.describe_alarms_for_metric(Namespace="Svc", MetricName="Errors",
                                          Dimensions=[{"Name": "Svc", "Value": "api"}])
    assert [x["AlarmName"] for x in found["MetricAlarms"]] == ["errors-high"]
    with pytest.raises(ClientError) as err:
        cw.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="x")
    assert _code(err) == "ResourceNotFound"
    with pytest.raises(ClientError) as err:
        cw.set_alarm_state(AlarmName="errors-high", StateValue="OK", StateReason="x",
                           StateReasonData="{not json")
    assert _code(err) == "InvalidFormat"
    history = cw.describe_alarm_history(AlarmName="errors-high")["AlarmHistoryItems"]
    kinds = [h["HistoryItemType"] for h in history]
    assert kinds[0] == "StateUpdate" and "ConfigurationUpdate" in kinds
    assert history[0]["HistorySummary"] == "Alarm updated from OK to ALARM"
    # tags
    arn = a["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team",
                                                                   "Value": "core"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env",
                                                                   "Value": "prod"}]
    # actions on/off
    cw.disable_alarm_actions(AlarmNames=["errors-high"])
    assert cw.describe_alarms(AlarmNames=["errors-high"])["MetricAlarms"][0][
        "ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=["errors-high"])
    cw.delete_alarms(AlarmNames=["errors-high", "other-alarm"])
    assert cw.describe_alarms()["MetricAlarms"] == []
    with pytest.raises(ClientError) as err:
        cw.delete_alarms(AlarmNames=["errors-high"])
    assert _code(err) == "ResourceNotFound"


@pytest.mark.parametrize("kw,code", [
    ({"ComparisonOperator": "Bigger"}, "InvalidParameterValue"),
    ({"Statistic": "Sum", "ExtendedStatistic": "p99"}, "InvalidParameterCombination"),
    ({"DatapointsToAlarm": 3}, "ValidationError"),
    ({"Period": 45}, "InvalidParameterValue"),
    ({"TreatMissingData": "sometimes"}, "InvalidParameterValue"),
    ({"AlarmActions": ["arn:aws:automate:localhost:ec2:stop"]}, "ValidationError"),
    ({"AlarmActions": ["arn:aws:automate:elsewhere:ec2:stop"],
      "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678"}]}, "ValidationError"),
])
def test_put_metric_alarm_validation(cw: Any, kw: dict[str, Any], code: str) -> None:
    """Bad alarms are refused with AWS's codes."""
    with pytest.raises(ClientError) as err:
        _alarm(cw, "bad", **kw)
    assert _code(err) == code


def test_alarm_follows_custom_metric(cw: Any) -> None:
    """Datapoints above the threshold put the alarm in ALARM at its next evaluation."""
    _alarm(cw, "follows", Namespace="Follow", Threshold=5.0, EvaluationPeriods=2,
           DatapointsToAlarm=1, TreatMissingData="notBreaching")
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    cw.put_metric_data(Namespace="Follow", MetricData=[
        {"MetricName": "Errors", "Timestamp": now - dt.timedelta(minutes=1), "Value": 9.0}])
    deadline = time.time() + 25
    state = ""
    while time.time() < deadline:
        state = cw.describe_alarms(AlarmNames=["follows"])["MetricAlarms"][0]["StateValue"]
        if state == "ALARM":
            break
        time.sleep(0.5)
    assert state == "ALARM", cw.describe_alarms(AlarmNames=["follows"])["MetricAlarms"]
    alarm = cw.describe_alarms(AlarmNames=["follows"])["MetricAlarms"][0]
    assert "Threshold Crossed: 1 out of the last 2 datapoints" in alarm["StateReason"]
    assert json.loads(alarm["StateReasonData"])["threshold"] == 5.0
    cw.delete_alarms(AlarmNames=["follows"])


def test_metric_math_alarm(cw: Any) -> None:
    """An alarm on a metric-math expression is evaluated at creation on the data it has."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    cw.put_metric_data(Namespace="MathAlarm", MetricData=[
        {"MetricName": "Errors", "Timestamp": now - dt.timedelta(minutes=1), "Value": 9.0},
        {"MetricName": "Requests", "Timestamp": now - dt.timedelta(minutes=1), "Value": 10.0}])

    def stat(qid: str, name: str) -> dict[str, Any]:
        return {"Id": qid, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "MathAlarm", "MetricName": name}, "Period": 60,
            "Stat": "Sum"}}

    cw.put_metric_alarm(AlarmName="error-rate", EvaluationPeriods=2, DatapointsToAlarm=1,
                        Threshold=50.0, ComparisonOperator="GreaterThanThreshold",
                        Metrics=[stat("e", "Errors"), stat("r", "Requests"),
                                 {"Id": "rate", "Expression": "100 * e / r",
                                  "ReturnData": True}])
    alarm = cw.describe_alarms(AlarmNames=["error-rate"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    assert [m["Id"] for m in alarm["Metrics"]] == ["e", "r", "rate"]
    with pytest.raises(ClientError) as err:
        cw.put_metric_alarm(AlarmName="two", EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold",
                            Metrics=[{**stat("e", "Errors"), "ReturnData": True},
                                     {**stat("r", "Requests"), "ReturnData": True}])
    assert _code(err) == "ValidationError"
    cw.delete_alarms(AlarmNames=["error-rate"])


def test_composite_alarm(cw: Any) -> None:
    """A composite alarm's rule over its children's states; AlarmTypes filters."""
    # no data treated as breaching: both children are in ALARM from their creation
    _alarm(cw, "child-a", Namespace="Comp", TreatMissingData="breaching")
    _alarm(cw, "child-b", Namespace="Comp", TreatMissingData="breaching")
    cw.put_composite_alarm(AlarmName="both", AlarmRule='ALARM("child-a") AND ALARM(child-b)')

    def composite() -> str:
        got = cw.describe_alarms(AlarmNames=["both"], AlarmTypes=["CompositeAlarm"])
        return str(got["CompositeAlarms"][0]["StateValue"])

    assert composite() == "ALARM"
    # a child's transition re-evaluates its parents at once
    cw.set_alarm_state(AlarmName="child-b", StateValue="OK", StateReason="t")
    assert composite() == "OK"
    assert cw.describe_alarms(AlarmNames=["both"])["CompositeAlarms"] == []  # MetricAlarm only
    kids = cw.describe_alarms(ChildrenOfAlarmName="both")["MetricAlarms"]
    assert sorted(k["AlarmName"] for k in kids) == ["child-a", "child-b"]
    with pytest.raises(ClientError) as err:
        cw.put_composite_alarm(AlarmName="broken", AlarmRule='ALARM("missing-one")')
    assert _code(err) == "ValidationError"
    with pytest.raises(ClientError) as err:
        cw.delete_alarms(AlarmNames=["child-a"])
    assert _code(err) == "ValidationError"
    cw.delete_alarms(AlarmNames=["both", "child-a", "child-b"])


def test_dashboards(cw: Any, cloud: Any) -> None:
    """Dashboards are validated JSON, listed by prefix, got and deleted (all or none)."""
    body = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
                                    "properties": {"markdown": "hi"}}]})
    assert cw.put_dashboard(DashboardName="ops-main", DashboardBody=body)[
        "DashboardValidationMessages"] == []
    cw.put_dashboard(DashboardName="dev", DashboardBody=json.dumps({"widgets": []}))
    got = cw.get_dashboard(DashboardName="ops-main")
    assert json.loads(got["DashboardBody"]) == json.loads(body)
    entries = cw.list_dashboards(DashboardNamePrefix="ops")["DashboardEntries"]
    assert [e["DashboardName"] for e in entries] == ["ops-main"]
    assert entries[0]["Size"] == len(body)
    for bad in ("not json", "[]", '{"widgets": [{"x": 1}]}', "{}"):
        with pytest.raises(ClientError) as err:
            cw.put_dashboard(DashboardName="bad", DashboardBody=bad)
        assert _code(err) == "InvalidParameterInput", bad
    with pytest.raises(ClientError) as err:
        cw.delete_dashboards(DashboardNames=["dev", "nope"])
    assert _code(err) == "ResourceNotFound"
    cw.delete_dashboards(DashboardNames=["dev", "ops-main"])
    assert cw.list_dashboards()["DashboardEntries"] == []
    resp = call_query(cloud, "GetDashboard", {"DashboardName": "dev"})
    assert resp.status_code == 404 and "<Code>ResourceNotFound</Code>" in resp.text


# -- instances drive alarms ---------------------------------------------------------------------
SPEED = 15.0
CONFIG = f"""[cloud]
clock_speed = {SPEED}

[[zones]]
name = "zone-a"
nodes = 2
"""


def _wait(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def test_instance_load_drives_alarm_and_stop_action(make_cloud: Any) -> None:
    """Raising an instance's modelled CPU (tag ``euca:cpu-load``) takes its alarm OK -> ALARM
    within its evaluation periods and the alarm's EC2 stop action stops it; lowering the
    load of another returns its alarm to OK; history records each transition.

    The clock runs 15 times faster, so every call stays well inside SigV4's 15 minutes.
    """
    c = make_cloud(CONFIG)
    ec2 = c.client("ec2")
    cw = c.client("cloudwatch", path="/")
    # An EBS-backed image, so the stop action applies.
    vid = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
    _wait("volume", lambda: ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]["State"]
          == "available", 20)
    sid = ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
    _wait("snapshot", lambda: ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]["State"]
          == "completed", 20)
    ebs_image = ec2.register_image(
        Name="ebs", RootDeviceName="/dev/sda1", Architecture="x86_64",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": sid}}])["ImageId"]
    store_image = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                       if i["RootDeviceType"] == "instance-store")
    ids = []
    for image in (ebs_image, store_image):
        ids.append(ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                     Monitoring={"Enabled": True})["Instances"][0]["InstanceId"])
    stopped, steady = ids
    region = ec2.describe_regions()["Regions"][0]["RegionName"]
    _wait("running", lambda: all(i["State"]["Name"] == "running" for r in ec2.describe_instances(
        InstanceIds=ids)["Reservations"] for i in r["Instances"]), 20)
    for iid, actions in ((stopped, [f"arn:aws:automate:{region}:ec2:stop"]), (steady, [])):
        cw.put_metric_alarm(
            AlarmName=f"cpu-{iid}", Namespace="AWS/EC2", MetricName="CPUUtilization",
            Dimensions=[{"Name": "InstanceId", "Value": iid}], Statistic="Average", Period=60,
            EvaluationPeriods=2, Threshold=70.0, ComparisonOperator="GreaterThanThreshold",
            AlarmActions=actions)

    def state(iid: str) -> str:
        return str(cw.describe_alarms(AlarmNames=[f"cpu-{iid}"])["MetricAlarms"][0]["StateValue"])

    _wait("alarms OK on idle instances", lambda: state(stopped) == state(steady) == "OK", 25)
    metrics = cw.list_metrics(Namespace="AWS/EC2", MetricName="CPUUtilization")["Metrics"]
    dims = {(d["Name"], d["Value"]) for m in metrics for d in m["Dimensions"]}
    assert ("InstanceId", stopped) in dims and ("InstanceType", "m1.small") in dims
    root = ec2.describe_instances(InstanceIds=[stopped])["Reservations"][0]["Instances"][0][
        "BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    ebs = cw.list_metrics(Namespace="AWS/EBS", Dimensions=[{"Name": "VolumeId", "Value": root}])
    assert {m["MetricName"] for m in ebs["Metrics"]} >= {"VolumeReadBytes", "VolumeIdleTime"}
    ec2.create_tags(Resources=ids, Tags=[{"Key": "euca:cpu-load", "Value": "85"}])
    _wait("ALARM", lambda: state(stopped) == state(steady) == "ALARM", 25)
    _wait("stop action", lambda: ec2.describe_instances(InstanceIds=[stopped])["Reservations"][0][
        "Instances"][0]["State"]["Name"] in ("stopping", "stopped"), 10)
    ec2.create_tags(Resources=[steady], Tags=[{"Key": "euca:cpu-load", "Value": "5"}])
    _wait("back to OK", lambda: state(steady) == "OK", 25)
    history = cw.describe_alarm_history(AlarmName=f"cpu-{stopped}",
                                        ScanBy="TimestampAscending")["AlarmHistoryItems"]
    summaries = [h["HistorySummary"] for h in history]
    assert "Alarm updated from INSUFFICIENT_DATA to OK" in summaries
    assert "Alarm updated from OK to ALARM" in summaries
    assert any(s.startswith(f"Successfully executed action arn:aws:automate:{region}:ec2:stop")
               for s in summaries)
    steady_history = [h["HistorySummary"] for h in cw.describe_alarm_history(
        AlarmName=f"cpu-{steady}", HistoryItemType="StateUpdate",
        ScanBy="TimestampAscending")["AlarmHistoryItems"]]
    assert steady_history == ["Alarm updated from INSUFFICIENT_DATA to OK",
                              "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]


def test_basic_monitoring_publishes_five_minute_statistics(make_cloud: Any) -> None:
    """Without detailed monitoring an instance's metrics come every five minutes, one
    statistic set of its five one-minute samples, with the InstanceType aggregate; the
    clock runs 60 times faster (every call stays inside SigV4's 15 minutes)."""
    c = make_cloud('[cloud]\nclock_speed = 60\n\n[[zones]]\nname = "zone-a"\nnodes = 1\n')
    ec2 = c.client("ec2")
    cw = c.client("cloudwatch", path="/")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, UserData="euca:cpu-load=42",
                            )["Instances"][0]["InstanceId"]
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0][
        "Monitoring"]["State"] == "disabled"

    def five_minute_points() -> list[dict[str, Any]]:
        now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)  # past the cloud's clock
        got = cw.get_metric_statistics(
            Namespace="AWS/EC2", MetricName="CPUUtilization",
            Dimensions=[{"Name": "InstanceId", "Value": iid}], Period=300,
            StartTime=now - dt.timedelta(hours=3), EndTime=now,
            Statistics=["Average", "SampleCount"])
        return [p for p in got["Datapoints"] if p["SampleCount"] == 5.0]

    points = _wait("a full five-minute statistic set", five_minute_points, 14)
    assert points[0]["Average"] == 42.0 and points[0]["Unit"] == "Percent"
    by_type = cw.list_metrics(Namespace="AWS/EC2", MetricName="CPUUtilization",
                              Dimensions=[{"Name": "InstanceType"}])["Metrics"]
    assert by_type and by_type[0]["Dimensions"][0]["Name"] == "InstanceType"
