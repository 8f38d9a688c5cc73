"""Eucalyptus cloud-admin service commands: the service registry and its events.

These call the bootstrap (Empyrean) service's DescribeServices,
DescribeAvailableServiceTypes, RegisterService, DeregisterService, ModifyService and
DescribeEvents (cloud admin only).  Service lines are ``SERVICE`` records as
eucalyptus-admin-tools prints them, states in lower case.
"""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

_FILTERS = ("availability-zone", "host", "internal", "public", "service-type", "state")
#: euserv-describe-events' named formats.
EVENT_FORMATS = {"oneline": "{timestamp} {severity} {subject-type} {subject-name} {message}"}
#: An event's tags, in the order they print.
EVENT_KEYS = ("timestamp", "severity", "id", "subject-type", "subject-name", "subject-host",
              "message")


def _state(service: dict[str, Any]) -> str:
    return str(service.get("localState") or "").lower()


def _print_services(inv: Invocation, result: Any) -> None:
    """One ``SERVICE`` line per service, grouped as --by-type (default), --by-zone,
    --by-host or --expert ask; with --show-events, its ``EVENT`` lines after each."""
    services = as_list(result.get("serviceStatuses"))

    def sid(service: dict[str, Any]) -> dict[str, Any]:
        return service.get("serviceId") or {}

    def line(s: dict[str, Any]) -> tuple[Any, ...]:
        i = sid(s)
        if inv.args.get("expert"):
            return ("SERVICE", i.get("fullName"), _state(s), s.get("localEpoch"), i.get("uri"))
        if inv.args.get("by_host"):
            return ("SERVICE", i.get("host"), i.get("type"), i.get("name"), _state(s))
        if inv.args.get("by_zone"):
            return ("SERVICE", i.get("partition"), i.get("type"), i.get("name"), _state(s))
        return ("SERVICE", i.get("type"), i.get("partition"), i.get("name"), _state(s))

    def order(s: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(x) for x in line(s)[1:4])

    for service in sorted(services, key=order):
        inv.emit(*line(service))
        for event in as_list(service.get("statusDetails")):
            inv.emit("EVENT", event.get("timestamp"), event.get("severity"), event.get("message"))


def _print_types(inv: Invocation, result: Any) -> None:
    """``SVCTYPE`` type, groups, description; registrable types unless -a."""
    for t in sorted(as_list(result.get("available")), key=lambda t: str(t.get("componentName"))):
        if str(t.get("registerable", "")).lower() != "false" or inv.args.get("show_all"):
            inv.emit("SVCTYPE", t.get("componentName"), "", t.get("description"))


def _print_one(key: str) -> Any:
    def output(inv: Invocation, result: Any) -> None:
        for s in as_list(result.get(key)):
            sid = s.get("serviceId") or {}
            inv.emit("SERVICE", sid.get("type"), sid.get("partition"), sid.get("name"), _state(s))
    return output


def _print_modified(inv: Invocation, result: Any) -> None:
    status = result.get("serviceStatus") or {}
    sid = status.get("serviceId") or {}
    inv.emit("SERVICE", sid.get("type"), sid.get("partition"), sid.get("name"), _state(status))


def _yaml_scalar(value: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted (JSON strings are valid YAML)."""
    import json
    import re

    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._/:@()+,-]*", value) and ": " not in value \
            and not value.endswith(":"):
        return value
    return json.dumps(value)


def _event_tags(event: dict[str, Any]) -> dict[str, str]:
    tags = {"timestamp": event.get("timestamp"), "severity": event.get("severity"),
            "id": event.get("id"), "subject-type": event.get("serviceType"),
            "subject-name": event.get("serviceName"), "subject-host": event.get("serviceHost"),
            "message": event.get("message")}
    return {k: str(v) for k, v in tags.items() if v not in (None, "")}


def _prepare_events(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    fmt = inv.args.get("format") or "yaml"
    if fmt != "yaml" and fmt not in EVENT_FORMATS and not fmt.startswith("format:"):
        raise ArgumentError(f"argument -f/--format: invalid format {fmt!r}; choose from yaml, "
                            f"{', '.join(EVENT_FORMATS)} or prepend with \"format:\" to build "
                            "your own")


def _print_events(inv: Invocation, result: Any) -> None:
    """The events as YAML (default), one line each (``oneline``) or ``format:STRING``."""
    import collections
    import string

    events = [_event_tags(e) for e in as_list(result.get("events"))]
    fmt = inv.args.get("format") or "yaml"
    if fmt == "yaml":
        if not events:
            inv.echo("events: []")
            return
        inv.echo("events:")
        for event in events:
            first = True
            for key in EVENT_KEYS:
                if key in event:
                    inv.echo(f"{'- ' if first else '  '}{key}: {_yaml_scalar(event[key])}")
                    first = False
        return
    template = fmt.split("format:", 1)[1] if fmt.startswith("format:") else EVENT_FORMATS[fmt]
    for event in events:
        data: dict[str, str] = collections.defaultdict(str)
        data.update({k: v.replace("\n", "\\n") for k, v in event.items()})
        try:
            inv.echo(string.Formatter().vformat(template, (), data))
        except (ValueError, IndexError) as err:
            from ..exceptions import ArgumentError

            raise ArgumentError(f"argument -f/--format: {err}") from None


COMMANDS = [
    Command(
        "euserv-describe-services", "bootstrap", "DescribeServices",
        "[Eucalyptus cloud admin only] Show information about the cloud's services",
        [
            Arg("SVCINSTANCE", dest="ServiceName", nargs="*",
                help="limit results to specific instances of services"),
            Arg("-a", "--all", dest="ListAll", flag=True,
                help="show all services regardless of type"),
            Arg("--show-events", dest="ShowEvents", flag=True,
                help="also show each service's events (EVENT lines: time, severity, message)"),
            Group(Arg("--by-type", name="by_type", flag=True,
                      help="show services by service type (default)"),
                  Arg("--by-zone", name="by_zone", flag=True,
                      help="show services by availability zone"),
                  Arg("--by-host", name="by_host", flag=True, help="show services by host"),
                  Arg("--expert", name="expert", flag=True,
                      help="show advanced information")),
        ],
        filters=_FILTERS,
        output=_print_services,
    ),
    Command(
        "euserv-describe-service-types", "bootstrap", "DescribeAvailableServiceTypes",
        "[Eucalyptus cloud admin only] List available service types",
        [Arg("-a", "--all", name="show_all", flag=True,
             help="show all service types regardless of their properties")],
        output=_print_types,
    ),
    Command(
        "euserv-register-service", "bootstrap", "RegisterService",
        "[Eucalyptus cloud admin only] Register a new instance of a service",
        [
            Arg("SVCINSTANCE", dest="Name", help="a name for the new instance of a service"),
            Arg("-t", "--type", dest="Type", required=True,
                help="the new service instance's type (required)"),
            Arg("-h", "--host", dest="Host", metavar="IP", required=True,
                help="the host the new instance of the service runs on (required)"),
            Arg("--port", dest="Port", type=int,
                help="the port the new instance of the service runs on (default for cluster: "
                     "8774, node: 8775, otherwise: 8773)"),
            Arg("-z", "--availability-zone", dest="Partition", metavar="ZONE", complete="zone",
                help="availability zone to register the new service instance in (required "
                     "for cluster, storage and node)"),
        ],
        output=_print_one("registeredServices"),
    ),
    Command(
        "euserv-deregister-service", "bootstrap", "DeregisterService",
        "[Eucalyptus cloud admin only] Deregister an instance of a service",
        [Arg("SVCINSTANCE", dest="Name", help="name of the service instance to deregister")],
    ),
    Command(
        "euserv-modify-service", "bootstrap", "ModifyService",
        "[Eucalyptus cloud admin only] Change the state of an instance of a service",
        [
            Arg("SVCINSTANCE", dest="Name", help="name of the service instance to modify"),
            Arg("-s", "--state", dest="State", required=True,
                choices=("enable", "disable", "start", "stop"),
                help="the state to change to; for a node controller, disable or stop is "
                     "maintenance mode (no new instances)"),
        ],
        output=_print_modified,
    ),
    Command(
        "euserv-describe-events", "bootstrap", "DescribeEvents",
        "[Eucalyptus cloud admin only] Show information about service-affecting events",
        [
            Arg("-f", "--format", name="format", metavar="FORMAT", default="yaml",
                help='show events in a given format: "yaml" (default), "oneline" or '
                     '"format:STRING" with {timestamp}, {severity}, {id}, {subject-type}, '
                     "{subject-name}, {subject-host} and {message}"),
            Arg("-s", "--show-stack-traces", name="show_stack_traces", flag=True,
                help="also retrieve stack traces (this cloud records none)"),
        ],
        prepare=_prepare_events,
        output=_print_events,
    ),
]
