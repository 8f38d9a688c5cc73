"""Auto Scaling with CloudWatch: the alarms of target-tracking policies, and the groups'
metrics.

``setup(cloud)`` runs after both components are set up (see ``COMPONENTS`` in
:mod:`server.cloud`); without either of them it does nothing.  It registers
:class:`CloudWatchAlarms` as Auto Scaling's
:class:`~server.autoscaling.controller.AlarmPort`, and publishes the enabled group
metrics (EnableMetricsCollection) each minute to the namespace ``AWS/AutoScaling``.
Alarm actions reach the policies the other way, through ``components["scaling_policies"]``
(see :mod:`server.cloudwatch.alarms`).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from server.autoscaling.policies import alarm_specs
from server.protocol.params import Params
from server.protocol.query import Context

if TYPE_CHECKING:
    from server.autoscaling.controller import AutoScaling
    from server.autoscaling.model import Policy
    from server.cloud import Cloud
    from server.cloudwatch.service import CloudWatch

log = logging.getLogger(__name__)

NAMESPACE = "AWS/AutoScaling"
#: Group metrics are published each minute (granularity 1Minute).
PUBLISH_EVERY = 60.0


class CloudWatchAlarms:
    """The AlarmPort on CloudWatch: a target-tracking policy's AlarmHigh and AlarmLow,
    named ``TargetTracking-<group>-AlarmHigh-<uuid>`` as AWS names them, and owned by the
    policy (their action is the policy's ARN; they go with it)."""

    def __init__(self, cloud: Cloud, watch: CloudWatch):
        self.cloud = cloud
        self.watch = watch

    def _context(self, account_id: str, action: str, params: dict[str, Any]) -> Context:
        """A request of the policy's account, as its administrator (the service acts)."""
        from server.ids import request_id

        identity = self.cloud.identity
        principal = identity.admin_principal(identity.account(account_id))
        return Context(self.cloud, principal, Params(params), action, request_id(), "",
                       principal)

    def _owned(self, policy: Policy) -> dict[str, str]:
        """``{"AlarmHigh"|"AlarmLow": alarm name}`` of the alarms the policy owns."""
        out = {}
        for (account, name), doc in self.watch.alarms.alarms.items():
            if account != policy.account_id or policy.arn not in doc.get("AlarmActions", []):
                continue
            for kind in ("AlarmHigh", "AlarmLow"):
                if name.startswith(f"TargetTracking-{policy.group}-{kind}-"):
                    out[kind] = name
        return out

    def put_alarms(self, policy: Policy) -> list[dict[str, str]]:
        """Create or update the policy's alarms (an AlarmLow no longer wanted goes)."""
        from server.cloudwatch.alarms import put_metric_alarm

        owned = self._owned(policy)
        out = []
        for spec in alarm_specs(policy):
            kind = "AlarmHigh" if spec["ComparisonOperator"] == "GreaterThanThreshold" \
                else "AlarmLow"
            name = owned.pop(kind, None) or f"TargetTracking-{policy.group}-{kind}-{uuid.uuid4()}"
            description = (f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy "
                           f"{policy.arn}.")
            params = {"AlarmName": name, "AlarmDescription": description,
                      "Namespace": spec["Namespace"], "MetricName": spec["MetricName"],
                      "Statistic": spec["Statistic"], "Dimensions": spec["Dimensions"],
                      "Period": str(spec["Period"]),
                      "EvaluationPeriods": str(spec["EvaluationPeriods"]),
                      "Threshold": str(spec["Threshold"]),
                      "ComparisonOperator": spec["ComparisonOperator"],
                      "AlarmActions": list(spec["AlarmActions"])}
            put_metric_alarm(self._context(policy.account_id, "PutMetricAlarm", params))
            doc = self.watch.alarms.alarms[(policy.account_id, name)]
            out.append({"AlarmName": name, "AlarmARN": doc["AlarmArn"]})
        self._delete(policy.account_id, list(owned.values()))
        return out

    def delete_alarms(self, policy: Policy) -> None:
        """Delete the alarms the policy owns."""
        self._delete(policy.account_id, list(self._owned(policy).values()))

    def _delete(self, account_id: str, names: list[str]) -> None:
        if not names:
            return
        from server.cloudwatch.alarms import delete_alarms

        delete_alarms(self._context(account_id, "DeleteAlarms", {"AlarmNames": names}))


class GroupMetrics:
    """Publishes each group's enabled metrics (GroupDesiredCapacity, ...) every minute."""

    def __init__(self, scaling: AutoScaling, watch: CloudWatch):
        self.scaling = scaling
        self.watch = watch
        self.clock = scaling.clock
        self._timer: Any = None

    def start(self) -> None:
        """Publish on the cloud's clock."""
        self._timer = self.clock.call_later(PUBLISH_EVERY, self._tick)

    def stop(self) -> None:
        """Stop publishing."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        try:
            self.publish(self.clock.now())
        except Exception:
            log.exception("publishing group metrics failed")
        self._timer = self.clock.call_later(PUBLISH_EVERY, self._tick)

    def publish(self, now: float) -> None:
        """One datapoint per enabled metric of every group, for the minute just passed."""
        from server.cloudwatch.metrics import store_datums

        by_account: dict[str, list[Any]] = {}
        for group in list(self.scaling.groups.values()):
            if not group.metrics or group.deleting:
                continue
            dims = (("AutoScalingGroupName", group.name),)
            datums = by_account.setdefault(group.account_id, [])
            for name, value in self.scaling.group_metrics(group).items():
                datums.append((name, dims, now - PUBLISH_EVERY, "None", 60,
                               [(float(value), 1.0)], None))
        for account, datums in by_account.items():
            if datums:
                store_datums(self.watch, account, NAMESPACE, datums, now)


def setup(cloud: Cloud) -> None:
    """Connect Auto Scaling and CloudWatch when the cloud has both."""
    scaling = cloud.components.get("autoscaling")
    watch = cloud.components.get("cloudwatch")
    if scaling is None or watch is None:
        return
    cloud.components["autoscaling_alarms"] = CloudWatchAlarms(cloud, watch)
    metrics = GroupMetrics(scaling, watch)
    cloud.start_hooks.append(metrics.start)
    cloud.stop_hooks.append(metrics.stop)
