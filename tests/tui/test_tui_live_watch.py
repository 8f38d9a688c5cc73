"""The alarms, Auto Scaling and CPU faces of the dashboard against a real ``eucalyptus-cloud``."""

from __future__ import annotations

from typing import Any

from tui_helpers import cell, status, table, wait_for

from tui.app import EucaApp
from tui.cloud import Cloud

SIZE = (160, 45)


async def test_alarm_group_and_cpu_of_a_real_cloud(cloud: Any) -> None:
    """An alarm set to ALARM shows red; a group shows its sizes and its launch activity; the CPU
    pane gets CloudWatch's answer for a real instance (points or "no data yet", not an error)."""
    cw = cloud.client("cloudwatch", path="/")
    cw.put_metric_alarm(AlarmName="tui-cpu-high", Namespace="AWS/EC2", MetricName="CPUUtilization",
                        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=80.0,
                        ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="tui-cpu-high", StateValue="ALARM", StateReason="set by the test")
    ec2 = cloud.client("ec2")
    image = next(i["ImageId"] for i in ec2.describe_images()["Images"] if i["ImageId"].startswith("emi-"))
    asg = cloud.client("autoscaling", path="/services/AutoScaling")
    asg.create_launch_configuration(LaunchConfigurationName="tui-lc", ImageId=image,
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="tui-asg", LaunchConfigurationName="tui-lc",
                                  MinSize=0, MaxSize=2, DesiredCapacity=1,
                                  AvailabilityZones=["zone-1"])

    app = EucaApp(Cloud.from_config(config_path=str(cloud.ini)), interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("w")
        await wait_for(pilot, lambda: cell(app, "alarms", "tui-cpu-high", 2) == "ALARM", what="alarm")
        assert cell(app, "alarms", "tui-cpu-high", 3) == "Average > 80.0"

        await pilot.press("g")
        await wait_for(pilot, lambda: cell(app, "scaling", "tui-asg", 1) == "1", what="group")
        assert [cell(app, "scaling", "tui-asg", i) for i in (2, 3)] == ["0", "2"]
        await wait_for(pilot, lambda: table(app, "activities").row_count >= 1, timeout=30,
                       what="launch activity")
        await wait_for(pilot, lambda: cell(app, "scaling", "tui-asg", 4) == "1", timeout=60,
                       what="member in service")

        await pilot.press("1", "d")
        caption = app.query_one("#metrics-caption")
        await wait_for(pilot, lambda: any(s in str(caption.render()) for s in ("no data yet", "now ")),
                       timeout=30, what="CloudWatch answer")
        assert app.is_running
        await pilot.press("q")
