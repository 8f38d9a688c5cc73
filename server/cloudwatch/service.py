"""The CloudWatch component: its action table, stores and the timers it runs on the cloud's
clock (alarm evaluation, roll-ups, the cloud's own instance metrics)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from server.auth.authz import Action, action, service_actions
from server.cloudwatch import alarms, dashboards, metricdata, metrics
from server.cloudwatch.protocols import CloudWatchService
from server.cloudwatch.store import MetricStore

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

#: How often aged buckets are rolled up (cloud-clock seconds).
ROLL_UP_EVERY = 600.0


def _alarm_arns(ctx: Any) -> list[str]:
    """The alarms a request names (``AlarmNames.member.N`` or ``AlarmName``)."""
    from server.auth.authz import arn

    p = ctx.params.raw()
    names = [p["AlarmName"]] if isinstance(p.get("AlarmName"), str) else []
    names += [n for n in (p.get("AlarmNames") or []) if isinstance(n, str)]
    return [arn(ctx, "cloudwatch", f"alarm:{n}") for n in names] or ["*"]


def _dashboard_arns(ctx: Any) -> list[str]:
    from server.auth.authz import arn

    p = ctx.params.raw()
    names = [p["DashboardName"]] if isinstance(p.get("DashboardName"), str) else []
    names += [n for n in (p.get("DashboardNames") or []) if isinstance(n, str)]
    return [arn(ctx, "cloudwatch", f"dashboard/{n}", region=False) for n in names] or ["*"]


def _resource_arn(ctx: Any) -> list[str]:
    value = ctx.params.raw().get("ResourceARN")
    return [value] if isinstance(value, str) and value else ["*"]


def _namespace_key(ctx: Any) -> dict[str, list[str]]:
    """IAM's ``cloudwatch:namespace`` condition key of PutMetricData."""
    value = ctx.params.raw().get("Namespace")
    return {"cloudwatch:namespace": [value]} if isinstance(value, str) and value else {}


ACTIONS: dict[str, Action] = service_actions("cloudwatch", {
    "PutMetricData": action(metrics.put_metric_data, "cloudwatch:PutMetricData",
                            keys=_namespace_key),
    "GetMetricStatistics": metrics.get_metric_statistics,
    "ListMetrics": metrics.list_metrics,
    "GetMetricData": metricdata.get_metric_data,
    "PutMetricAlarm": (alarms.put_metric_alarm, _alarm_arns),
    "PutCompositeAlarm": (alarms.put_composite_alarm, _alarm_arns),
    "DescribeAlarms": (alarms.describe_alarms, _alarm_arns),
    "DescribeAlarmsForMetric": alarms.describe_alarms_for_metric,
    "DescribeAlarmHistory": (alarms.describe_alarm_history, _alarm_arns),
    "SetAlarmState": (alarms.set_alarm_state, _alarm_arns),
    "EnableAlarmActions": (alarms.enable_alarm_actions, _alarm_arns),
    "DisableAlarmActions": (alarms.disable_alarm_actions, _alarm_arns),
    "DeleteAlarms": (alarms.delete_alarms, _alarm_arns),
    "TagResource": (alarms.tag_resource, _resource_arn),
    "UntagResource": (alarms.untag_resource, _resource_arn),
    "ListTagsForResource": (alarms.list_tags_for_resource, _resource_arn),
    "PutDashboard": (dashboards.put_dashboard, _dashboard_arns),
    "GetDashboard": (dashboards.get_dashboard, _dashboard_arns),
    "ListDashboards": dashboards.list_dashboards,
    "DeleteDashboards": (dashboards.delete_dashboards, _dashboard_arns),
})


class CloudWatch:
    """Metrics, alarms and dashboards of one cloud."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.metrics = MetricStore(cloud.engine)
        self.alarms = alarms.AlarmBook(self)
        self.dashboards = dashboards.DashboardBook(cloud.store)
        self._timer: Any = None
        self._running = False

    def start(self) -> None:
        """Start the timers on the cloud's clock."""
        self._running = True
        self._timer = self.cloud.clock.call_later(ROLL_UP_EVERY, self._roll_up_tick)
        self.alarms.start()
        from server.cloudwatch.publisher import InstanceMetrics

        self.publisher = InstanceMetrics(self)
        self.publisher.start()

    def stop(self) -> None:
        """Stop the timers and write what is pending."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.alarms.stop()
        if getattr(self, "publisher", None) is not None:
            self.publisher.stop()
        self.metrics.commit()

    def _roll_up_tick(self) -> None:
        if not self._running:
            return
        try:
            self._roll_up()
        except Exception:
            log.exception("CloudWatch roll-up failed")
        self._timer = self.cloud.clock.call_later(ROLL_UP_EVERY, self._roll_up_tick)

    def _roll_up(self) -> None:
        now = self.cloud.clock.now()
        self.metrics.roll_up(now)
        self.metrics.commit()
        self.alarms.prune(now)


def setup(cloud: Cloud) -> None:
    """Create CloudWatch and serve it at ``/services/CloudWatch`` and scope ``monitoring``."""
    watch = CloudWatch(cloud)
    cloud.components["cloudwatch"] = watch
    cloud.app.register(CloudWatchService(cloud, dict(ACTIONS), after=watch.alarms.after_request))
    cloud.start_hooks.append(watch.start)
    cloud.stop_hooks.append(watch.stop)
