"""The CloudWatch and Auto Scaling faces over the fake cloud: alarms, the CPU sparkline, groups
and their activities, and a cloud without those services."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from rich.text import Text
from textual.widgets import Sparkline
from tui_fakecloud import CPU_POINTS, FakeCloud, fixed_clock
from tui_helpers import cell, column, status, table, wait_for

from euca2ools.exceptions import ConfigError, ServiceConnectionError, ServiceError
from tui.app import EucaApp

SIZE = (160, 40)


class EC2OnlyCloud(FakeCloud):
    """A cloud with no CloudWatch and no Auto Scaling (an older Eucalyptus, say)."""

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """Every monitoring or autoscaling action is unknown."""
        with self.lock:
            self.calls.append((action, params or {}))
        raise ServiceError("InvalidAction", f"The action {action} is not valid for this web service.", 400)


class ElsewhereCloud(FakeCloud):
    """CloudWatch has no endpoint in euca2ools.ini; Auto Scaling's does not answer."""

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """No monitoring endpoint; autoscaling refuses connections."""
        if service == "monitoring":
            raise ConfigError("no cloud watch URL configured for region fake")
        raise ServiceConnectionError("connection error (Connection refused)")


def state_style(app: EucaApp, alarm: str) -> str:
    """The style of an alarm's state cell."""
    cells = table(app, "alarms").cells_of(alarm)
    assert cells is not None
    state = cells[2]
    assert isinstance(state, Text)
    return str(state.style)


async def test_alarms_show_state_in_colour_and_follow_changes() -> None:
    """Each alarm shows its metric, threshold and state (OK green, ALARM red, no data yellow);
    a state change shows at the next refresh."""
    cloud = FakeCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await wait_for(pilot, lambda: table(app, "alarms").row_count == 3, what="alarms")
        assert column(app, "alarms", 0) == ["web-cpu-high", "web-cpu-low", "db-status"]
        assert cell(app, "alarms", "db-status", 1) == "AWS/EC2 StatusCheckFailed [InstanceId=i-00000000000000003]"
        assert cell(app, "alarms", "web-cpu-high", 3) == "Average > 70.0"
        assert cell(app, "alarms", "web-cpu-high", 4) == "2026-01-02 12:20:00"
        assert [state_style(app, a) for a in ("web-cpu-high", "web-cpu-low", "db-status")] == \
            ["bold red", "bold green", "bold yellow"]
        cloud.alarms = [{**cloud.alarms[0], "StateValue": "OK",
                         "StateUpdatedTimestamp": "2026-01-02T12:40:00.000Z"}, *cloud.alarms[1:]]
        await wait_for(pilot, lambda: cell(app, "alarms", "web-cpu-high", 2) == "OK", what="state change")
        assert state_style(app, "web-cpu-high") == "bold green"
        assert cell(app, "alarms", "web-cpu-high", 4) == "2026-01-02 12:40:00"


async def test_scaling_groups_and_activities_of_the_selected_group() -> None:
    """Groups show desired / min / max / in service; the activities follow the cursor."""
    cloud = FakeCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await wait_for(pilot, lambda: table(app, "activities").row_count == 3, what="activities of web")
        assert [cell(app, "scaling", "web", i) for i in range(1, 5)] == ["3", "1", "4", "2"]
        assert [cell(app, "scaling", "batch", i) for i in range(1, 5)] == ["0", "0", "10", "0"]
        assert column(app, "activities", 1) == ["InProgress", "Successful", "Successful"]
        assert "web-cpu-high" in column(app, "activities", 3)[0]
        await pilot.press("down")
        await wait_for(pilot, lambda: table(app, "activities").row_count == 1, what="activities of batch")
        assert column(app, "activities", 2) == ["Terminating EC2 instance: i-00000000000000009"]
        # A refresh keeps the selected group's activities, including new ones.
        cloud.activities = [{**cloud.activities[1], "ActivityId": "new", "StatusCode": "Failed",
                             "StartTime": "2026-01-02T12:30:00.000Z"}, *cloud.activities]
        await wait_for(pilot, lambda: table(app, "activities").row_count == 2, what="new activity")
        assert column(app, "activities", 1) == ["Failed", "Successful"]


async def test_cpu_sparkline_of_the_selected_instance() -> None:
    """The detail pane asks CloudWatch for the instance's average CPU over the last hour and
    draws it; an instance without data says so."""
    cloud = FakeCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "instances").row_count == 6, what="first refresh")
        await pilot.press("d")
        spark = app.query_one("#cpu-sparkline", Sparkline)
        await wait_for(pilot, lambda: list(spark.data or []) == CPU_POINTS, what="sparkline")
        assert "now 14.0%, peak 83.0%" in str(app.query_one("#metrics-caption").render())
        (params, *_) = [p for a, p in cloud.calls if a == "GetMetricStatistics"]
        assert params["Namespace"] == "AWS/EC2" and params["MetricName"] == "CPUUtilization"
        assert params["Dimensions"] == {"member": [{"Name": "InstanceId", "Value": "i-00000000000000001"}]}
        assert params["Period"] in (60, 300)
        # The hour before the app's clock (12:34:56 here, read as local time), in UTC.
        end = fixed_clock().astimezone(UTC)
        assert params["EndTime"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert params["StartTime"] == (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        await pilot.press("down")
        await wait_for(pilot, lambda: "no data yet" in str(app.query_one("#metrics-caption").render()),
                       what="empty metrics")
        assert not spark.data


async def test_a_cloud_without_cloudwatch_or_auto_scaling() -> None:
    """Both views say the service is not there, the pane says so too, and nothing pops up."""
    cloud = EC2OnlyCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "instances").row_count == 6, what="first refresh")
        await pilot.press("d")
        await wait_for(pilot, lambda: "not available (InvalidAction)"
                       in str(app.query_one("#metrics-caption").render()), what="metrics note")
        await pilot.press("w")
        await wait_for(pilot, lambda: "Not available" in str(app.query_one("#alarms-view-note").render()),
                       what="alarms note")
        await pilot.press("g")
        await wait_for(pilot, lambda: "Not available" in str(app.query_one("#scaling-view-note").render()),
                       what="scaling note")
        assert table(app, "scaling").row_count == 0 and table(app, "activities").row_count == 0
        assert [n for n in app._notifications if n.severity == "error"] == []


async def test_services_without_endpoint_or_answer_leave_the_cloud_connected() -> None:
    """A missing CloudWatch endpoint reads "not available"; an Auto Scaling endpoint that does
    not answer is that view's error, not the whole cloud's."""
    cloud = ElsewhereCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await wait_for(pilot, lambda: "no cloud watch URL" in str(app.query_one("#alarms-view-note").render()),
                       what="alarms note")
        await pilot.press("g")
        await wait_for(pilot, lambda: "Connection refused" in str(app.query_one("#scaling-view-note").render()),
                       what="scaling note")
        await pilot.pause(0.3)
        assert "● connected" in status(app)
        assert table(app, "instances").row_count == 6
