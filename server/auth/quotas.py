"""Eucalyptus quotas: ``Limit`` statements in account and user policies.

A quota statement names the actions it limits and one ``NumericLessThanEquals``
condition on a quota key (reference eucalyptus.md §3.2)::

    {"Effect": "Limit", "Action": "ec2:RunInstances", "Resource": "*",
     "Condition": {"NumericLessThanEquals": {"ec2:quota-vminstancenumber": "10"}}}

Rules, as Eucalyptus: quotas in account policies (PutAccountPolicy) and in a user's own
policies apply; quotas attached to groups are ignored; cloud administrators are exempt
(they never get here).  Every one of the 31 keys is accepted and stored; the keys of
services that exist are counted here, the others are enforced when their service
registers a :class:`Counter` for them in :data:`COUNTERS`.

Counting is exact under concurrency because the check and the handler that creates
the resources run in one synchronous step of the server's event loop: no other request
runs between them.  A user's quota counts what that user created (a ledger of creators
kept for every user's creating requests); an account's counts all its resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server import errors
from server.auth.authz import Action
from server.auth.identity import Principal
from server.auth.policies_source import account_policy_group, is_cloud_admin, user_quota_group
from server.auth.policy import PolicyGroup, PolicySet, Request, Statement

if TYPE_CHECKING:
    from server.cloud import Cloud
    from server.protocol.query import Context

#: The quota keys of Eucalyptus 4 (``auth/policy/key/Keys.java``), by service.
QUOTA_KEYS = frozenset({
    *(f"ec2:quota-{k}" for k in (
        "addressnumber", "cputotalsize", "disktotalsize", "imagenumber",
        "internetgatewaynumber", "memorytotalsize", "securitygroupnumber", "snapshotnumber",
        "vminstancenumber", "vminstanceactivenumber", "volumenumber", "volumetotalsize",
        "vpcnumber")),
    *(f"s3:quota-{k}" for k in ("bucketnumber", "bucketobjectnumber", "bucketsize",
                                "buckettotalsize")),
    *(f"iam:quota-{k}" for k in (
        "usernumber", "groupnumber", "rolenumber", "instanceprofilenumber",
        "servercertificatenumber", "policynumber", "openidconnectprovidernumber")),
    *(f"autoscaling:quota-{k}" for k in ("autoscalinggroupnumber",
                                         "launchconfigurationnumber", "scalingpolicynumber")),
    "elasticloadbalancing:quota-loadbalancernumber", "cloudformation:quota-stacknumber",
    "sqs:quota-queuenumber", "swf:quota-domainnumber",
})


@dataclass(frozen=True)
class Counter:
    """How one quota key is counted: the actions that add to it, the live records of an
    account it counts (each weighing ``weight``), and what one request adds
    (``per_unit`` times a number of units; RunInstances asks for MinCount..MaxCount)."""

    actions: frozenset[str]
    #: The kind of record (resources the ledger of creators tracks, by kind).
    kind: str
    records: Callable[[Cloud, str], Iterable[Any]]
    per_unit: Callable[[Context], float]
    weight: Callable[[Cloud, Any], float] = lambda cloud, record: 1.0
    #: The AWS-style error code of a refusal.
    code: str = "ResourceLimitExceeded"
    status: int = 400

    def usage(self, cloud: Cloud, account: str, owned: set[str] | None = None) -> float:
        """What the account (or, with ``owned``, one user) uses now."""
        return float(sum(self.weight(cloud, r) for r in self.records(cloud, account)
                         if owned is None or record_id(r) in owned))


def record_id(record: Any) -> str:
    """A counted record's identity (EC2 IDs; IAM entities' unique IDs)."""
    for attr in ("id", "user_id", "group_id", "role_id", "arn", "name"):
        value = getattr(record, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(id(record))


def _units(ctx: Context) -> tuple[int, int]:
    """``(MinCount, MaxCount)`` of a RunInstances, the instances a StartInstances names;
    ``(1, 1)`` for anything else."""
    if ctx.action == "StartInstances":
        n = len(ctx.params.strings("InstanceId")) or 1
        return n, n
    if ctx.action != "RunInstances":
        return 1, 1
    try:
        low = int(ctx.params.str("MinCount") or 1)
        high = int(ctx.params.str("MaxCount") or low)
    except (TypeError, ValueError):
        return 1, 1  # the handler reports the malformed count
    return max(low, 1), max(high, low, 1)


def _clc(cloud: Any) -> Any:
    """The cloud controller (typed loosely: quotas only read its records)."""
    return cloud.clc


def _vm_type(ctx: Context) -> Any:
    return _clc(ctx.cloud).vm_types.get(ctx.params.str("InstanceType") or "m1.small")


def _instances(states: tuple[str, ...] | None = None) -> Callable[[Cloud, str], Iterable[Any]]:
    def records(cloud: Cloud, account: str) -> Iterable[Any]:
        return [i for i in _clc(cloud).instances.values() if i.account_id == account and (
            i.state in states if states else i.state != "terminated")]
    return records


def _vm_weight(attr: str) -> Callable[[Cloud, Any], float]:
    def weight(cloud: Cloud, inst: Any) -> float:
        vt = _clc(cloud).vm_types.get(inst.vm_type)
        return float(getattr(vt, attr)) if vt is not None else 0.0
    return weight


def _per_vm(attr: str) -> Callable[[Context], float]:
    def amount(ctx: Context) -> float:
        vt = _vm_type(ctx)
        return float(getattr(vt, attr)) if vt is not None else 0.0
    return amount


def _one(ctx: Context) -> float:
    return 1.0


def _of_account(source: Callable[[Cloud], Iterable[Any]],
                alive: Callable[[Any], bool] = lambda r: True
                ) -> Callable[[Cloud, str], Iterable[Any]]:
    def records(cloud: Cloud, account: str) -> Iterable[Any]:
        return [r for r in source(cloud)
                if getattr(r, "account_id", None) == account and alive(r)]
    return records


def _volumes(cloud: Cloud) -> Iterable[Any]:
    return list(cloud.ebs.volumes.values())


def _snapshots(cloud: Cloud) -> Iterable[Any]:
    return list(cloud.ebs.snapshots.values())


def _volume_size(ctx: Context) -> float:
    size = ctx.params.str("Size")
    if size and size.isdigit():
        return float(size)
    snap = ctx.cloud.ebs.snapshots.get(ctx.params.str("SnapshotId") or "")
    return float(snap.volume_size) if snap is not None else 1.0


def _identity_records(attr: str) -> Callable[[Cloud], Iterable[Any]]:
    """Records of one kind in the identity store (roles and the like may not exist yet)."""
    def records(cloud: Cloud) -> Iterable[Any]:
        found = getattr(cloud.identity, attr, None) or {}
        return list(found.values()) if isinstance(found, dict) else list(found)
    return records


_RUN = frozenset({"ec2:runinstances"})
_RUN_START = frozenset({"ec2:runinstances", "ec2:startinstances"})
_LIVE_VOLUME = _of_account(_volumes, lambda v: v.state not in ("deleted", "deleting"))


def _autoscaling(attr: str) -> Callable[[Cloud], Iterable[Any]]:
    """Records of one kind of the Auto Scaling component (none when it is not set up)."""
    def records(cloud: Cloud) -> Iterable[Any]:
        svc = cloud.components.get("autoscaling")
        return list(getattr(svc, attr).values()) if svc is not None else []
    return records


def _new_scaling_policy(ctx: Context) -> float:
    """1 for a PutScalingPolicy that creates a policy, 0 for one that replaces one."""
    svc = ctx.cloud.components.get("autoscaling")
    group = ctx.params.get("AutoScalingGroupName")
    name = ctx.params.get("PolicyName")
    if svc is None or not isinstance(group, str) or not isinstance(name, str):
        return 1.0
    if group.startswith("arn:"):
        found = [g for g in svc.groups.values()
                 if g.account_id == ctx.account_id and g.arn == group]
        group = found[0].name if found else ""
    return 0.0 if f"{ctx.account_id}/{group}/{name}" in svc.policies else 1.0


def _balancers(cloud: Cloud) -> Iterable[Any]:
    """The ELB component's balancers (none when it is not set up)."""
    elb = cloud.components.get("elb")
    return list(elb.balancers.values()) if elb is not None else []


def _new_balancer(ctx: Context) -> float:
    """1 for a CreateLoadBalancer that creates one, 0 for an idempotent repeat."""
    elb = ctx.cloud.components.get("elb")
    name = ctx.params.get("LoadBalancerName")
    if elb is None or not isinstance(name, str):
        return 1.0
    return 0.0 if (ctx.account_id, name) in elb.balancers else 1.0


def _iam(action: str, attr: str) -> Counter:
    return Counter(frozenset({action}), attr, _of_account(_identity_records(attr)), _one,
                   code="LimitExceeded", status=409)


#: Quota key -> how it is counted (keys absent here are stored but not yet counted).
COUNTERS: dict[str, Counter] = {
    "ec2:quota-vminstancenumber": Counter(_RUN, "instance", _instances(), _one,
                                          code="InstanceLimitExceeded"),
    "ec2:quota-vminstanceactivenumber": Counter(
        _RUN_START, "instance", _instances(("pending", "running")), _one,
        code="InstanceLimitExceeded"),
    "ec2:quota-cputotalsize": Counter(_RUN, "instance", _instances(), _per_vm("cpu"),
                                      _vm_weight("cpu"), "InstanceLimitExceeded"),
    "ec2:quota-memorytotalsize": Counter(_RUN, "instance", _instances(), _per_vm("memory"),
                                         _vm_weight("memory"), "InstanceLimitExceeded"),
    "ec2:quota-disktotalsize": Counter(_RUN, "instance", _instances(), _per_vm("disk"),
                                       _vm_weight("disk"), "InstanceLimitExceeded"),
    "ec2:quota-addressnumber": Counter(
        frozenset({"ec2:allocateaddress"}), "address",
        _of_account(lambda c: _clc(c).addresses.values(), lambda a: not a.auto), _one,
        code="AddressLimitExceeded"),
    "ec2:quota-imagenumber": Counter(
        frozenset({"ec2:registerimage", "ec2:createimage"}), "image",
        _of_account(lambda c: _clc(c).images.values()), _one),
    "ec2:quota-securitygroupnumber": Counter(
        frozenset({"ec2:createsecuritygroup"}), "security-group",
        _of_account(lambda c: _clc(c).groups.values()), _one,
        code="SecurityGroupLimitExceeded"),
    "ec2:quota-volumenumber": Counter(frozenset({"ec2:createvolume"}), "volume", _LIVE_VOLUME,
                                      _one, code="VolumeLimitExceeded"),
    "ec2:quota-volumetotalsize": Counter(
        frozenset({"ec2:createvolume"}), "volume", _LIVE_VOLUME, _volume_size,
        lambda cloud, v: float(v.size), "VolumeLimitExceeded"),
    "ec2:quota-snapshotnumber": Counter(
        frozenset({"ec2:createsnapshot"}), "snapshot",
        _of_account(_snapshots, lambda s: s.state != "deleted"), _one,
        code="SnapshotLimitExceeded"),
    "autoscaling:quota-autoscalinggroupnumber": Counter(
        frozenset({"autoscaling:createautoscalinggroup"}), "autoscaling-group",
        _of_account(_autoscaling("groups")), _one, code="LimitExceeded"),
    "autoscaling:quota-launchconfigurationnumber": Counter(
        frozenset({"autoscaling:createlaunchconfiguration"}), "launch-configuration",
        _of_account(_autoscaling("launch_configs")), _one, code="LimitExceeded"),
    "autoscaling:quota-scalingpolicynumber": Counter(
        frozenset({"autoscaling:putscalingpolicy"}), "scaling-policy",
        _of_account(_autoscaling("policies")), _new_scaling_policy, code="LimitExceeded"),
    "elasticloadbalancing:quota-loadbalancernumber": Counter(
        frozenset({"elasticloadbalancing:createloadbalancer"}), "load-balancer",
        _of_account(_balancers), _new_balancer, code="TooManyLoadBalancers"),
    "iam:quota-usernumber": _iam("iam:createuser", "users"),
    "iam:quota-groupnumber": _iam("iam:creategroup", "groups"),
    "iam:quota-rolenumber": _iam("iam:createrole", "roles"),
    "iam:quota-instanceprofilenumber": _iam("iam:createinstanceprofile", "instance_profiles"),
    "iam:quota-servercertificatenumber": _iam("iam:uploadservercertificate",
                                              "server_certificates"),
    "iam:quota-policynumber": _iam("iam:createpolicy", "managed_policies"),
}


# -- who created what (user quotas count a user's own resources) -------------------------
class CreatorLedger:
    """Which user created each counted resource, persisted with the cloud's records."""

    KIND = "resource_creator"

    def __init__(self, store: Any):
        self.store = store
        self.owned: dict[tuple[str, str], set[str]] = {}
        for rid, account, doc in store.load(self.KIND):
            self.owned.setdefault((account, doc.get("user", "")), set()).add(rid)

    def add(self, account: str, user: str, rids: Iterable[str]) -> None:
        """Record ``rids`` as created by ``user``."""
        mine = self.owned.setdefault((account, user), set())
        for rid in rids:
            mine.add(rid)
            self.store.put(self.KIND, rid, account, {"user": user})

    def of(self, account: str, user: str) -> set[str]:
        """What one user created (and may since have deleted)."""
        return self.owned.get((account, user), set())


def ledger(cloud: Cloud) -> CreatorLedger:
    """The cloud's ledger of creators (loaded on first use)."""
    found: CreatorLedger | None = cloud.components.get("quota_ledger")
    if found is None:
        found = CreatorLedger(cloud.store)
        cloud.components["quota_ledger"] = found
    return found


_BY_ACTION: dict[str, list[Counter]] = {}
for _counter in COUNTERS.values():
    for _action in _counter.actions:
        _BY_ACTION.setdefault(_action, []).append(_counter)


def track_creations(ctx: Context, declared: Action, caller: Principal) -> None:
    """For a user's creating request, note after it succeeds which new resources it
    made (the difference of the account's records before and after)."""
    counters = _BY_ACTION.get(declared.iam_action.lower())
    if not counters:
        return
    kinds = {c.kind: c for c in counters}
    account = ctx.account_id

    def ids() -> set[str]:
        return {record_id(r) for c in kinds.values() for r in c.records(ctx.cloud, account)}

    before = ids()

    def after() -> None:
        created = ids() - before
        if created:
            ledger(ctx.cloud).add(account, caller.user_name, created)

    ctx.after.append(after)


@dataclass(frozen=True)
class Limit:
    """One quota that applies to a request: key, limit and where it was set."""

    key: str
    limit: float
    level: str  # "account" or "user"


def limits_for(group: PolicyGroup, req: Request, level: str) -> list[Limit]:
    """The quotas a group's Limit statements put on one request."""
    out = []
    for st in group.limits:
        if not st.names_action(req.action) or not _resource_ok(st, req):
            continue
        for test in st.conditions:
            if test.key in QUOTA_KEYS and test.base == "NumericLessThanEquals" and \
                    not test.qualifier and not test.if_exists:
                try:
                    value = min(float(w) for w in test.wanted)
                except ValueError:
                    continue
                out.append(Limit(test.key, value, level))
    return out


def _resource_ok(st: Statement, req: Request) -> bool:
    if st.resources is not None and not st.resources.matches(req.resource, req.context):
        return False
    return not (st.not_resources is not None and
                st.not_resources.matches(req.resource, req.context))


def check(ctx: Context, declared: Action, caller: Principal, policies: PolicySet) -> None:
    """Refuse a request that would exceed one of the caller's quotas; for RunInstances,
    leave in ``ctx.quota_room`` how many instances fit (MaxCount is cut to it)."""
    account = policies.account
    if not policies.identity.limits and (account is None or not account.limits):
        return  # the common case: no quota anywhere
    action = declared.iam_action.lower()
    groups: list[tuple[PolicyGroup, str]] = []
    if account is not None and account.limits:
        groups.append((account, "account"))
    user = user_quota_group(ctx.cloud.identity, caller) if policies.identity.limits else None
    if user is not None and user.limits:
        groups.append((user, "user"))
    if not groups:
        return
    req = Request(declared.iam_action, "*")
    found = [lim for grp, level in groups for lim in limits_for(grp, req, level)]
    low, high = _units(ctx)
    for lim in found:
        counter = COUNTERS.get(lim.key)
        if counter is None or action not in counter.actions:
            continue
        owned = ledger(ctx.cloud).of(ctx.account_id, caller.user_name) \
            if lim.level == "user" else None
        used = counter.usage(ctx.cloud, ctx.account_id, owned)
        per = counter.per_unit(ctx)
        room = high if per <= 0 else int((lim.limit - used) // per)
        if room < low:
            who = f"account {ctx.principal.account_name}" if lim.level == "account" else \
                f"user {caller.user_name}"
            raise errors.AWSError(
                f"Quota exceeded: {lim.key} is limited to {lim.limit:g} for {who} "
                f"({used:g} in use, {low * per:g} requested)",
                code=counter.code, status=counter.status)
        high = min(high, room)
    ctx.quota_room = high


def smallest_limit(identity: Any, caller: Principal, iam_action: str, key: str) -> Limit | None:
    """The tightest quota on ``key`` for one action of ``caller`` (None when none
    applies; cloud administrators have none).  For services that count themselves,
    such as Walrus' buckets, which are counted in the same transaction as the insert."""
    if caller.anonymous or is_cloud_admin(caller):
        return None
    req = Request(iam_action, "*")
    found: list[Limit] = []
    account = account_policy_group(identity, caller.account_id)
    if account is not None:
        found += limits_for(account, req, "account")
    user = user_quota_group(identity, caller)
    if user is not None:
        found += limits_for(user, req, "user")
    found = [lim for lim in found if lim.key == key]
    return min(found, key=lambda lim: lim.limit) if found else None
