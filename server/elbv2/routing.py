"""Rule conditions and actions: validated from the request into the API's shapes (as
stored and described), and turned into the data plane's routes."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from server import errors
from server.elb.common import int_value
from server.elbv2 import errors as v2_errors
from server.elbv2.common import component
from server.ports.loadbalancer import Route, RouteCondition
from server.protocol.params import Params
from server.protocol.query import Context

if TYPE_CHECKING:
    from server.elbv2.model import Listener

FIELDS = ("path-pattern", "host-header", "http-header", "query-string",
          "http-request-method", "source-ip")
#: The ``...Config`` member of each condition field.
CONFIGS = {"path-pattern": "PathPatternConfig", "host-header": "HostHeaderConfig",
           "http-header": "HttpHeaderConfig", "query-string": "QueryStringConfig",
           "http-request-method": "HttpRequestMethodConfig", "source-ip": "SourceIpConfig"}
ACTION_TYPES = ("forward", "fixed-response", "redirect")
CONTENT_TYPES = ("text/plain", "text/css", "text/html", "application/javascript",
                 "application/json")
MAX_CONDITION_VALUES = 5
MAX_FORWARD_GROUPS = 5
_METHOD = re.compile(r"^[A-Z_-]{1,40}$")
#: Header names as the data plane can name them (letters, digits, ``-``, ``_``, ``.``).
_HEADER = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
#: Characters a redirect's parts may not hold (they end up in HAProxy's configuration).
_UNSAFE = re.compile(r'[\s"\\]')


# -- conditions -----------------------------------------------------------------------------
def parse_conditions(ctx: Context, raw: list[Params]) -> list[dict[str, Any]]:
    """``Conditions.member.N`` validated, in the shape DescribeRules answers."""
    out = []
    seen: set[str] = set()
    wildcards = 0
    for cond in raw:
        field = cond.str("Field", required=True)
        if field not in FIELDS:
            raise errors.ValidationError(f"Condition field '{field[:64]}' must be one of "
                                         f"{', '.join(FIELDS)}")
        config = cond.struct(CONFIGS[field])
        item: dict[str, Any] = {"Field": field}
        if field == "http-header":
            name = config.str("HttpHeaderName", required=True)
            if not _HEADER.match(name):
                raise errors.ValidationError(f"Invalid HTTP header name '{name[:64]}'")
            values = config.strings("Values")
            item[CONFIGS[field]] = {"HttpHeaderName": name, "Values": values}
        elif field == "query-string":
            pairs = [{"Key": p.str("Key"), "Value": p.str("Value", required=True)}
                     for p in config.structs("Values")]
            values = [f"{p['Key'] or ''}={p['Value']}" for p in pairs]
            item[CONFIGS[field]] = {"Values": [{k: v for k, v in p.items() if v is not None}
                                               for p in pairs]}
        else:
            legacy = cond.strings("Values")
            values = config.strings("Values") or legacy
            if legacy and config.strings("Values"):
                raise errors.ValidationError(f"Specify either Values or {CONFIGS[field]} "
                                             "in a condition, not both")
            if field in ("path-pattern", "host-header") and legacy:
                item["Values"] = list(values)
            item[CONFIGS[field]] = {"Values": list(values)}
        if field != "http-header" and field in seen:
            raise errors.ValidationError(f"A rule can have only one '{field}' condition")
        seen.add(field)
        if not values:
            raise errors.ValidationError(f"A '{field}' condition needs at least one value")
        if len(values) > MAX_CONDITION_VALUES:
            raise errors.ValidationError(f"A condition can have at most "
                                         f"{MAX_CONDITION_VALUES} values")
        for value in values:
            _check_value(field, value)
            wildcards += value.count("*") + value.count("?")
        out.append(item)
    if wildcards > 5:
        raise errors.ValidationError("A rule can have at most 5 wildcards in its conditions")
    return out


def _check_value(field: str, value: str) -> None:
    if not value or len(value) > 128:
        raise errors.ValidationError(f"A '{field}' value must be 1 to 128 characters")
    if field == "http-request-method" and not _METHOD.match(value):
        raise errors.ValidationError(f"Invalid HTTP request method '{value[:64]}'")
    if field == "source-ip":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise errors.ValidationError(f"Invalid source IP CIDR '{value[:64]}'") from None
        if "/" not in value:
            raise errors.ValidationError(f"Source IP '{value[:64]}' must be in CIDR notation")
    if "\n" in value or "\r" in value:
        raise errors.ValidationError(f"Invalid '{field}' value")


def _wild(value: str, anchor: bool = True) -> str:
    """A wildcard pattern (``*`` any characters, ``?`` one) as a regular expression."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
    return f"^{body}$" if anchor else body


def route_conditions(conditions: list[dict[str, Any]]) -> tuple[RouteCondition, ...]:
    """Stored conditions as the data plane's tests (path case-sensitive, the others not)."""
    out = []
    for cond in conditions:
        field = cond["Field"]
        config = cond.get(CONFIGS[field]) or {}
        if field == "path-pattern":
            out.append(RouteCondition("path", tuple(_wild(v) for v in config["Values"])))
        elif field == "host-header":
            out.append(RouteCondition("host", tuple("(?i)" + _wild(v)
                                                    for v in config["Values"])))
        elif field == "http-header":
            out.append(RouteCondition(f"hdr:{config['HttpHeaderName']}",
                                      tuple("(?i)" + _wild(v) for v in config["Values"])))
        elif field == "query-string":
            pats = []
            for pair in config["Values"]:
                key = _wild(pair["Key"], False) if pair.get("Key") else "[^=&]*"
                pats.append(f"(?i)(^|&){key}={_wild(pair['Value'], False)}(&|$)")
            out.append(RouteCondition("query", tuple(pats)))
        elif field == "http-request-method":
            out.append(RouteCondition("method", tuple(config["Values"])))
        else:
            out.append(RouteCondition("src", tuple(config["Values"])))
    return tuple(out)


# -- actions --------------------------------------------------------------------------------
def parse_actions(ctx: Context, raw: list[Params], lb_type: str) -> list[dict[str, Any]]:
    """``Actions.member.N`` (or DefaultActions) validated: one terminal action (forward,
    fixed-response or redirect), in the shape Describe* answers."""
    if not raw:
        raise errors.ValidationError("At least one action must be specified")
    if len(raw) > 1:
        raise v2_errors.TooManyActions("Only one action (forward, fixed-response or "
                                       "redirect) is supported per rule")
    act = raw[0]
    kind = act.str("Type", required=True)
    if kind not in ACTION_TYPES:
        raise v2_errors.InvalidLoadBalancerAction(
            f"Action type '{kind[:64]}' must be one of {', '.join(ACTION_TYPES)}")
    if lb_type == "network" and kind != "forward":
        raise v2_errors.InvalidLoadBalancerAction(
            "A network load balancer's listeners only forward")
    out: dict[str, Any] = {"Type": kind, "Order": int_value(act.get("Order", 1), "Order", 1,
                                                           50000)}
    if kind == "forward":
        out.update(_forward(ctx, act))
    elif kind == "fixed-response":
        out["FixedResponseConfig"] = _fixed(act.struct("FixedResponseConfig"))
    else:
        out["RedirectConfig"] = _redirect(act.struct("RedirectConfig"))
    return [out]


def _forward(ctx: Context, act: Params) -> dict[str, Any]:
    v2 = component(ctx)
    single = act.str("TargetGroupArn")
    config = act.struct("ForwardConfig")
    groups = [(g.str("TargetGroupArn", required=True),
               int_value(g.get("Weight", 1), "Weight", 0, 999))
              for g in config.structs("TargetGroups")]
    if single and groups and (len(groups) > 1 or groups[0][0] != single):
        raise errors.ValidationError("TargetGroupArn and ForwardConfig name different target "
                                     "groups")
    if not groups:
        if not single:
            raise errors.ValidationError("A forward action needs a TargetGroupArn or a "
                                         "ForwardConfig")
        groups = [(single, 1)]
    if len(groups) > MAX_FORWARD_GROUPS:
        raise v2_errors.TooManyTargetGroups(f"A forward action can name at most "
                                            f"{MAX_FORWARD_GROUPS} target groups")
    if len({a for a, _ in groups}) != len(groups):
        raise errors.ValidationError("A target group is named twice in one forward action")
    for arn, _ in groups:
        tg = v2.tgs.get(arn)
        if tg is None or tg.account_id != ctx.account_id:
            raise v2_errors.TargetGroupNotFound(f"Target group '{arn}' not found")
    sticky = config.struct("TargetGroupStickinessConfig")
    stick: dict[str, Any] = {"Enabled": bool(sticky.bool("Enabled", False))}
    if stick["Enabled"]:
        stick["DurationSeconds"] = int_value(sticky.get("DurationSeconds", 3600),
                                             "DurationSeconds", 1, 604800)
    out: dict[str, Any] = {"ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in groups],
        "TargetGroupStickinessConfig": stick}}
    if len(groups) == 1:
        out["TargetGroupArn"] = groups[0][0]
    return out


def _fixed(config: Params) -> dict[str, Any]:
    code = config.str("StatusCode", required=True)
    if not re.match(r"^[245]\d\d$", code):
        raise errors.ValidationError(f"Fixed response status code '{code[:16]}' must be 2XX, "
                                     "4XX or 5XX")
    out = {"StatusCode": code}
    ctype = config.str("ContentType")
    if ctype is not None:
        if ctype not in CONTENT_TYPES:
            raise errors.ValidationError(f"Content type '{ctype[:64]}' must be one of "
                                         f"{', '.join(CONTENT_TYPES)}")
        out["ContentType"] = ctype
    body = config.str("MessageBody")
    if body is not None:
        if len(body) > 1024:
            raise errors.ValidationError("A fixed response's message body is at most 1024 "
                                         "characters")
        out["MessageBody"] = body
    return out


def _redirect(config: Params) -> dict[str, Any]:
    code = config.str("StatusCode", required=True)
    if code not in ("HTTP_301", "HTTP_302"):
        raise errors.ValidationError(f"Redirect status code '{code[:16]}' must be HTTP_301 or "
                                     "HTTP_302")
    out = {"Protocol": config.str("Protocol", "#{protocol}"),
           "Port": config.str("Port", "#{port}"), "Host": config.str("Host", "#{host}"),
           "Path": config.str("Path", "/#{path}"), "Query": config.str("Query", "#{query}"),
           "StatusCode": code}
    if out["Protocol"] not in ("#{protocol}", "HTTP", "HTTPS"):
        raise errors.ValidationError("Redirect protocol must be HTTP, HTTPS or #{protocol}")
    if out["Port"] != "#{port}":
        int_value(out["Port"], "Redirect port", 1, 65535)
    if not out["Path"].startswith("/"):
        raise errors.ValidationError("A redirect path must start with '/'")
    for key in ("Host", "Path", "Query"):
        if _UNSAFE.search(out[key]) or len(out[key]) > 128:
            raise errors.ValidationError(f"Invalid redirect {key.lower()} '{out[key][:64]}'")
    if all(out[k] == d for k, d in (("Protocol", "#{protocol}"), ("Port", "#{port}"),
                                    ("Host", "#{host}"), ("Path", "/#{path}"),
                                    ("Query", "#{query}"))):
        raise errors.ValidationError("A redirect must change at least one of protocol, port, "
                                     "host, path or query (it would loop)")
    return out


def tg_arns(actions: list[dict[str, Any]]) -> list[str]:
    """The target groups the actions forward to."""
    out = []
    for act in actions:
        if act["Type"] == "forward":
            out += [g["TargetGroupArn"] for g in act["ForwardConfig"]["TargetGroups"]]
    return out


def to_route(conditions: list[dict[str, Any]], actions: list[dict[str, Any]],
             listener: Listener, backend: dict[str, str]) -> Route:
    """A rule as the data plane's route (``backend``: target group ARN -> backend name)."""
    act = actions[0]
    conds = route_conditions(conditions)
    if act["Type"] == "forward":
        groups = tuple((backend[g["TargetGroupArn"]], int(g["Weight"]))
                       for g in act["ForwardConfig"]["TargetGroups"]
                       if g["TargetGroupArn"] in backend)
        return Route(conds, "forward", forward=groups)
    if act["Type"] == "fixed-response":
        fixed = act["FixedResponseConfig"]
        return Route(conds, "fixed-response", status=int(fixed["StatusCode"]),
                     content_type=fixed.get("ContentType", "text/plain"),
                     body=fixed.get("MessageBody", ""))
    red = act["RedirectConfig"]
    bare = _location({**red, "Query": ""}, listener) if red["Query"] == "#{query}" else ""
    return Route(conds, "redirect", status=int(red["StatusCode"][5:]),
                 location=_location(red, listener), location_bare=bare)


def _location(red: dict[str, str], listener: Listener) -> str:
    """The redirect's Location as an HAProxy log-format string."""
    def fmt(text: str) -> str:
        text = text.replace("%", "%%")
        for name, value in (("#{protocol}", listener.protocol.lower()),
                            ("#{port}", str(listener.port)),
                            ("#{host}", "%[req.hdr(host),field(1,:)]"),
                            ("#{path}", "%[path,bytes(1)]"), ("#{query}", "%[query]")):
            text = text.replace(name, value)
        return text

    proto = red["Protocol"].lower() if red["Protocol"] != "#{protocol}" \
        else listener.protocol.lower()
    out = f"{proto}://{fmt(red['Host'])}:{fmt(red['Port'])}{fmt(red['Path'])}"
    if red["Query"]:
        out += "?" + fmt(red["Query"])
    return out
