"""Application and network load balancers (the elbv2 API, 2015-12-01) for the load balancer
view: the calls that list them and describe the selected one, and their table rows.

elbv2 shares the classic service's endpoint and signing scope; requests are told apart by
their ``Version`` (as in AWS), so every call here goes to ``elasticloadbalancing`` with the
elbv2 version.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from .cells import Cell, Row, as_list, short_time, styled
from .cloud import CloudAPI, ServiceError

API_VERSION = "2015-12-01"
#: Balancers asked for per refresh: one page (the API's largest), whatever the cloud holds.
PAGE_SIZE = 400

#: A redirect's parts that keep the request's own (what AWS fills in when a part is not given).
REDIRECT_DEFAULTS = {"Protocol": "#{protocol}", "Host": "#{host}", "Port": "#{port}",
                     "Path": "/#{path}", "Query": "#{query}"}

RULE_COLUMNS = ("Listener", "Priority", "Conditions", "Action")
TARGET_GROUP_COLUMNS = ("Name", "Protocol", "Port", "Target type", "Healthy")
TARGET_COLUMNS = ("Target", "Port", "Zone", "State", "Reason", "Description")


def call(cloud: CloudAPI, action: str, params: dict[str, Any] | None = None) -> Any:
    """One elbv2 action at the load balancing endpoint."""
    return cloud.call_service("elasticloadbalancing", action, {**(params or {}), "Version": API_VERSION})


def is_v2(key: str | None) -> bool:
    """Whether a balancer table key is an elbv2 balancer's (its ARN; classic names hold no ':')."""
    return bool(key) and str(key).startswith("arn:")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in as_list(value) if isinstance(v, dict)]


# -- fetching ----------------------------------------------------------------------------------
def fetch_balancers(cloud: CloudAPI) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], bool]:
    """One page of elbv2 balancers, each one's listeners (for the list's Listeners column), and
    whether more balancers than the page exist."""
    response = call(cloud, "DescribeLoadBalancers", {"PageSize": PAGE_SIZE})
    balancers = _dicts(_dict(response).get("LoadBalancers"))
    listeners: dict[str, list[dict[str, Any]]] = {}
    for lb in balancers:
        arn = str(lb.get("LoadBalancerArn", ""))
        try:
            answer = call(cloud, "DescribeListeners", {"LoadBalancerArn": arn})
            listeners[arn] = _dicts(_dict(answer).get("Listeners"))
        except ServiceError:
            listeners[arn] = []  # gone between the two calls: the next refresh drops it
    return balancers, listeners, bool(_dict(response).get("NextMarker"))


def fetch_detail(cloud: CloudAPI, balancer: dict[str, Any],
                 listeners: list[dict[str, Any]]) -> dict[str, Any]:
    """The rules of each listener of one balancer, its target groups and their targets' health
    (a group whose health cannot be read gets the reason instead)."""
    arn = str(balancer.get("LoadBalancerArn", ""))
    rules: dict[str, list[dict[str, Any]]] = {}
    for lsn in listeners:
        lsn_arn = str(lsn.get("ListenerArn", ""))
        default: list[dict[str, Any]] = [{"Priority": "default", "Conditions": [], "IsDefault": True,
                    "Actions": lsn.get("DefaultActions"), "RuleArn": f"{lsn_arn}/default"}]
        if balancer.get("Type") == "network":
            rules[lsn_arn] = default  # network listeners have no rules, only their action
            continue
        try:
            rules[lsn_arn] = _dicts(_dict(call(cloud, "DescribeRules", {"ListenerArn": lsn_arn})).get("Rules"))
        except ServiceError:
            rules[lsn_arn] = default
    groups = _dicts(_dict(call(cloud, "DescribeTargetGroups", {"LoadBalancerArn": arn})).get("TargetGroups"))
    health: dict[str, list[dict[str, Any]] | str] = {}
    for group in groups:
        tg_arn = str(group.get("TargetGroupArn", ""))
        try:
            health[tg_arn] = _dicts(_dict(call(cloud, "DescribeTargetHealth", {"TargetGroupArn": tg_arn}))
                                    .get("TargetHealthDescriptions"))
        except ServiceError as err:
            health[tg_arn] = f"{err.message} ({err.code})"
    return {"arn": arn, "rules": rules, "groups": groups, "health": health}


def target_params(group_arn: str, target: str, port: str = "") -> dict[str, Any]:
    """Register/DeregisterTargets parameters for one target (the group's port when none)."""
    member: dict[str, Any] = {"Id": target}
    if port:
        member["Port"] = port
    return {"TargetGroupArn": group_arn, "Targets.member": [member]}


# -- rows ----------------------------------------------------------------------------------------
def listener_text(lsn: dict[str, Any]) -> str:
    """``HTTP:80`` for one listener."""
    return f"{lsn.get('Protocol', '')}:{lsn.get('Port', '')}"


def balancer_rows(balancers: list[dict[str, Any]],
                  listeners: dict[str, list[dict[str, Any]]]) -> list[Row]:
    """Rows of the load balancer table for elbv2 balancers (keyed by ARN): name, type, state,
    DNS name, scheme, zones, listeners, in service ('-': only the selected balancer's health
    is asked for, and its view fills it in) and created."""
    rows: list[Row] = []
    for lb in balancers:
        arn = str(lb.get("LoadBalancerArn", ""))
        zones = ",".join(str(z.get("ZoneName", "")) for z in _dicts(lb.get("AvailabilityZones")))
        shown = ",".join(listener_text(lsn) for lsn in sorted(
            listeners.get(arn, []), key=lambda x: int(x.get("Port") or 0)))
        state = str(_dict(lb.get("State")).get("Code", ""))
        cells: tuple[Cell, ...] = (
            str(lb.get("LoadBalancerName", "")), str(lb.get("Type", "")), styled(state),
            str(lb.get("DNSName", "")), str(lb.get("Scheme", "")), zones, shown, Text("-", style="dim"),
            short_time(str(lb.get("CreatedTime", ""))))
        rows.append((arn, cells))
    return rows


def _values(cond: dict[str, Any]) -> list[str]:
    """The values of one rule condition, whichever shape carries them."""
    field = str(cond.get("Field", ""))
    config_key = "".join(part.capitalize() for part in field.split("-")) + "Config"
    config = _dict(cond.get(config_key))
    raw = as_list(config.get("Values")) or as_list(cond.get("Values"))
    out = []
    for value in raw:
        if isinstance(value, dict):  # query strings: Key=Value (Key optional)
            key = value.get("Key")
            out.append(f"{key}={value.get('Value', '')}" if key else str(value.get("Value", "")))
        else:
            out.append(str(value))
    return out


def condition_text(cond: dict[str, Any]) -> str:
    """``path-pattern=/img/*`` (several values joined by ``|``; a header with its name)."""
    field = str(cond.get("Field", ""))
    header = _dict(cond.get("HttpHeaderConfig")).get("HttpHeaderName")
    name = f"{field}[{header}]" if header else field
    return f"{name}={'|'.join(_values(cond))}"


def group_name(arn: str) -> str:
    """A target group's name from its ARN (``...:targetgroup/NAME/ID``)."""
    parts = arn.split(":targetgroup/", 1)
    return parts[1].split("/", 1)[0] if len(parts) == 2 else arn


def action_text(action: dict[str, Any]) -> str:
    """One rule action: ``forward web`` (weights when several), ``fixed 404``, ``redirect ...``."""
    kind = str(action.get("Type", ""))
    if kind == "forward":
        weighted = _dicts(_dict(action.get("ForwardConfig")).get("TargetGroups"))
        if action.get("TargetGroupArn") or len(weighted) <= 1:
            arn = str(action.get("TargetGroupArn") or (weighted[0].get("TargetGroupArn", "") if weighted else ""))
            return f"forward {group_name(arn)}"
        return "forward " + ",".join(f"{group_name(str(g.get('TargetGroupArn', '')))}:{g.get('Weight', 1)}"
                                     for g in weighted)
    if kind == "fixed-response":
        return f"fixed {_dict(action.get('FixedResponseConfig')).get('StatusCode', '')}"
    if kind == "redirect":
        cfg = _dict(action.get("RedirectConfig"))
        # Only the parts it changes: the others keep the request's (AWS's defaults say so).
        parts = " ".join(f"{k.lower()}={cfg[k]}" for k, keep in REDIRECT_DEFAULTS.items()
                         if cfg.get(k) and cfg[k] != keep)
        return f"redirect {str(cfg.get('StatusCode', '')).removeprefix('HTTP_')} {parts}".rstrip()
    return kind


def rule_rows(listeners: list[dict[str, Any]], rules: dict[str, list[dict[str, Any]]]) -> list[Row]:
    """Each listener's rules in priority order, its default rule last."""
    rows: list[Row] = []
    for lsn in sorted(listeners, key=lambda x: int(x.get("Port") or 0)):
        lsn_arn = str(lsn.get("ListenerArn", ""))
        listed = rules.get(lsn_arn, [])
        ordered = sorted(listed, key=lambda r: (str(r.get("Priority")) == "default",
                                                int(str(r.get("Priority"))) if str(r.get("Priority")).isdigit() else 0))
        for rule in ordered:
            conditions = " & ".join(condition_text(c) for c in _dicts(rule.get("Conditions")))
            actions = ", ".join(action_text(a) for a in sorted(
                _dicts(rule.get("Actions")), key=lambda a: int(a.get("Order") or 0)))
            rows.append((str(rule.get("RuleArn", "")), (
                listener_text(lsn), str(rule.get("Priority", "")),
                Text(conditions or "(any)", style="" if conditions else "dim"), actions)))
    return rows


def healthy_cell(states: list[dict[str, Any]] | str | None) -> Cell:
    """``healthy/total`` of one group: green when all are, red when none is, yellow between."""
    if not isinstance(states, list):
        return Text("?", style="dim")
    up = sum(1 for st in states if _dict(st.get("TargetHealth")).get("State") == "healthy")
    total = len(states)
    style = "green" if up == total else "bold red" if up == 0 else "yellow"
    return Text(f"{up}/{total}", style=style if total else "dim")


def target_group_rows(groups: list[dict[str, Any]],
                      health: dict[str, list[dict[str, Any]] | str]) -> list[Row]:
    """The target groups of a balancer with how many of their targets are healthy."""
    return [(str(g.get("TargetGroupArn", "")), (
        str(g.get("TargetGroupName", "")), str(g.get("Protocol", "")), str(g.get("Port", "")),
        str(g.get("TargetType", "")), healthy_cell(health.get(str(g.get("TargetGroupArn", ""))))))
        for g in groups]


def target_key(target: str, port: Any) -> str:
    """The targets table's key of a target: ``ID:PORT``."""
    return f"{target}:{port}"


def health_states(detail: dict[str, Any]) -> dict[str, str]:
    """``{"GROUP/TARGET:PORT": state}`` of every target of a balancer's detail."""
    out: dict[str, str] = {}
    for group, states in detail.get("health", {}).items():
        for desc in states if isinstance(states, list) else []:
            target = _dict(desc.get("Target"))
            key = f"{group_name(group)}/{target_key(str(target.get('Id', '')), target.get('Port', ''))}"
            out[key] = str(_dict(desc.get("TargetHealth")).get("State", ""))
    return out


def target_rows(states: list[dict[str, Any]] | str | None) -> list[Row]:
    """DescribeTargetHealth of one group: each target's state in its colour, reason, description."""
    if not isinstance(states, list):
        return []
    rows: list[Row] = []
    for desc in states:
        target = _dict(desc.get("Target"))
        health = _dict(desc.get("TargetHealth"))
        rows.append((target_key(str(target.get("Id", "")), target.get("Port", "")), (
            str(target.get("Id", "")), str(target.get("Port", "")), str(target.get("AvailabilityZone", "")),
            styled(str(health.get("State", ""))), str(health.get("Reason", "")),
            str(health.get("Description", "")))))
    return rows
