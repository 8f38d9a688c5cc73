"""Instance state changes (terminate, reboot, stop, start), console, status, monitoring."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from server import errors
from server.auth.authz import action, each_param
from server.clc.controller import STATE_CODES
from server.clc.filters import Filters, page
from server.clc.index import SortKey, sort_key
from server.clc.instances import (
    IncorrectInstanceState,
    InsufficientInstanceCapacity,
    OperationNotPermitted,
    _assign,
    get_instance,
    visible_instances,
)
from server.clc.model import USER_SHUTDOWN, Instance
from server.clc.specs import spec_for
from server.nc.node import IllegalTransition
from server.nc.types import InstanceSpec
from server.protocol.query import Context
from server.protocol.xml import iso8601


# -- state changes ---------------------------------------------------------------------
def _state_change(inst: Instance, previous: str) -> dict[str, Any]:
    return {"instanceId": inst.id,
            "currentState": {"code": STATE_CODES[inst.state], "name": inst.state},
            "previousState": {"code": STATE_CODES[previous], "name": previous}}


def terminate_instances(ctx: Context) -> Any:
    """TerminateInstances (idempotent for instances already terminated)."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.disable_api_termination:
            raise OperationNotPermitted(
                f"The instance '{inst.id}' may not be terminated. Modify its "
                "'disableApiTermination' instance attribute and try again.")
    out = []
    for inst in insts:
        previous = inst.state
        if inst.state in ("pending", "running", "stopping"):
            clc._set_state(inst, "shutting-down", USER_SHUTDOWN)
            clc.clusters[inst.zone].terminate_instance(inst.id)
        elif inst.state == "stopped":
            clc._set_state(inst, "shutting-down", USER_SHUTDOWN)
            clc._finish_teardown(inst)
        sc = ctx.cloud.ebs
        if sc is not None:
            sc.instance_terminating(inst)
        out.append(_state_change(inst, previous))
    return {"instancesSet": out}


def _require_ids(ctx: Context) -> list[str]:
    wanted = ctx.params.strings("InstanceId")
    if not wanted:
        raise errors.MissingParameter("The request must contain the parameter InstanceId")
    return wanted


def reboot_instances(ctx: Context) -> Any:
    """RebootInstances."""
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.state != "running":
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in a state from which it can be rebooted.")
    for inst in insts:
        try:
            ctx.cloud.clusters[inst.zone].reboot_instance(inst.id)
        except IllegalTransition:
            pass  # the node is already rebooting it: one more request changes nothing (AWS)
    return None


def stop_instances(ctx: Context) -> Any:
    """StopInstances: only EBS-backed instances, as AWS."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.root_device_type != "ebs":
            raise errors.UnsupportedOperation(
                f"The instance '{inst.id}' does not have an 'ebs' root device type and cannot "
                "be stopped.")
        if inst.state not in ("running", "pending", "stopping", "stopped"):
            raise IncorrectInstanceState(
                f"This instance '{inst.id}' is not in a state from which it can be stopped.")
        if inst.disable_api_stop:
            raise OperationNotPermitted(
                f"The instance '{inst.id}' may not be stopped. Modify its 'disableApiStop' "
                "instance attribute and try again.")
    out = []
    for inst in insts:
        previous = inst.state
        if inst.state in ("running", "pending"):
            clc._set_state(inst, "stopping", USER_SHUTDOWN)
            clc.clusters[inst.zone].terminate_instance(inst.id)
        out.append(_state_change(inst, previous))
    return {"instancesSet": out}


def start_instances(ctx: Context) -> Any:
    """StartInstances: a stopped EBS-backed instance is scheduled again."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.root_device_type != "ebs":
            raise errors.UnsupportedOperation(
                f"The instance '{inst.id}' does not have an 'ebs' root device type and cannot "
                "be started.")
        if inst.state not in ("stopped", "running", "pending"):
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in a state from which it can be started.")
    out = []
    for inst in insts:
        previous = inst.state
        if inst.state == "stopped":
            cc = clc.clusters[inst.zone]
            inst.node = ""
            def finish(placed: int, i: Instance = inst) -> list[InstanceSpec]:
                return _assign(ctx, [i], i.addressing, 1)

            nodes = cc.run_instances_prepared([spec_for(clc, inst)], 1, before_start=finish)
            if not nodes:
                raise InsufficientInstanceCapacity(
                    f"Not enough resources available in {inst.zone} to start {inst.id}")
            inst.node = nodes[0]
            clc._set_state(inst, "pending")
        out.append(_state_change(inst, previous))
    return {"instancesSet": out}


# -- console, status, monitoring -------------------------------------------------------
def get_console_output(ctx: Context) -> Any:
    """GetConsoleOutput: the NC's console text, base64."""
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    output = b""
    if inst.state not in ("terminated", "stopped"):
        output = ctx.cloud.clusters[inst.zone].console_output(inst.id)
    return {"instanceId": inst.id, "timestamp": iso8601(ctx.cloud.clock.now()),
            "output": base64.b64encode(output).decode()}


def _status_candidates(ctx: Context, filt: dict[str, list[str]],
                       include_all: bool) -> list[Instance]:
    """The caller's instances a DescribeInstanceStatus listing may show, in launch order,
    taken from the indexes DescribeInstances uses: running ones (unless
    IncludeAllInstances), narrowed by exact zone and state filters, so retained terminated
    instances cost nothing."""
    clc = ctx.cloud.clc
    idx = clc.instance_index
    narrowed: list[set[str]] = []
    if not include_all:
        narrowed.append(idx.with_values("instance-state-name", ["running"]) or set())
    for name in ("availability-zone", "instance-state-name"):
        values = filt.get(name)
        found = idx.with_values(name, values) if values else None
        if found is not None:
            narrowed.append(found)
    ordered = idx.ordered(ctx.account_id)
    if not narrowed:
        keys: Iterable[SortKey] = ordered.keys
    else:
        narrowed.sort(key=len)
        hits = narrowed[0].intersection(*narrowed[1:])
        if len(hits) * 8 < len(ordered):  # few: sort them
            keys = sorted(idx.keys[i] for i in hits if i in idx.keys)
        else:  # many: the ordered list is sorted already
            keys = (k for k in ordered.keys if k[3] in hits)
    account = ctx.account_id
    out = []
    for key in keys:
        inst = clc.instances.get(key[3])
        if inst is not None and inst.account_id == account:
            out.append(inst)
    return out


def describe_instance_status(ctx: Context) -> Any:
    """DescribeInstanceStatus: running instances (all with IncludeAllInstances)."""
    clc = ctx.cloud.clc
    requested = ctx.params.strings("InstanceId")
    if requested and ctx.params.get("MaxResults") is not None:  # before any lookup, as AWS
        raise errors.InvalidParameterCombination(
            "The parameter instancesSet cannot be used with the parameter maxResults")
    include_all = ctx.params.bool("IncludeAllInstances", False)
    filt = ctx.params.filters()
    if requested:
        insts = visible_instances(ctx, requested)
        if not include_all:
            insts = [i for i in insts if i.state == "running"]
    else:
        insts = _status_candidates(ctx, filt, include_all)

    def status(inst: Instance) -> str:
        if inst.state != "running":
            return "not-applicable"
        cc = clc.clusters.get(inst.zone)
        view = cc.node_of(inst.id) if cc else None
        return "impaired" if view is None or view.status.value == "DOWN" else "ok"

    if filt:
        getters = {
            "availability-zone": lambda i: i.zone,
            "instance-state-name": lambda i: i.state,
            "instance-state-code": lambda i: str(STATE_CODES[i.state]),
            "system-status.status": status, "instance-status.status": status,
            "system-status.reachability": lambda i: "passed" if status(i) == "ok" else "failed",
            "instance-status.reachability": lambda i: "passed" if status(i) == "ok" else "failed",
            "event.code": lambda i: None, "event.description": lambda i: None,
            "event.not-after": lambda i: None, "event.not-before": lambda i: None,
            "event.instance-event-id": lambda i: None,
            "event.not-before-deadline": lambda i: None,
        }
        insts = Filters(getters, lambda i: clc.tags.get(i.id, {})).apply(insts, filt)
    if requested:
        insts.sort(key=sort_key)
    chunk, token = page(insts, ctx.params, ids_given=bool(requested))
    items = []
    for inst in chunk:
        st = status(inst)
        detail = {"name": "reachability",
                  "status": "passed" if st == "ok" else
                  ("failed" if st == "impaired" else "initializing")}
        items.append({
            "instanceId": inst.id, "availabilityZone": inst.zone,
            "instanceState": {"code": STATE_CODES[inst.state], "name": inst.state},
            "systemStatus": {"status": st, "details": [detail] if st != "not-applicable" else []},
            "instanceStatus": {"status": st,
                               "details": [detail] if st != "not-applicable" else []},
            "eventsSet": []})
    return {"instanceStatusSet": items, "nextToken": token}


def monitor_instances(ctx: Context, state: str = "enabled") -> Any:
    """MonitorInstances: turn on detailed monitoring."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        inst.monitoring = state
        clc.save(inst)
    return {"instancesSet": [{"instanceId": i.id, "monitoring": {"state": state}} for i in insts]}


def unmonitor_instances(ctx: Context) -> Any:
    """UnmonitorInstances."""
    return monitor_instances(ctx, "disabled")


_INSTANCES = each_param("InstanceId", "instance")

ACTIONS = {
    "TerminateInstances": action(terminate_instances, "ec2:TerminateInstances",
                                 resources=_INSTANCES),
    "RebootInstances": action(reboot_instances, "ec2:RebootInstances", resources=_INSTANCES),
    "StopInstances": action(stop_instances, "ec2:StopInstances", resources=_INSTANCES),
    "StartInstances": action(start_instances, "ec2:StartInstances", resources=_INSTANCES),
    "GetConsoleOutput": action(get_console_output, "ec2:GetConsoleOutput",
                               resources=_INSTANCES),
    "DescribeInstanceStatus": action(describe_instance_status, "ec2:DescribeInstanceStatus"),
    "MonitorInstances": action(monitor_instances, "ec2:MonitorInstances", resources=_INSTANCES),
    "UnmonitorInstances": action(unmonitor_instances, "ec2:UnmonitorInstances",
                                 resources=_INSTANCES),
}
