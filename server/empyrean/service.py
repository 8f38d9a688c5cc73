"""The Empyrean (bootstrap) and Properties services: Eucalyptus' own admin APIs.

``/services/Empyrean`` (SigV4 scope ``bootstrap``): DescribeServices,
DescribeAvailableServiceTypes (alias DescribeServiceTypes), RegisterService,
DeregisterService, ModifyService and DescribeEvents, next to the image-bundling
certificate Walrus serves there.  ``/services/Properties`` (scope ``properties``):
DescribeProperties and ModifyPropertyValue.  All are cloud-administrator actions
(``euserv:*`` and ``euprop:*`` in IAM policies).
"""

from __future__ import annotations

import email.utils
import functools
from typing import TYPE_CHECKING, Any

from server import errors
from server.auth.authz import Action, action
from server.empyrean.properties import Properties
from server.empyrean.registry import API_TYPES, SERVICE_TYPES, Event, ServiceRecord, ServiceRegistry
from server.protocol.query import Context, Handler, QueryService
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.cloud import Cloud

EMPYREAN_PATH = "/services/Empyrean"
PROPERTIES_PATH = "/services/Properties"


def _registry(ctx: Context) -> ServiceRegistry:
    registry: ServiceRegistry = ctx.cloud.components["service_registry"]
    return registry


def _properties(ctx: Context) -> Properties:
    props: Properties = ctx.cloud.components["properties"]
    return props


def _service_arns(ctx: Context) -> list[str]:
    """``arn:euca:eucalyptus:PARTITION:TYPE:NAME/`` of the services a request names."""
    registry = ctx.cloud.components.get("service_registry")
    names = ctx.params.strings("ServiceName") + ctx.params.strings("Name")
    out = []
    for name in names:
        record = registry.services.get(name) if registry is not None else None
        out.append(record.full_name if record else f"arn:euca:eucalyptus:::{name}/")
    return out or ["*"]


def _service_id(record: ServiceRecord, ctx: Context) -> dict[str, Any]:
    uri = f"http://{record.host}:{record.port}/services/{record.type}"
    if record.local:
        apis = [api for api, kind in API_TYPES.items() if kind == record.type]
        secure = ctx.secure_transport and ctx.cloud.https_url is not None
        uri = ctx.cloud.service_url(apis[0], secure=secure) if apis \
            else (ctx.cloud.https_url if secure else ctx.cloud.url) or ctx.cloud.url
    return {"type": record.type, "partition": record.partition, "name": record.name,
            "host": record.host, "port": record.port, "fullName": record.full_name,
            "uri": uri, "uris": [uri]}


def _event_detail(event: Event, record: ServiceRecord | None) -> dict[str, Any]:
    return {"uuid": event.uuid, "timestamp": email.utils.formatdate(event.ts, usegmt=True),
            "severity": event.severity, "serviceName": event.service_name,
            "serviceHost": event.host,
            "serviceFullName": record.full_name if record else "", "message": event.message}


def describe_services(ctx: Context) -> Any:
    """DescribeServices: every service with its state (and its events with ShowEvents)."""
    registry = _registry(ctx)
    records = registry.describe(ctx.params.strings("ServiceName"), ctx.params.filters())
    with_events = ctx.params.bool("ShowEvents", False)
    events: dict[str, list[Event]] = {}
    if with_events:
        for event in registry.events([r.name for r in records]):
            events.setdefault(event.service_name, []).append(event)
    out = []
    for record in records:
        item: dict[str, Any] = {"serviceId": _service_id(record, ctx),
                                "localState": record.state, "localEpoch": 0}
        if with_events:
            item["statusDetails"] = [_event_detail(e, record) for e in events.get(record.name, [])]
        out.append(item)
    return {"serviceStatuses": out}


def describe_service_types(ctx: Context) -> Any:
    """DescribeAvailableServiceTypes: the kinds of service, and which can be registered."""
    return {"available": [
        {"componentName": t.name, "description": t.description,
         "registerable": "true" if t.registerable else "false",
         "requiresPartition": "true" if t.zoned else "false"}
        for t in sorted(SERVICE_TYPES.values(), key=lambda t: t.name)]}


def register_service(ctx: Context) -> Any:
    """RegisterService: record a remote service (Name, Type, Host, Port, Partition)."""
    p = ctx.params
    name = p.str("Name", required=True)
    kind = p.str("Type", required=True)
    host = p.str("Host", required=True)
    port = p.int("Port", None)
    record = _registry(ctx).register(name, kind, host, port, p.str("Partition"))
    return {"registeredServices": [{"serviceId": _service_id(record, ctx),
                                    "localState": record.state}]}


def deregister_service(ctx: Context) -> Any:
    """DeregisterService: forget a registered service."""
    record = _registry(ctx).deregister(ctx.params.str("Name", required=True))
    return {"deregisteredServices": [{"serviceId": _service_id(record, ctx)}]}


def modify_service(ctx: Context) -> Any:
    """ModifyService: State = enable | disable | start | stop."""
    p = ctx.params
    name = p.str("Name", required=True)
    record = _registry(ctx).modify(name, p.str("State", required=True))
    current = _registry(ctx).current(record)
    return {"return": "true", "serviceStatus": {"serviceId": _service_id(current, ctx),
                                                "localState": current.state}}


def describe_events(ctx: Context) -> Any:
    """DescribeEvents: state changes and faults, oldest first (ServiceName.N limits them,
    MaxRecords keeps the newest N)."""
    limit = ctx.params.int("MaxRecords", 1000, minimum=1, maximum=1000)
    registry = _registry(ctx)
    names = ctx.params.strings("ServiceName")
    flagged = registry.connected_by_flags() if names else {}
    for name in names:
        if name not in registry.services and name not in flagged and \
                not registry.events([name], 1):
            raise errors.InvalidParameterValue(f"No such service: {name}")
    return {"events": [
        {"id": e.uuid, "timestamp": iso8601(e.ts), "severity": e.severity,
         "serviceName": e.service_name, "serviceType": e.service_type, "serviceHost": e.host,
         "message": e.message}
        for e in registry.events(names, limit)]}


def describe_properties(ctx: Context) -> Any:
    """DescribeProperties: Property.N names or dotted prefixes; all when none."""
    return {"properties": _properties(ctx).describe(ctx.params.strings("Property"))}


def modify_property_value(ctx: Context) -> Any:
    """ModifyPropertyValue: Name, Value (or Reset=true)."""
    p = ctx.params
    name = p.str("Name", required=True)
    reset = p.bool("Reset", False)
    value = p.get("Value")
    if value is not None and not isinstance(value, str):
        raise errors.InvalidParameterValue("Value must be a string")
    return _properties(ctx).modify(name, value, reset=bool(reset))


def _euserv(handler: Handler, name: str, resources: bool = False) -> Action:
    if resources:
        return action(handler, f"euserv:{name}", resources=_service_arns, cloud_admin=True)
    return action(handler, f"euserv:{name}", cloud_admin=True)


EMPYREAN_ACTIONS: dict[str, Action] = {
    "DescribeServices": _euserv(describe_services, "DescribeServices", resources=True),
    "DescribeAvailableServiceTypes": _euserv(describe_service_types,
                                             "DescribeAvailableServiceTypes"),
    "DescribeServiceTypes": _euserv(describe_service_types, "DescribeServiceTypes"),
    "RegisterService": _euserv(register_service, "RegisterService", resources=True),
    "DeregisterService": _euserv(deregister_service, "DeregisterService", resources=True),
    "ModifyService": _euserv(modify_service, "ModifyService", resources=True),
    "DescribeEvents": _euserv(describe_events, "DescribeEvents", resources=True),
}

PROPERTIES_ACTIONS: dict[str, Action] = {
    "DescribeProperties": action(describe_properties, "euprop:DescribeProperties",
                                 cloud_admin=True),
    "ModifyPropertyValue": action(modify_property_value, "euprop:ModifyPropertyValue",
                                  cloud_admin=True),
}


class EmpyreanService(QueryService):
    """The bootstrap service: the service registry (and what other components add)."""

    signing_names = ("bootstrap",)
    iam_prefix = "euserv"
    path = EMPYREAN_PATH
    api_version = "eucalyptus"
    xmlns = "http://www.eucalyptus.com/ns/empyrean/2012-10-01/"

    def action_table(self) -> dict[str, Handler]:
        """The registry's actions."""
        return dict(EMPYREAN_ACTIONS)


class PropertiesService(QueryService):
    """The cloud properties service (``euctl``)."""

    signing_names = ("properties",)
    iam_prefix = "euprop"
    path = PROPERTIES_PATH
    api_version = "eucalyptus"
    xmlns = "http://www.eucalyptus.com/ns/properties/2012-10-01/"

    def action_table(self) -> dict[str, Handler]:
        """DescribeProperties and ModifyPropertyValue."""
        return dict(PROPERTIES_ACTIONS)


def setup(cloud: Cloud) -> None:
    """Build the registry and the properties, serve both APIs, start with the cloud.

    Walrus serves the cloud certificate at the same path (DescribeServiceCertificates):
    the service already registered there gets the registry's actions added instead."""
    registry = ServiceRegistry(cloud)
    props = Properties(cloud)
    cloud.components["service_registry"] = registry
    cloud.components["properties"] = props
    # Clusters and nodes registered here are connected through the remote ports.
    from server.remote.registration import connect_registered, disconnect_deregistered
    registry.on_register(functools.partial(connect_registered, cloud))
    registry.on_deregister(functools.partial(disconnect_deregistered, cloud))
    existing = cloud.app.by_path.get(EMPYREAN_PATH.lower())
    if isinstance(existing, QueryService):
        existing.actions.update(EMPYREAN_ACTIONS)
    else:
        cloud.app.register(EmpyreanService(cloud))
    cloud.app.register(PropertiesService(cloud))
    # Properties first: the registry's start records an event, and the CCs must run with
    # the administrator's scheduler before anything is placed.
    cloud.start_hooks.append(props.start)
    cloud.start_hooks.append(registry.start)
