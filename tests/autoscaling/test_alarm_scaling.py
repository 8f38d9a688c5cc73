"""CloudWatch alarms scale Auto Scaling groups, with boto3 against the real cloud on the
virtual hypervisor: a target-tracking policy on ASGAverageCPUUtilization follows its
instances' modelled CPU (tag ``euca:cpu-load``) out and back in, and a simple-scaling
policy follows an alarm on a custom metric.

Target tracking's scale-in alarm waits 15 minutes, longer than SigV4 lets a request's
time lag the cloud's fast clock; the clients here sign at the cloud's time instead.
Each test prints the cloud-clock seconds from the alarm's transition to the new
instances running (``pytest -s`` shows them).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import botocore.auth
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.config import Config

from tests.autoscaling.as_helpers import group, image_id, in_service, wait_for

SPEED = 30.0
CONFIG = f"""
[cloud]
clock_speed = {SPEED}

[[zones]]
name = "zone-a"
nodes = 2
node_cores = 8
boot_seconds = 1.0
"""


class _CloudTimeV4(SigV4Auth):
    """SigV4 signed at the cloud's time (``clock``) instead of the wall clock's."""

    clock: Callable[[], float]

    def add_auth(self, request: Any) -> None:
        """Sign as botocore does, with the cloud's time as the request's."""
        when = dt.datetime.fromtimestamp(type(self).clock(), dt.UTC)
        request.context["timestamp"] = when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        signature = self.signature(self.string_to_sign(request, canonical), request)
        self._inject_signature_to_request(request, signature)


class Clients:
    """boto3 clients of one cloud that sign at its time (estimated from when it started)."""

    def __init__(self, make_cloud: Any):
        before = time.time()
        self.cloud = make_cloud(CONFIG)
        after = time.time()
        started = (before + after) / 2  # the cloud's clock starts while the server starts
        name = f"v4-cloud-time-{id(self)}"
        botocore.auth.AUTH_TYPE_MAPS[name] = type(
            "CloudTimeV4", (_CloudTimeV4,),
            {"clock": staticmethod(lambda: started + (time.time() - started) * SPEED)})
        self._config = Config(signature_version=name, retries={"max_attempts": 1})

    def client(self, service: str, path: str) -> Any:
        """A client of ``service`` at ``path``, signing at the cloud's time."""
        import boto3

        creds = self.cloud.credentials()
        return boto3.client(service, endpoint_url=self.cloud.url + path, region_name="us-east-1",
                            aws_access_key_id=creds["key"],
                            aws_secret_access_key=creds["secret"], config=self._config)


def _setup(make_cloud: Any, name: str, max_size: int) -> tuple[Any, Any, Any]:
    c = Clients(make_cloud)
    asg = c.client("autoscaling", "/services/AutoScaling")
    ec2 = c.client("ec2", "/services/compute")
    cw = c.client("cloudwatch", "/")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small",
                                    InstanceMonitoring={"Enabled": True})
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName="lc",
                                  MinSize=1, MaxSize=max_size, DesiredCapacity=1,
                                  AvailabilityZones=["zone-a"])
    in_service(asg, ec2, name, 1)
    return asg, ec2, cw


def _alarm(cw: Any, name: str) -> dict[str, Any]:
    return dict(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0])


def _activity(asg: Any, name: str, verb: str, alarm: str) -> dict[str, Any] | None:
    """The finished activity of the group that ``verb``s an instance because of ``alarm``."""
    for act in asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]:
        if act["Description"].startswith(verb) and alarm in act["Cause"] and \
                act["StatusCode"] == "Successful":
            return dict(act)
    return None


def _seconds(alarm: dict[str, Any], act: dict[str, Any]) -> float:
    """Cloud-clock seconds from the alarm's transition to the activity's end."""
    return float((act["EndTime"] - alarm["StateTransitionedTimestamp"]).total_seconds())


def test_target_tracking_follows_instance_cpu(make_cloud: Any) -> None:
    """A policy tracking 50 % average CPU owns two alarms named as AWS names them; 90 % on
    the one instance scales out to two (the activity's cause names AlarmHigh); the group
    and its instances publish their metrics; 5 % scales back in after AlarmLow's 15
    minutes; deleting the policy deletes its alarms."""
    asg, ec2, cw = _setup(make_cloud, "web", 4)
    asg.enable_metrics_collection(AutoScalingGroupName="web", Granularity="1Minute")
    resp = asg.put_scaling_policy(
        AutoScalingGroupName="web", PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        EstimatedInstanceWarmup=60,
        TargetTrackingConfiguration={"TargetValue": 50.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ASGAverageCPUUtilization"}})
    names = [a["AlarmName"] for a in resp["Alarms"]]
    assert len(names) == 2
    high = next(n for n in names if n.startswith("TargetTracking-web-AlarmHigh-"))
    low = next(n for n in names if n.startswith("TargetTracking-web-AlarmLow-"))
    doc = _alarm(cw, high)
    assert doc["AlarmActions"] == [resp["PolicyARN"]]
    assert (doc["Namespace"], doc["MetricName"], doc["Threshold"], doc["EvaluationPeriods"]) == \
        ("AWS/EC2", "CPUUtilization", 50.0, 3)
    assert doc["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": "web"}]
    assert _alarm(cw, low)["Threshold"] == 45.0
    described = asg.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"][0]
    assert sorted(a["AlarmName"] for a in described["Alarms"]) == sorted(names)

    first = in_service(asg, ec2, "web", 1)[0]["InstanceId"]
    ec2.create_tags(Resources=[first], Tags=[{"Key": "euca:cpu-load", "Value": "90"}])
    wait_for(lambda: _alarm(cw, high)["StateValue"] == "ALARM", 60, "AlarmHigh in ALARM")
    out = wait_for(lambda: _activity(asg, "web", "Launching", high), 60,
                   "a launch caused by AlarmHigh")
    assert group(asg, "web")["DesiredCapacity"] == 2
    in_service(asg, ec2, "web", 2)
    print(f"\ntarget tracking: {_seconds(_alarm(cw, high), out):.0f} s (cloud clock) from "
          f"{high} in ALARM to the new instance running")

    # The group's metrics and its instances' CPU under the group's name.
    dims = [{"Name": "AutoScalingGroupName", "Value": "web"}]
    wait_for(lambda: {m["MetricName"] for m in cw.list_metrics(
        Namespace="AWS/AutoScaling", Dimensions=dims)["Metrics"]} >= {
        "GroupDesiredCapacity", "GroupInServiceInstances"}, 30, "group metrics")
    assert cw.list_metrics(Namespace="AWS/EC2", MetricName="CPUUtilization",
                           Dimensions=dims)["Metrics"]

    # One instance at 90 %, one idle: 45.5 % on average, between the two alarms.
    wait_for(lambda: _alarm(cw, high)["StateValue"] == "OK", 60, "AlarmHigh back to OK")
    ec2.create_tags(Resources=[first], Tags=[{"Key": "euca:cpu-load", "Value": "5"}])
    wait_for(lambda: _alarm(cw, low)["StateValue"] == "ALARM", 90, "AlarmLow in ALARM")
    wait_for(lambda: _activity(asg, "web", "Terminating", low), 60,
             "a termination caused by AlarmLow")
    assert group(asg, "web")["DesiredCapacity"] == 1
    in_service(asg, ec2, "web", 1)

    asg.delete_policy(AutoScalingGroupName="web", PolicyName="cpu50")
    assert cw.describe_alarms(AlarmNamePrefix="TargetTracking-web-")["MetricAlarms"] == []


def test_simple_policy_follows_custom_metric_alarm(make_cloud: Any) -> None:
    """PutMetricData above a PutMetricAlarm's threshold: the alarm's action runs the
    simple-scaling policy (its cause names the alarm), and the cooldown holds the group."""
    asg, ec2, cw = _setup(make_cloud, "batch", 4)
    arn = asg.put_scaling_policy(AutoScalingGroupName="batch", PolicyName="more",
                                 AdjustmentType="ChangeInCapacity", ScalingAdjustment=2,
                                 Cooldown=3600)["PolicyARN"]
    cw.put_metric_alarm(AlarmName="queue-deep", Namespace="Batch", MetricName="QueueDepth",
                        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=100.0,
                        ComparisonOperator="GreaterThanThreshold", AlarmActions=[arn])

    def feed() -> bool:
        cw.put_metric_data(Namespace="Batch", MetricData=[
            {"MetricName": "QueueDepth", "Value": 250.0, "Unit": "Count"}])
        return _alarm(cw, "queue-deep")["StateValue"] == "ALARM"

    wait_for(feed, 60, "queue-deep in ALARM")
    act = wait_for(lambda: _activity(asg, "batch", "Launching", "queue-deep"), 60,
                   "a launch caused by queue-deep")
    assert "policy more" in act["Cause"]
    in_service(asg, ec2, "batch", 3)
    alarm = _alarm(cw, "queue-deep")
    acts = [a for a in asg.describe_scaling_activities(AutoScalingGroupName="batch")
            ["Activities"] if a["Description"].startswith("Launching")
            and "queue-deep" in a["Cause"]]
    slowest = max(_seconds(alarm, a) for a in acts if a["EndTime"])
    print(f"\nsimple scaling: {slowest:.0f} s (cloud clock) from queue-deep in ALARM to the "
          f"new instances running")
    history = [h["HistorySummary"] for h in cw.describe_alarm_history(
        AlarmName="queue-deep", HistoryItemType="Action")["AlarmHistoryItems"]]
    assert any(h.startswith(f"Successfully executed action {arn}") for h in history)
    # The alarm stays in ALARM and runs the policy again each minute; the cooldown refuses.
    feed()
    time.sleep(120 / SPEED)
    assert group(asg, "batch")["DesiredCapacity"] == 3


def test_step_policy_scales_by_the_alarm_breach(make_cloud: Any) -> None:
    """A step-scaling policy run by an alarm picks its step by how far the alarm's newest
    datapoint is above the threshold: 250 against 100 takes the "+100 and more" step."""
    asg, ec2, cw = _setup(make_cloud, "steps", 6)
    arn = asg.put_scaling_policy(
        AutoScalingGroupName="steps", PolicyName="by-depth", PolicyType="StepScaling",
        AdjustmentType="ChangeInCapacity", StepAdjustments=[
            {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 100.0,
             "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 100.0, "ScalingAdjustment": 3}])["PolicyARN"]
    cw.put_metric_alarm(AlarmName="depth", Namespace="Batch", MetricName="QueueDepth",
                        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=100.0,
                        ComparisonOperator="GreaterThanThreshold", AlarmActions=[arn])

    def feed() -> bool:
        cw.put_metric_data(Namespace="Batch", MetricData=[
            {"MetricName": "QueueDepth", "Value": 250.0, "Unit": "Count"}])
        return _alarm(cw, "depth")["StateValue"] == "ALARM"

    wait_for(feed, 60, "depth in ALARM")
    wait_for(lambda: _activity(asg, "steps", "Launching", "depth"), 60,
             "a launch caused by depth")
    assert group(asg, "steps")["DesiredCapacity"] == 4
    in_service(asg, ec2, "steps", 4)
    # Still breaching a minute later, while the three new instances warm up (300 s, the
    # group's cooldown): no more launches.
    feed()
    time.sleep(90 / SPEED)
    assert group(asg, "steps")["DesiredCapacity"] == 4
