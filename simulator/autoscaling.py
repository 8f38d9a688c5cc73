"""An Auto Scaling group in virtual time: the server's plan over the server's CCs.

:class:`SimulatedGroup` is the simulator's side of a group (what the server's controller
does with the CLC): it keeps members from the CCs' instance events and, on a simpy
clock, runs :func:`server.autoscaling.plan.plan` (the same decision the server makes)
and applies its launches and terminations to the zones' ClusterControllers.  A zone
that cannot place an instance is avoided until its back-off passes, as on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.autoscaling.model import Member
from server.autoscaling.plan import GroupView, Launch, Terminate, plan
from server.cc.cluster import ClusterController
from server.clock import Clock
from server.nc.types import InstanceEvent, InstanceSpec, InstanceState, Resources

#: NC states that count as gone for the group.
_GONE = (InstanceState.SHUTTING_DOWN, InstanceState.TERMINATED, InstanceState.FAILED)


@dataclass
class Activity:
    """One launch or termination (or a failed launch), with the plan's cause."""

    time: float
    kind: str  # "launch", "terminate", "launch-failed"
    instance_id: str
    zone: str
    cause: str


@dataclass
class SimulatedGroup:
    """A group of ``vm_type`` instances over the zones of ``clusters``."""

    clock: Clock
    clusters: dict[str, ClusterController]
    vm_type: str
    demand: Resources
    desired: int
    interval: float = 10.0
    backoff: float = 30.0
    termination_policies: tuple[str, ...] = ("Default",)
    members: dict[str, Member] = field(default_factory=dict)
    activities: list[Activity] = field(default_factory=list)
    failing: dict[str, float] = field(default_factory=dict)
    launched: int = 0

    def start(self) -> None:
        """Listen to the CCs and run the first pass now."""
        for cc in self.clusters.values():
            cc.listeners.append(self.on_event)
        self.clock.call_later(0.0, self.tick)

    def on_event(self, ev: InstanceEvent) -> None:
        """Follow members' states; an instance gone outside the group is simply missing."""
        member = self.members.get(ev.instance_id)
        if member is None:
            return
        if ev.state in _GONE:
            del self.members[ev.instance_id]
        elif ev.state is InstanceState.RUNNING and member.lifecycle == "Pending":
            member.lifecycle = "InService"

    def set_desired(self, desired: int) -> None:
        """Change the desired capacity; the next pass acts on it at once."""
        self.desired = desired
        self.clock.call_later(0.0, self.pass_once)

    def tick(self) -> None:
        """One periodic pass."""
        self.pass_once()
        self.clock.call_later(self.interval, self.tick)

    def pass_once(self) -> None:
        """Plan and apply."""
        now = self.clock.now()
        view = GroupView(self.desired, sorted(self.clusters), list(self.members.values()), now,
                         termination_policies=self.termination_policies,
                         failing_zones=frozenset(z for z, t in self.failing.items() if t > now))
        for action in plan(view):
            if isinstance(action, Launch):
                self._launch(action)
            elif isinstance(action, Terminate):
                self._terminate(action)

    def _launch(self, action: Launch) -> None:
        self.launched += 1
        iid = f"i-asg{self.launched:08x}"
        started = self.clusters[action.zone].run_instances(
            (InstanceSpec(iid, self.vm_type, self.demand),), 1)
        now = self.clock.now()
        if not started:
            self.failing[action.zone] = now + self.backoff
            self.activities.append(Activity(now, "launch-failed", iid, action.zone,
                                            "insufficient capacity"))
            return
        self.members[iid] = Member(iid, action.zone, "Pending", launched=now,
                                   instance_type=self.vm_type)
        self.activities.append(Activity(now, "launch", iid, action.zone, action.cause))

    def _terminate(self, action: Terminate) -> None:
        member = self.members[action.instance_id]
        member.lifecycle = "Terminating"
        self.clusters[member.zone].terminate_instance(member.id)
        self.activities.append(Activity(self.clock.now(), "terminate", member.id, member.zone,
                                        action.cause))

    def in_service(self) -> dict[str, int]:
        """InService members per zone."""
        out = {z: 0 for z in self.clusters}
        for m in self.members.values():
            if m.lifecycle == "InService":
                out[m.zone] += 1
        return out
