"""The reconciliation decision of one group, as a pure function (no clock, no I/O).

:func:`plan` takes a group's wanted state and what its members are, and returns the
launches and terminations that bring one to the other: unhealthy members replaced,
capacity raised or lowered to the desired count, zones kept balanced, victims chosen by
the group's termination policies.  The server's controller and the simulator both run it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from server.autoscaling.model import Member

#: Lifecycle states that count towards the group's capacity.
ACTIVE = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")


@dataclass(frozen=True)
class Launch:
    """Launch one instance in ``zone``."""

    zone: str
    cause: str


@dataclass(frozen=True)
class Terminate:
    """Terminate one member."""

    instance_id: str
    cause: str


@dataclass
class GroupView:
    """What :func:`plan` needs to know of a group."""

    desired: int
    zones: list[str]
    members: list[Member]
    now: float
    suspended: frozenset[str] = frozenset()
    termination_policies: tuple[str, ...] = ("Default",)
    #: Zones that failed to launch recently: avoided while another zone can take instances.
    failing_zones: frozenset[str] = frozenset()
    #: Launch configuration name -> creation time (for OldestLaunchConfiguration).
    config_created: dict[str, float] = field(default_factory=dict)
    #: The group's current launch configuration / template version.
    current_config: str = ""


def active(members: list[Member]) -> list[Member]:
    """Members counted in the group's capacity."""
    return [m for m in members if m.lifecycle in ACTIVE and m.health == "Healthy"]


def plan(view: GroupView) -> list[Launch | Terminate]:
    """The actions that move the group towards its desired capacity."""
    actions: list[Launch | Terminate] = []
    if "ReplaceUnhealthy" not in view.suspended and "Terminate" not in view.suspended:
        for m in view.members:
            if m.health != "Healthy" and m.lifecycle in ACTIVE:
                actions.append(Terminate(
                    m.id, "an instance was taken out of service in response to a health "
                    "check indicating it is unhealthy"))
    live = active(view.members)
    counts = Counter({z: 0 for z in view.zones})
    counts.update(m.zone for m in live if m.zone in counts)
    if len(live) < view.desired:
        if "Launch" not in view.suspended:
            need = view.desired - len(live)
            cause = (f"an instance was started in response to a difference between desired "
                     f"and actual capacity, increasing the capacity from {len(live)} to "
                     f"{view.desired}")
            for _ in range(need):
                zone = _emptiest(counts, view.failing_zones)
                counts[zone] += 1
                actions.append(Launch(zone, cause))
    elif len(live) > view.desired:
        if "Terminate" not in view.suspended:
            cause = (f"an instance was taken out of service in response to a difference "
                     f"between desired and actual capacity, shrinking the capacity from "
                     f"{len(live)} to {view.desired}")
            candidates = [m for m in live if not m.protected]
            for _ in range(len(live) - view.desired):
                victim = choose_victim(candidates, counts, view)
                if victim is None:
                    break
                candidates.remove(victim)
                counts[victim.zone] -= 1
                actions.append(Terminate(victim.id, cause))
    elif ("AZRebalance" not in view.suspended and "Launch" not in view.suspended
          and counts and not any(isinstance(a, Terminate) for a in actions)):
        low = _emptiest(counts, view.failing_zones)
        # Members left in a zone the group no longer has are replaced like an imbalance.
        foreign = any(m.zone not in counts for m in live)
        if (foreign or max(counts.values()) - counts[low] > 1) and \
                low not in view.failing_zones:
            actions.append(Launch(low, "an instance was launched to rebalance instances "
                                       "across Availability Zones"))
    return actions


def _emptiest(counts: Counter[str], failing: frozenset[str]) -> str:
    """The zone with the fewest members, preferring zones that are not failing."""
    order = sorted(counts, key=lambda z: (z in failing, counts[z], z))
    return order[0]


def choose_victim(candidates: list[Member], counts: Counter[str],
                  view: GroupView) -> Member | None:
    """The member to terminate: from the fullest zone, then by termination policy."""
    if not candidates:
        return None
    foreign = [m for m in candidates if m.zone not in view.zones]
    if foreign:
        pool = foreign  # members outside the group's zones go first
    else:
        fullest = max(counts[m.zone] for m in candidates)
        pool = [m for m in candidates if counts[m.zone] == fullest]
    for policy in view.termination_policies:
        pool = apply_policy(policy, pool, view)
        if len(pool) == 1:
            return pool[0]
    return sorted(pool, key=lambda m: m.id)[0]


def apply_policy(policy: str, pool: list[Member], view: GroupView) -> list[Member]:
    """The members a termination policy would pick from ``pool`` (ties kept)."""
    if not pool:
        return pool

    def keep(key: dict[str, float], best: float) -> list[Member]:
        return [m for m in pool if key[m.id] == best]

    if policy == "OldestInstance":
        ages = {m.id: m.launched for m in pool}
        return keep(ages, min(ages.values()))
    if policy == "NewestInstance":
        ages = {m.id: m.launched for m in pool}
        return keep(ages, max(ages.values()))
    if policy == "OldestLaunchConfiguration":
        # Members without a launch configuration, then the oldest one.
        age = {m.id: (-1.0 if not m.launch_config else
                      view.config_created.get(m.launch_config, -1.0)) for m in pool}
        return keep(age, min(age.values()))
    if policy == "OldestLaunchTemplate":
        def version(m: Member) -> float:
            if not m.launch_template:
                return -1.0
            try:
                return float(m.launch_template.get("version", "0"))
            except ValueError:
                return 0.0
        age = {m.id: version(m) for m in pool}
        return keep(age, min(age.values()))
    if policy == "ClosestToNextInstanceHour":
        left = {m.id: 3600.0 - ((view.now - m.launched) % 3600.0) for m in pool}
        return keep(left, min(left.values()))
    if policy == "Default":
        for step in ("OldestLaunchConfiguration", "OldestLaunchTemplate",
                     "ClosestToNextInstanceHour"):
            pool = apply_policy(step, pool, view)
            if len(pool) == 1:
                break
        return pool
    return pool
