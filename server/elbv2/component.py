"""The elbv2 component: the records of every account, their data plane (the classic
ELB's HAProxy plane: one process per balancer, a backend per target group) and the
targets' health; Auto Scaling's TargetGroupARNs register through :class:`GroupTargets`.

Balancers take their address from the classic balancers' pool and their DNS names are
written to the same hosts view.  A target's health comes from HAProxy's checks where the
data plane reaches it (an ``ip`` target, an instance of a libvirt zone with networking,
or balancers in a network namespace), else from the instance's modelled state.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from server.elb.security import admitted
from server.elbv2.model import (
    AppLoadBalancer,
    Listener,
    Record,
    Rule,
    Target,
    TargetGroup,
)
from server.elbv2.routing import tg_arns, to_route
from server.elbv2.store import RecordStore
from server.elbv2.telemetry import Telemetry
from server.ports.loadbalancer import (
    AppBalancerSpec,
    AppListenerSpec,
    AppTarget,
    BackendState,
    TargetGroupSpec,
)

if TYPE_CHECKING:
    from server.cloud import Cloud
    from server.elb.component import ELB

log = logging.getLogger(__name__)

SYNC_EVERY = 2.0
#: SSL policy -> lowest TLS version it accepts.
TLS_MIN = {"ELBSecurityPolicy-TLS-1-1-2017-01": "TLSv1.1",
           "ELBSecurityPolicy-TLS-1-2-2017-01": "TLSv1.2",
           "ELBSecurityPolicy-TLS-1-2-Ext-2018-06": "TLSv1.2",
           "ELBSecurityPolicy-FS-1-2-Res-2020-10": "TLSv1.2",
           "ELBSecurityPolicy-TLS13-1-2-2021-06": "TLSv1.2"}

Health = dict[str, Any]


def server_name(target: Target) -> str:
    """HAProxy's name of a target (id and port, unique in its target group)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{target.id}-{target.port}")


def backend_name(tg: TargetGroup) -> str:
    """HAProxy's backend name of a target group."""
    return "tg-" + tg.arn.rsplit("/", 1)[-1]


class ELBv2:
    """Every account's elbv2 records and their balancers on the data plane."""

    def __init__(self, cloud: Cloud, elb: ELB):
        self.cloud = cloud
        self.elb = elb
        self.store = RecordStore(cloud.engine)
        self.lbs: dict[str, AppLoadBalancer] = {}
        self.tgs: dict[str, TargetGroup] = {}
        self.listeners: dict[str, Listener] = {}
        self.rules: dict[str, Rule] = {}
        for record in self.store.load():
            self._table(record)[record.arn] = record
        #: Deregistered targets still draining: group ARN -> {(id, port): deadline}.
        self.draining: dict[str, dict[tuple[str, int], float]] = {}
        self._applied: dict[str, AppBalancerSpec] = {}
        self._timer: Any = None
        self._running = False
        self.telemetry = Telemetry(self)
        elb.address_users.append(
            lambda: [(lb.address, lb.dns_name) for lb in self.lbs.values()])

    def _table(self, record: Record) -> dict[str, Any]:
        if isinstance(record, AppLoadBalancer):
            return self.lbs
        if isinstance(record, TargetGroup):
            return self.tgs
        if isinstance(record, Listener):
            return self.listeners
        return self.rules

    # -- records --------------------------------------------------------------------------
    def save(self, *records: Record) -> None:
        """Write records and bring the balancers they touch in line."""
        for record in records:
            self._table(record)[record.arn] = record
            self.store.save(record)
        for lb in self._touched(records):
            self.sync(lb)
        if any(isinstance(r, AppLoadBalancer) for r in records):
            self.elb.refresh_hosts()

    def delete(self, *records: Record) -> None:
        """Forget records (a balancer's data plane stops with it)."""
        touched = self._touched(records)
        for record in records:
            self._table(record).pop(record.arn, None)
            self.store.delete(record)
            if isinstance(record, AppLoadBalancer):
                key = self.key(record)
                self._applied.pop(key, None)
                self.elb.plane.remove(key)
            if isinstance(record, TargetGroup):
                self.draining.pop(record.arn, None)
        for lb in touched:
            if lb.arn in self.lbs:
                self.sync(lb)
        if any(isinstance(r, AppLoadBalancer) for r in records):
            self.elb.refresh_hosts()

    def _touched(self, records: tuple[Record, ...]) -> list[AppLoadBalancer]:
        out: dict[str, AppLoadBalancer] = {}
        for record in records:
            if isinstance(record, AppLoadBalancer):
                out[record.arn] = record
            elif isinstance(record, Listener):
                if (lb := self.lbs.get(record.lb_arn)) is not None:
                    out[lb.arn] = lb
            elif isinstance(record, Rule):
                li = self.listeners.get(record.listener_arn)
                if li is not None and (lb := self.lbs.get(li.lb_arn)) is not None:
                    out[lb.arn] = lb
            else:
                for lb in self.balancers_of(record):
                    out[lb.arn] = lb
        return list(out.values())

    def owned(self, table: dict[str, Any], account_id: str) -> list[Any]:
        """An account's records of one table, oldest name first."""
        return sorted((r for r in table.values() if r.account_id == account_id),
                      key=lambda r: (getattr(r, "name", ""), r.arn))

    def listeners_of(self, lb: AppLoadBalancer) -> list[Listener]:
        """A balancer's listeners by port."""
        return sorted((li for li in self.listeners.values() if li.lb_arn == lb.arn),
                      key=lambda li: li.port)

    def rules_of(self, listener: Listener) -> list[Rule]:
        """A listener's (non-default) rules by priority."""
        return sorted((r for r in self.rules.values() if r.listener_arn == listener.arn),
                      key=lambda r: r.priority)

    def groups_used(self, lb: AppLoadBalancer) -> list[str]:
        """ARNs of the target groups a balancer's listeners and rules forward to."""
        out: list[str] = []
        for li in self.listeners_of(lb):
            for arn in tg_arns(li.default_actions) + [
                    a for r in self.rules_of(li) for a in tg_arns(r.actions)]:
                if arn not in out:
                    out.append(arn)
        return out

    def balancers_of(self, tg: TargetGroup) -> list[AppLoadBalancer]:
        """The balancers forwarding to a target group."""
        return [lb for lb in sorted(self.lbs.values(), key=lambda b: b.name)
                if tg.arn in self.groups_used(lb)]

    @staticmethod
    def key(lb: AppLoadBalancer) -> str:
        """The data plane's identity of a balancer (dots: never a classic name)."""
        kind = "app" if lb.type == "application" else "net"
        return f"{lb.account_id}.{kind}.{lb.name}"

    # -- data plane -----------------------------------------------------------------------
    def _address(self, target: Target, tg: TargetGroup) -> str:
        if tg.target_type == "ip":
            return target.id
        inst = self.elb.instance(target.id)
        if inst is None or inst.state != "running" or not inst.private_ip:
            return ""
        return str(inst.private_ip)

    def _group_spec(self, tg: TargetGroup, zones: list[str]) -> TargetGroupSpec:
        targets = tuple(AppTarget(server_name(t), addr, t.port) for t in tg.targets
                        if _in_zones(t, zones) and (addr := self._address(t, tg)))
        hc = tg.health
        port = hc.get("HealthCheckPort", "traffic-port")
        sticky = tg.attributes.get("stickiness.enabled") == "true" and \
            tg.attributes.get("stickiness.type") == "lb_cookie"
        algorithm = "leastconn" if tg.attributes.get("load_balancing.algorithm.type") == \
            "least_outstanding_requests" else "roundrobin"
        return TargetGroupSpec(
            backend_name(tg), tg.protocol, targets, bool(hc.get("HealthCheckEnabled", True)),
            hc["HealthCheckProtocol"], 0 if port == "traffic-port" else int(port),
            hc.get("HealthCheckPath", "/"), codes_regex(hc.get("Matcher", {})),
            int(hc["HealthCheckIntervalSeconds"]), int(hc["HealthCheckTimeoutSeconds"]),
            int(hc["HealthyThresholdCount"]), int(hc["UnhealthyThresholdCount"]),
            int(tg.attributes.get("stickiness.lb_cookie.duration_seconds", "0"))
            if sticky else 0, algorithm)

    def spec(self, lb: AppLoadBalancer) -> AppBalancerSpec:
        """The data plane's description of a balancer now."""
        groups = [self.tgs[a] for a in self.groups_used(lb) if a in self.tgs]
        backend = {tg.arn: backend_name(tg) for tg in groups}
        listeners = []
        for li in self.listeners_of(lb):
            routes = [to_route(r.conditions, r.actions, li, backend) for r in self.rules_of(li)]
            routes.append(to_route([], li.default_actions, li, backend))
            pems = [p for c in li.certificates
                    if (p := self.elb.certificate_pem(lb.account_id, c))]
            listeners.append(AppListenerSpec(li.protocol, li.port, tuple(routes),
                                             pems[0] if pems else "",
                                             TLS_MIN.get(li.ssl_policy, ""), tuple(pems[1:])))
        drain = max((tg.deregistration_delay for tg in groups), default=0)
        logs = lb.attributes.get("access_logs.s3.enabled") == "true" and \
            bool(lb.attributes.get("access_logs.s3.bucket"))
        # Security groups are an application balancer's (a network balancer has none:
        # its listeners are open, as AWS's were).
        groups_of_lb = lb.security_groups if lb.type == "application" else []
        allowed = admitted(self.cloud.clc, groups_of_lb, [li.port for li in listeners])
        return AppBalancerSpec(
            self.key(lb), lb.name, lb.address, (), (), "TCP:1", 30, 5, 2, 2,
            lb.idle_timeout, float(drain), logs, ingress=allowed, listeners=tuple(listeners),
            target_groups=tuple(self._group_spec(tg, lb.zones) for tg in groups))

    def sync(self, lb: AppLoadBalancer) -> None:
        """Hand the balancer's current description to the data plane if it changed."""
        key = self.key(lb)
        if not self.listeners_of(lb):
            if self._applied.pop(key, None) is not None:
                self.elb.plane.remove(key)
            return
        spec = self.spec(lb)
        if self._applied.get(key) == spec:
            return
        try:
            self.elb.plane.apply(spec)
            self._applied[key] = spec
        except Exception:
            log.exception("balancer %s: the data plane refused its configuration", lb.name)

    # -- health ---------------------------------------------------------------------------
    def _states(self, tg: TargetGroup) -> dict[str, BackendState] | None:
        """HAProxy's view of a group's servers (its balancer's; empty while it starts),
        None where no data plane runs."""
        plane: Any = self.elb.plane
        for lb in self.balancers_of(tg):
            self.sync(lb)
            if plane.available() or not hasattr(plane, "server_states"):
                return None
            return dict(plane.server_states(self.key(lb)).get(backend_name(tg), {}))
        return None

    def target_health(self, tg: TargetGroup,
                      asked: list[Target] | None = None) -> list[Health]:
        """``TargetHealthDescriptions`` of a group's targets (or of the asked ones)."""
        now = self.cloud.clock.now()
        draining = self.draining.get(tg.arn, {})
        for ident, deadline in list(draining.items()):
            if deadline <= now:
                draining.pop(ident)
        targets = asked if asked is not None else \
            tg.targets + [Target(i, p) for (i, p) in draining if not tg.target(i, p)]
        users = self.balancers_of(tg)
        used = bool(users)
        states = self._states(tg) if used else None
        out = []
        for t in targets:
            registered = tg.target(t.id, t.port)
            state, reason, text = self._one(tg, registered or t, registered is not None,
                                            (t.id, t.port) in draining, used, states)
            if state not in ("unused", "draining") and users and \
                    not _in_zones(registered or t, users[0].zones):
                state, reason, text = ("unused", "Target.NotInUse", "Target is in an "
                                       "Availability Zone that is not enabled for the load "
                                       "balancer")
            health: Health = {"State": state}
            if reason:
                health.update({"Reason": reason, "Description": text})
            desc: Health = {"Target": {"Id": t.id, "Port": t.port}, "TargetHealth": health,
                            "HealthCheckPort": str(t.port) if tg.health.get(
                                "HealthCheckPort", "traffic-port") == "traffic-port"
                            else str(tg.health["HealthCheckPort"])}
            zone = (registered or t).zone
            if zone:
                desc["Target"]["AvailabilityZone"] = zone
            out.append(desc)
        return out

    def _one(self, tg: TargetGroup, t: Target, registered: bool, draining: bool, used: bool,
             states: dict[str, BackendState] | None) -> tuple[str, str, str]:
        if draining and not registered:
            return ("draining", "Target.DeregistrationInProgress",
                    "Target deregistration is in progress")
        if not registered:
            return ("unused", "Target.NotRegistered", "Target is not registered to the "
                    "target group")
        if not used:
            return ("unused", "Target.NotInUse", "Target group is not configured to receive "
                    "traffic from the load balancer")
        inst = None
        if tg.target_type == "instance":
            inst = self.elb.instance(t.id)
            if inst is None or inst.state != "running":
                what = inst.state if inst is not None else "terminated"
                return ("unused", "Target.InvalidState", f"Target is in the {what} state")
        if not tg.health.get("HealthCheckEnabled", True):
            return ("unavailable", "Target.HealthCheckDisabled", "Health checks disabled")
        data_plane = states is not None and (inst is None or self.elb.data_plane_health(inst))
        if not data_plane:
            return ("healthy", "", "")
        assert states is not None
        st = states.get(server_name(t))
        if st is None:
            return ("initial", "Elb.RegistrationInProgress", "Target registration is in "
                    "progress")
        if st.up is None:
            return ("initial", "Elb.InitialHealthChecking", "Initial health checks in "
                    "progress")
        if st.up:
            return ("healthy", "", "")
        detail, _, code = st.detail.partition(":")
        if detail.startswith("L7STS") and code:
            return ("unhealthy", "Target.ResponseCodeMismatch",
                    f"Health checks failed with these codes: [{code}]")
        if "TOUT" in detail:
            return ("unhealthy", "Target.Timeout", "Request timed out")
        return ("unhealthy", "Target.FailedHealthChecks", "Health checks failed")

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start (or adopt) every balancer; keep them in line with their targets."""
        self._running = True
        for lb in list(self.lbs.values()):
            self.sync(lb)
        self._timer = self.cloud.clock.call_later(SYNC_EVERY, self._tick)

    def stop(self) -> None:
        """Stop the timer (the classic ELB stops the data plane's processes)."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._applied.clear()

    def _tick(self) -> None:
        if not self._running:
            return
        try:
            for lb in list(self.lbs.values()):
                self.sync(lb)
            self.telemetry.tick()
        except Exception:
            log.exception("elbv2 sync failed")
        self._timer = self.cloud.clock.call_later(SYNC_EVERY, self._tick)


def _in_zones(target: Target, zones: list[str]) -> bool:
    """True when the target's zone is one of the balancer's (or it names none: an ip
    target, or ``all``)."""
    return not target.zone or target.zone == "all" or target.zone in zones


def codes_regex(matcher: dict[str, str]) -> str:
    """A Matcher's HttpCode (``200``, ``200,202``, ``200-299``) as a regular expression."""
    parts = []
    for item in str(matcher.get("HttpCode", "200")).split(","):
        low, _, high = item.strip().partition("-")
        parts += [str(c) for c in range(int(low), int(high or low) + 1)]
    return "^(" + "|".join(parts) + ")$"


class GroupTargets:
    """Auto Scaling's port for TargetGroupARNs: group members registered as targets on
    each group's port, and their health as the target groups see it."""

    def __init__(self, v2: ELBv2):
        self.v2 = v2

    def _each(self, account_id: str, arns: list[str]) -> list[TargetGroup]:
        return [tg for a in arns if (tg := self.v2.tgs.get(a)) is not None
                and tg.account_id == account_id and tg.target_type == "instance"]

    def register(self, account_id: str, load_balancers: list[str],
                 instance_ids: list[str]) -> None:
        """Register instances with the target groups (``load_balancers``: their ARNs)."""
        for tg in self._each(account_id, load_balancers):
            new = [i for i in instance_ids if tg.target(i, tg.port) is None]
            for iid in new:
                inst = self.v2.elb.instance(iid)
                tg.targets.append(Target(iid, tg.port, inst.zone if inst else ""))
                self.v2.draining.get(tg.arn, {}).pop((iid, tg.port), None)
            if new:
                self.v2.save(tg)

    def deregister(self, account_id: str, load_balancers: list[str],
                   instance_ids: list[str]) -> None:
        """Deregister instances from the target groups (they drain)."""
        for tg in self._each(account_id, load_balancers):
            gone = [t for t in tg.targets if t.id in instance_ids]
            if gone:
                deregister(self.v2, tg, gone)

    def health(self, account_id: str, load_balancers: list[str],
               instance_ids: list[str]) -> dict[str, bool]:
        """Unhealthy in any target group = unhealthy."""
        out: dict[str, bool] = {}
        for tg in self._each(account_id, load_balancers):
            asked = [t for t in tg.targets if t.id in instance_ids]
            for desc in self.v2.target_health(tg, asked):
                iid = desc["Target"]["Id"]
                bad = desc["TargetHealth"]["State"] == "unhealthy"
                out[iid] = out.get(iid, True) and not bad
        return out


def deregister(v2: ELBv2, tg: TargetGroup, gone: list[Target]) -> None:
    """Remove targets from a group; each drains for the group's deregistration delay."""
    deadline = v2.cloud.clock.now() + tg.deregistration_delay
    used = bool(v2.balancers_of(tg))
    for t in gone:
        if used and tg.deregistration_delay:
            v2.draining.setdefault(tg.arn, {})[(t.id, t.port)] = deadline
    keep = {(t.id, t.port) for t in gone}
    tg.targets = [t for t in tg.targets if (t.id, t.port) not in keep]
    v2.save(tg)



