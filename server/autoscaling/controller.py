"""The Auto Scaling controller: its records, and one reconciliation loop per group.

Each group's loop runs on the cloud's clock: it reads the group's members from the
cloud controller's instances (found by their ``aws:autoscaling:groupName`` tag, so a
restart adopts what a crash left behind), asks :func:`server.autoscaling.plan.plan` what
to do, and launches or terminates through the CLC's own RunInstances / TerminateInstances
as the group's account, once the policy engine allows Auto Scaling's service-linked role
(:mod:`server.autoscaling.service_role`) to: quotas, capacity and account policies apply,
and their errors become failed activities retried with back-off.  The instance records, their tags and the group are
written in one flush, so a kill -9 leaves neither orphans nor double launches.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Protocol

from server import errors, ids
from server.autoscaling import service_role
from server.autoscaling.model import (
    GROUP_TAG,
    Activity,
    Group,
    LaunchConfig,
    LifecycleHook,
    Member,
    Policy,
    ScheduledAction,
)
from server.autoscaling.plan import GroupView, Launch, Terminate, plan
from server.clc.model import Instance, Record
from server.protocol.params import Params, unflatten
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.clock import Cancel
    from server.cloud import Cloud
    from server.protocol.query import Context

log = logging.getLogger(__name__)

#: Seconds (cloud clock) between two passes of a quiet group.
INTERVAL = 10.0
#: While members are pending or terminating: pass again soon.
BUSY_INTERVAL = 1.0
#: Back-off after failed launches: BACKOFF * 2**(failures-1), at most BACKOFF_MAX.
BACKOFF = 5.0
BACKOFF_MAX = 300.0
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
#: Activities kept per group (oldest dropped).
ACTIVITIES_KEPT = 200


class AlarmPort(Protocol):
    """How target-tracking policies create and delete their alarms (CloudWatch's side)."""

    def put_alarms(self, policy: Policy) -> list[dict[str, str]]:
        """Create or update the policy's alarms; return ``[{"AlarmName", "AlarmARN"}]``."""
        ...

    def delete_alarms(self, policy: Policy) -> None:
        """Delete the alarms the policy owns."""
        ...


class NoAlarms:
    """The AlarmPort used while no CloudWatch component is registered: no alarms."""

    def put_alarms(self, policy: Policy) -> list[dict[str, str]]:
        """No CloudWatch: nothing is created."""
        return []

    def delete_alarms(self, policy: Policy) -> None:
        """Nothing to delete."""


class LoadBalancerPort(Protocol):
    """What an Elastic Load Balancing component offers groups: registration of members
    with the group's load balancers, and their health as the load balancers see it."""

    def register(self, account_id: str, load_balancers: list[str],
                 instance_ids: list[str]) -> None:
        """Register instances with load balancers."""
        ...

    def deregister(self, account_id: str, load_balancers: list[str],
                   instance_ids: list[str]) -> None:
        """Deregister instances from load balancers."""
        ...

    def health(self, account_id: str, load_balancers: list[str],
               instance_ids: list[str]) -> dict[str, bool]:
        """``{instance id: healthy}`` for the instances the load balancers know."""
        ...


class NoLoadBalancers:
    """The LoadBalancerPort used while no ELB component is registered."""

    def register(self, account_id: str, load_balancers: list[str],
                 instance_ids: list[str]) -> None:
        """Nothing to register with."""

    def deregister(self, account_id: str, load_balancers: list[str],
                   instance_ids: list[str]) -> None:
        """Nothing to deregister from."""

    def health(self, account_id: str, load_balancers: list[str],
               instance_ids: list[str]) -> dict[str, bool]:
        """No opinion on any instance."""
        return {}


class AutoScaling:
    """The component: records in memory, written through the cloud's Store."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.clock = cloud.clock
        self.store = cloud.store
        self.launch_configs: dict[str, LaunchConfig] = {}
        self.groups: dict[str, Group] = {}
        self.policies: dict[str, Policy] = {}
        self.scheduled: dict[str, ScheduledAction] = {}
        self.hooks: dict[str, LifecycleHook] = {}
        self.activities: dict[str, list[Activity]] = {}
        self._timers: dict[str, tuple[float, Cancel]] = {}
        #: Groups whose instances are still to be looked for by tag (once after a start).
        self._adopt: set[str] = set()
        self._started = False
        self._load()

    @property
    def alarms(self) -> AlarmPort:
        """The registered AlarmPort (CloudWatch's), else no alarms."""
        port = self.cloud.components.get("autoscaling_alarms")
        return port if port is not None else NoAlarms()

    @property
    def load_balancers(self) -> LoadBalancerPort:
        """The registered LoadBalancerPort (ELB's), else none."""
        port = self.cloud.components.get("autoscaling_load_balancers")
        return port if port is not None else NoLoadBalancers()

    @property
    def target_groups(self) -> LoadBalancerPort:
        """The registered LoadBalancerPort of target groups (elbv2's), else none: its
        "load balancers" are the groups' TargetGroupARNs."""
        port = self.cloud.components.get("autoscaling_target_groups")
        return port if port is not None else NoLoadBalancers()

    def _in_service(self, group: Group, member: Member) -> None:
        """A member enters service: register it with the group's load balancers and
        target groups."""
        member.lifecycle = "InService"
        if group.load_balancers and "AddToLoadBalancer" not in group.suspended:
            self.load_balancers.register(group.account_id, group.load_balancers, [member.id])
        if group.target_groups and "AddToLoadBalancer" not in group.suspended:
            self.target_groups.register(group.account_id, group.target_groups, [member.id])

    def _elb_health(self, group: Group) -> None:
        """With HealthCheckType ELB: members the load balancers find unhealthy (after the
        grace period) are marked Unhealthy, and replaced."""
        if group.health_check_type != "ELB" or not (group.load_balancers or
                                                    group.target_groups) or \
                "HealthCheck" in group.suspended:
            return
        now = self.clock.now()
        ids = [m["id"] for m in group.members.values() if m["lifecycle"] == "InService"
               and now >= m["launched"] + group.grace_period]
        if not ids:
            return
        verdicts = self.load_balancers.health(group.account_id, group.load_balancers, ids) \
            if group.load_balancers else {}
        if group.target_groups:
            for iid, ok in self.target_groups.health(group.account_id, group.target_groups,
                                                     ids).items():
                verdicts[iid] = verdicts.get(iid, True) and ok
        for iid, healthy in verdicts.items():
            if not healthy and iid in group.members:
                group.members[iid]["health"] = "Unhealthy"

    # -- persistence ----------------------------------------------------------------------
    def _load(self) -> None:
        for _, _, doc in self.store.load(LaunchConfig.KIND):
            lc = LaunchConfig.from_doc(doc)
            self.launch_configs[lc.id] = lc
        for _, _, doc in self.store.load(Group.KIND):
            group = Group.from_doc(doc)
            self.groups[group.id] = group
        for _, _, doc in self.store.load(Policy.KIND):
            pol = Policy.from_doc(doc)
            self.policies[pol.id] = pol
        for _, _, doc in self.store.load(ScheduledAction.KIND):
            sa = ScheduledAction.from_doc(doc)
            self.scheduled[sa.id] = sa
        for _, _, doc in self.store.load(LifecycleHook.KIND):
            hook = LifecycleHook.from_doc(doc)
            self.hooks[hook.id] = hook
        for _, _, doc in self.store.load(Activity.KIND):
            act = Activity.from_doc(doc)
            self.activities.setdefault(act.group, []).append(act)
        for acts in self.activities.values():
            acts.sort(key=lambda a: a.start)

    def save(self, record: Record) -> None:
        """Write a record at the next flush (with the CLC's pending writes)."""
        self.store.put(record.KIND, record.id, record.account_id, record.doc())
        self.cloud.clc._schedule_flush()

    def forget(self, record: Record) -> None:
        """Delete a record at the next flush."""
        self.store.delete(record.KIND, record.id)
        self.cloud.clc._schedule_flush()

    # -- start ----------------------------------------------------------------------------
    def start(self) -> None:
        """Listen to instance state changes; start every group's loop and schedule."""
        self._started = True
        self.cloud.clc.instance_listeners.append(self.on_instance_state)
        self._adopt = set(self.groups)
        for gid in list(self.groups):
            self.wake(gid)
        for sa in list(self.scheduled.values()):
            self.arm_scheduled(sa)

    def on_instance_state(self, inst: Instance, previous: str) -> None:
        """A member changed state: pass over its group soon."""
        name = self.cloud.clc.tags.get(inst.id, {}).get(GROUP_TAG)
        if name:
            self.wake(f"{inst.account_id}/{name}")

    def wake(self, gid: str, delay: float = 0.0) -> None:
        """Run the group's loop after ``delay`` (earlier than any pass already planned)."""
        if not self._started:
            return
        when = self.clock.now() + delay
        planned = self._timers.get(gid)
        if planned is not None:
            if planned[0] <= when:
                return
            planned[1].cancel()
        handle = self.clock.call_later(delay, lambda: self._pass(gid))
        self._timers[gid] = (when, handle)

    def _pass(self, gid: str) -> None:
        self._timers.pop(gid, None)
        group = self.groups.get(gid)
        if group is None:
            return
        try:
            busy = self.reconcile(group)
        except Exception:
            log.exception("auto scaling group %s: reconciliation failed", group.name)
            busy = False
        if gid in self.groups:
            wait = BUSY_INTERVAL if busy else INTERVAL
            if group.retry_at > self.clock.now():
                wait = min(wait, group.retry_at - self.clock.now()) if busy else \
                    group.retry_at - self.clock.now()
            self.wake(gid, max(wait, 0.05))

    # -- members --------------------------------------------------------------------------
    def members(self, group: Group) -> list[Member]:
        """The group's members as records."""
        return [Member(**m) for m in group.members.values()]

    def put_member(self, group: Group, member: Member) -> None:
        """Record a member's state in the group."""
        group.members[member.id] = asdict(member)

    def sync_members(self, group: Group) -> None:
        """Bring members up to date with the CLC's instances (adopting tagged ones)."""
        clc = self.cloud.clc
        now = self.clock.now()
        for member in self.members(group):
            inst = clc.instances.get(member.id)
            state = inst.state if inst is not None else "terminated"
            if state in ("terminated", "shutting-down"):
                if member.lifecycle.startswith("Terminating"):
                    self.finish_activity(group, member.activity, "Successful")
                elif member.lifecycle != "Detaching":
                    act = self.activity(
                        group, f"Terminating EC2 instance: {member.id}",
                        f"At {iso8601(now)} an instance was taken out of service in response "
                        "to an EC2 health check indicating it has been terminated or stopped.")
                    self.finish_activity(group, act.id, "Successful")
                    self.finish_activity(group, member.activity, "Failed",
                                         "Instance terminated before it was in service")
                del group.members[member.id]
                continue
            if state in ("stopped", "stopping") and member.health == "Healthy" and \
                    "HealthCheck" not in group.suspended:
                member.health = "Unhealthy"
            elif state == "running" and member.lifecycle == "Pending":
                hooks = self.group_hooks(group, LAUNCHING)
                if hooks:
                    self.hold(member, "Pending:Wait", hooks)
                else:
                    self._in_service(group, member)
                    self.finish_activity(group, member.activity, "Successful")
            elif member.lifecycle.endswith(":Wait") and now >= member.hook_deadline:
                hook_results = [h.default_result for h in self.group_hooks(
                    group, LAUNCHING if member.lifecycle == "Pending:Wait" else TERMINATING)]
                result = "ABANDON" if "ABANDON" in hook_results else "CONTINUE"
                self.put_member(group, member)
                self.complete_lifecycle(group, member.id, result)
                continue
            self.put_member(group, member)
        if group.id not in self._adopt:
            return
        # After a start only: the launches of a run that crashed are found by their tag.
        self._adopt.discard(group.id)
        for inst in clc.instances.values():
            if inst.account_id != group.account_id or inst.id in group.members:
                continue
            if clc.tags.get(inst.id, {}).get(GROUP_TAG) != group.name:
                continue
            if inst.state in ("terminated", "shutting-down"):
                continue
            # Launched by a previous run of this controller, its record lost in a crash.
            self.put_member(group, Member(
                inst.id, inst.zone, "InService" if inst.state == "running" else "Pending",
                launched=inst.launch_time, launch_config=group.launch_config,
                instance_type=inst.vm_type))

    # -- the loop -------------------------------------------------------------------------
    def reconcile(self, group: Group) -> bool:
        """One pass over a group; True while it is still moving."""
        now = self.clock.now()
        self.sync_members(group)
        self._elb_health(group)
        if group.deleting:
            for member in self.members(group):
                if member.lifecycle == "Terminating:Wait":
                    self._terminate_now(group, member)  # ForceDelete does not wait for hooks
                elif member.lifecycle != "Terminating":
                    self.terminate(group, member, "the group is being deleted")
            if not group.members:
                self.drop_group(group)
                return False
            self.save(group)
            return True
        if now < group.retry_at:
            self.save(group)
            return False
        failing = frozenset(z for z, until in group.failed_zones.items() if until > now)
        view = GroupView(
            desired=group.desired, zones=list(group.zones), members=self.members(group),
            now=now, suspended=frozenset(group.suspended),
            termination_policies=tuple(group.termination_policies),
            failing_zones=failing,
            config_created={lc.name: lc.created for lc in self.launch_configs.values()
                            if lc.account_id == group.account_id},
            current_config=group.launch_config)
        actions = plan(view)
        for act in actions:
            if isinstance(act, Launch):
                if not self.launch(group, act.zone, act.cause):
                    break
            elif isinstance(act, Terminate):
                member = Member(**group.members[act.instance_id])
                self.terminate(group, member, act.cause)
        if actions:
            group.cause = ""
        self.save(group)
        return bool(actions) or any(m["lifecycle"] in ("Pending", "Terminating")
                                    or m["lifecycle"].endswith(":Wait")
                                    for m in group.members.values())

    def _cause(self, group: Group, why: str) -> str:
        now = iso8601(self.clock.now())
        first = f"At {now} {group.cause}.  " if group.cause else ""
        return f"{first}At {now} {why}."

    def launch(self, group: Group, zone: str, why: str) -> bool:
        """Launch one instance in ``zone``; False (and a failed activity) if the cloud refuses."""
        from server.clc.instances import run_instances

        cause = self._cause(group, why)
        try:
            pairs, template = self.launch_pairs(group, zone)
            new_instance = service_role.instance_arn(self.cloud, group.account_id)
            for iam_action in ("ec2:RunInstances", "ec2:CreateTags"):
                service_role.authorize(self.cloud, group.account_id, iam_action, new_instance)
            ctx = self.context(group, pairs, "RunInstances")
            result = run_instances(ctx)
        except errors.AWSError as exc:
            act = self.activity(group, "Launching a new EC2 instance.  Status Reason: "
                                f"{exc.message}. Launching EC2 instance failed.", cause,
                                zone=zone)
            self.finish_activity(group, act.id, "Failed", exc.message)
            group.failures += 1
            backoff = min(BACKOFF * 2 ** (group.failures - 1), BACKOFF_MAX)
            group.retry_at = self.clock.now() + backoff
            if exc.code == "InsufficientInstanceCapacity":
                group.failed_zones[zone] = self.clock.now() + backoff * 2
            log.info("group %s: launch in %s failed (%s); retry in %.0fs", group.name, zone,
                     exc.code, backoff)
            return False
        clc = self.cloud.clc
        rid = result["reservationId"]
        new = [i for i in clc.instances.values() if i.reservation_id == rid]
        for inst in new:
            tags = clc.tags.setdefault(inst.id, {})
            tags[GROUP_TAG] = group.name
            for tag in group.tags:
                if tag.get("PropagateAtLaunch"):
                    tags[tag["Key"]] = tag.get("Value", "")
            clc.save_tags(inst.id, group.account_id)
            act = self.activity(group, f"Launching a new EC2 instance: {inst.id}", cause,
                                progress=30, zone=inst.zone)
            self.put_member(group, Member(
                inst.id, inst.zone, "Pending", protected=group.protect_new,
                launch_config=group.launch_config, launch_template=template,
                launched=inst.launch_time, instance_type=inst.vm_type, activity=act.id))
        group.failures = 0
        group.failed_zones.pop(zone, None)
        return True

    def terminate(self, group: Group, member: Member, why: str) -> None:
        """Terminate a member through the CLC (as the group's account), after any
        terminating lifecycle hook lets it go."""
        act = self.activity(group, f"Terminating EC2 instance: {member.id}",
                            self._cause(group, why), progress=50, zone=member.zone)
        member.activity = act.id
        hooks = self.group_hooks(group, TERMINATING)
        if hooks and not group.deleting:
            self.hold(member, "Terminating:Wait", hooks)
            self.put_member(group, member)
            return
        self._terminate_now(group, member)

    def _terminate_now(self, group: Group, member: Member) -> None:
        from server.clc.lifecycle import terminate_instances

        if group.load_balancers:
            self.load_balancers.deregister(group.account_id, group.load_balancers, [member.id])
        if group.target_groups:
            self.target_groups.deregister(group.account_id, group.target_groups, [member.id])
        act_id = member.activity
        member.lifecycle = "Terminating"
        self.put_member(group, member)
        inst = self.cloud.clc.instances.get(member.id)
        if inst is None or inst.state in ("terminated", "shutting-down"):
            return
        try:
            service_role.authorize(self.cloud, group.account_id, "ec2:TerminateInstances",
                                   service_role.instance_arn(self.cloud, group.account_id,
                                                             member.id))
            terminate_instances(self.context(group, [("InstanceId.1", member.id)],
                                             "TerminateInstances"))
        except errors.AWSError as exc:
            self.finish_activity(group, act_id, "Failed", exc.message)
            member.lifecycle = "InService"
            member.activity = ""
            self.put_member(group, member)

    # -- lifecycle hooks ------------------------------------------------------------------
    def group_hooks(self, group: Group, transition: str) -> list[LifecycleHook]:
        """The group's hooks of one transition."""
        return [h for h in self.hooks.values() if h.account_id == group.account_id
                and h.group == group.name and h.transition == transition]

    def hold(self, member: Member, state: str, hooks: list[LifecycleHook]) -> None:
        """Put a member in a wait state until its hooks complete or time out."""
        member.lifecycle = state
        member.hook_token = str(uuid.uuid4())
        member.hook_started = self.clock.now()
        member.hook_deadline = self.clock.now() + max(h.heartbeat_timeout for h in hooks)

    def complete_lifecycle(self, group: Group, instance_id: str, result: str) -> None:
        """End a member's wait: CONTINUE goes on, ABANDON terminates (launch) or goes on."""
        member = Member(**group.members[instance_id])
        member.hook_token = ""
        member.hook_deadline = 0.0
        if member.lifecycle == "Pending:Wait":
            if result == "CONTINUE":
                self._in_service(group, member)
                self.finish_activity(group, member.activity, "Successful")
                self.put_member(group, member)
            else:
                self.finish_activity(group, member.activity, "Cancelled",
                                     "Instance failed to complete user's Lifecycle Action: "
                                     "Lifecycle Action with token was abandoned")
                self.terminate(group, member, "an instance's launching lifecycle action "
                               "was abandoned")
        elif member.lifecycle == "Terminating:Wait":
            self._terminate_now(group, member)
        self.save(group)
        self.wake(group.id)

    def context(self, group: Group, pairs: list[tuple[str, str]], action: str) -> Context:
        """A request context acting as the group's account (the CLC's own checks apply)."""
        from server.protocol.query import Context

        identity = self.cloud.identity
        principal = identity.admin_principal(identity.account(group.account_id))
        return Context(self.cloud, principal, Params(unflatten(pairs)), action,
                       ids.request_id(),
                       "127.0.0.1", principal)

    def launch_pairs(self, group: Group, zone: str) -> tuple[list[tuple[str, str]],
                                                           dict[str, str] | None]:
        """RunInstances parameters from the group's launch configuration or template."""
        pairs = [("MinCount", "1"), ("MaxCount", "1"), ("Placement.AvailabilityZone", zone)]
        if group.launch_template:
            from server.clc.launchtemplates import resolve_for_launch

            more, version = resolve_for_launch(self.cloud, group.account_id,
                                               group.launch_template)
            template = dict(group.launch_template, version=version)
            return pairs + more, template
        lc = self.launch_configs.get(f"{group.account_id}/{group.launch_config}")
        if lc is None:
            raise errors.ValidationError(
                f"Launch configuration name not found - {group.launch_config}")
        pairs += [("ImageId", lc.image_id), ("InstanceType", lc.instance_type)]
        optional = {"KeyName": lc.key_name, "KernelId": lc.kernel_id,
                    "RamdiskId": lc.ramdisk_id, "UserData": lc.user_data}
        pairs += [(k, v) for k, v in optional.items() if v]
        names = [g for g in lc.security_groups if not g.startswith("sg-")]
        gids = [g for g in lc.security_groups if g.startswith("sg-")]
        pairs += [(f"SecurityGroup.{n}", g) for n, g in enumerate(names, 1)]
        pairs += [(f"SecurityGroupId.{n}", g) for n, g in enumerate(gids, 1)]
        if lc.iam_profile:
            key = "Arn" if lc.iam_profile.startswith("arn:") else "Name"
            pairs.append((f"IamInstanceProfile.{key}", lc.iam_profile))
        if lc.monitoring:
            pairs.append(("Monitoring.Enabled", "true"))
        if lc.public_ip is False:
            pairs.append(("AddressingType", "private"))
        return pairs, None

    # -- activities -----------------------------------------------------------------------
    def activity(self, group: Group, description: str, cause: str,
                 progress: int = 0, zone: str = "") -> Activity:
        """Record a new activity of a group (InProgress)."""
        details = json.dumps({"Availability Zone": zone or ",".join(group.zones)})
        act = Activity(str(uuid.uuid4()), group.account_id, group.id, description, cause,
                       self.clock.now(), progress=progress, details=details)
        acts = self.activities.setdefault(group.id, [])
        acts.append(act)
        while len(acts) > ACTIVITIES_KEPT:
            self.forget(acts.pop(0))
        self.save(act)
        return act

    def finish_activity(self, group: Group, act_id: str, status: str, message: str = "") -> None:
        """Mark an activity finished."""
        for act in self.activities.get(group.id, []):
            if act.id == act_id and act.end is None:
                act.end = self.clock.now()
                act.status = status
                act.message = message
                act.progress = 100
                self.save(act)
                return

    # -- groups ---------------------------------------------------------------------------
    def drop_group(self, group: Group) -> None:
        """Remove a group and everything that belongs to it."""
        self.groups.pop(group.id, None)
        self.forget(group)
        for acts in [self.activities.pop(group.id, [])]:
            for act in acts:
                self.forget(act)
        for table in (self.policies, self.scheduled, self.hooks):
            for key, rec in list(table.items()):
                if rec.account_id == group.account_id and getattr(rec, "group", "") == group.name:
                    if isinstance(rec, Policy):
                        self.alarms.delete_alarms(rec)
                    del table[key]
                    self.forget(rec)
        timer = self._timers.pop(group.id, None)
        if timer is not None:
            timer[1].cancel()

    def set_desired(self, group: Group, desired: int, cause: str) -> None:
        """Change the desired capacity, saying why; the loop acts on it at once."""
        group.cause = f"{cause} changing the desired capacity from {group.desired} to {desired}"
        group.desired = desired
        self.save(group)
        self.wake(group.id)

    def arm_scheduled(self, sa: ScheduledAction) -> None:
        """Set the timer of a scheduled action (see :mod:`server.autoscaling.policies`)."""
        from server.autoscaling.policies import arm

        arm(self, sa)

    def group_metrics(self, group: Group) -> dict[str, int]:
        """The enabled group metrics' current values (what a CloudWatch component
        publishes every minute for groups with metrics collection)."""
        states = [m["lifecycle"] for m in group.members.values()]
        values = {"GroupMinSize": group.min_size, "GroupMaxSize": group.max_size,
                  "GroupDesiredCapacity": group.desired,
                  "GroupInServiceInstances": states.count("InService"),
                  "GroupPendingInstances": sum(1 for s in states if s.startswith("Pending")),
                  "GroupStandbyInstances": states.count("Standby"),
                  "GroupTerminatingInstances": sum(1 for s in states
                                                   if s.startswith("Terminating")),
                  "GroupTotalInstances": len(states)}
        return {k: v for k, v in values.items() if k in group.metrics}

    def execute_policy(self, policy_arn: str, *, honor_cooldown: bool = True,
                       metric_value: float | None = None,
                       breach_threshold: float | None = None, alarm_name: str = "") -> None:
        """The entry point an alarm action calls (see :class:`ScalingPolicies`); a
        target-tracking policy needs the alarm's metric value."""
        from server.autoscaling.policies import execute

        pol = next((p for p in self.policies.values() if p.arn == policy_arn), None)
        if pol is None:
            raise errors.ValidationError(f"No policy with ARN {policy_arn}")
        execute(self, pol, honor_cooldown=honor_cooldown, metric_value=metric_value,
                breach_threshold=breach_threshold,
                cause=f"a monitor alarm {alarm_name} in state ALARM" if alarm_name else "an alarm")


class ScalingPolicies:
    """The narrow hook CloudWatch alarm actions use: ``execute(policy_arn)``."""

    def __init__(self, autoscaling: AutoScaling):
        self._as = autoscaling

    def execute(self, policy_arn: str, metric_value: float | None = None,
                breach_threshold: float | None = None, alarm_name: str = "") -> None:
        """Run a policy because its alarm fired (the cooldown is honoured; step and
        target-tracking policies need the alarm's metric value and threshold)."""
        self._as.execute_policy(policy_arn, honor_cooldown=True, metric_value=metric_value,
                                breach_threshold=breach_threshold, alarm_name=alarm_name)

