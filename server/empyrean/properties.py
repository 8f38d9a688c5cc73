"""Cloud properties: typed, validated settings an administrator changes at run time.

Each :class:`Property` names what it changes in the running cloud (``apply``): the CLC's
``cloud.vmstate.*`` timers, each zone's scheduler and storage limits, the quota defaults.
Its default is the cloud's configuration file value; a changed value is kept in the
database and applied again at every start, so ``euctl`` settings survive restarts.
Values travel as strings (DescribeProperties / ModifyPropertyValue); ``parse`` turns one
into the typed value or raises :class:`ValueError` with the reason, which the API returns
as a 400 InvalidParameterValue.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from server import errors
from server.cc.policies import POLICIES

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

metadata = sa.MetaData()

values_table = sa.Table(
    "euprop_values", metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Property:
    """One cloud property."""

    name: str
    description: str
    #: The default as a string (the configuration file's value).
    default: str
    #: String -> typed value; ValueError names what is wrong.
    parse: Callable[[str], Any]
    #: Puts a typed value into effect in the running cloud.
    apply: Callable[[Any], None]
    #: Typed value -> its canonical string.
    show: Callable[[Any], str] = str


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """A parser of whole numbers in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ValueError(f"{value} is out of range: {bound}")
        return value

    return parse


def minutes(text: str) -> float:
    """A non-negative number of minutes (fractions allowed)."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a number of minutes") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{text!r} is out of range: a number of minutes, 0 or more")
    return value


def show_number(value: float) -> str:
    """``60`` rather than ``60.0``; fractions as they are."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def scheduler(text: str) -> str:
    """A CC placement policy name."""
    name = text.strip().upper()
    if name not in POLICIES:
        raise ValueError(f"{text!r} is not a scheduler: one of {', '.join(sorted(POLICIES))}")
    return name


def subdomain(text: str) -> str:
    """Instances' DNS subdomain, shown with its leading dot (``.eucalyptus.internal``)."""
    domain = text.strip().strip(".").lower()
    labels = domain.split(".")
    if not domain or len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{text!r} is not a DNS domain")
    return domain


def catalog(cloud: Cloud) -> dict[str, Property]:
    """Every property of this cloud, built from its configuration and components."""
    cfg = cloud.config.cloud

    def set_cloud(key: str, scale: float = 1.0) -> Callable[[Any], None]:
        def apply(value: Any) -> None:
            cfg[key] = value * scale if scale != 1.0 else value
        return apply

    def set_subdomain(domain: str) -> None:
        cfg["dns_domain"] = domain
        cache = getattr(cloud.clc, "xml_cache", None)
        if cache is not None:
            cache.clear()  # rendered instances carry their host names

    props = [
        Property("cloud.vmstate.terminated_time",
                 "minutes a terminated instance stays visible in DescribeInstances",
                 show_number(cfg["terminated_retention_seconds"] / 60.0), minutes,
                 set_cloud("terminated_retention_seconds", 60.0), show_number),
        Property("cloud.vmstate.pending_time",
                 "minutes an instance may stay pending before it is terminated (0 = forever)",
                 show_number(cfg["pending_timeout_seconds"] / 60.0), minutes,
                 set_cloud("pending_timeout_seconds", 60.0), show_number),
        Property("cloud.vmstate.instance_subdomain",
                 "DNS subdomain of instances' host names",
                 "." + str(cfg["dns_domain"]), subdomain, set_subdomain, lambda v: "." + v),
        Property("cloud.quota.max_instances_per_account",
                 "instances an account may run at once, by default (0 = unlimited; "
                 "Limit policies can lower it per user)",
                 str(cfg["max_instances_per_account"]), integer(0),
                 set_cloud("max_instances_per_account")),
    ]
    for zone in cloud.config.zones:
        props += _zone_properties(cloud, zone.name, zone.values)
    return {p.name: p for p in props}


def _zone_properties(cloud: Cloud, zone: str, values: dict[str, Any]) -> list[Property]:
    def cc() -> Any:
        return cloud.clusters.get(zone)

    def sc() -> Any:
        zones = getattr(cloud.components.get("sc"), "zones", None)
        return zones.get(zone) if isinstance(zones, dict) else None

    def set_scheduler(name: str) -> None:
        values["scheduler"] = name
        if cc() is not None:
            cc().set_policy(name)

    def set_idle(seconds: int) -> None:
        values["power_idle_seconds"] = float(seconds)
        if cc() is not None:
            cc().power_idle_seconds = float(seconds)

    def set_storage(key: str, attr: str) -> Callable[[int], None]:
        def apply(value: int) -> None:
            values[key] = value
            controller = sc()
            if controller is not None:
                setattr(controller, attr, value)
        return apply

    storage = sc() is not None
    out = [
        Property(f"{zone}.cluster.scheduler",
                 "how the zone's CC places instances: GREEDY, ROUNDROBIN or POWERSAVE",
                 str(values["scheduler"]), scheduler, set_scheduler),
        Property(f"{zone}.cluster.power_idle_seconds",
                 "POWERSAVE: seconds a node stays idle before the CC powers it down",
                 show_number(values["power_idle_seconds"]), integer(1), set_idle),
    ]
    if storage:
        out += [
            Property(f"{zone}.storage.maxvolumesizeingb", "largest volume of the zone, GiB",
                     str(values["max_volume_gb"]), integer(1),
                     set_storage("max_volume_gb", "max_volume_gb")),
            Property(f"{zone}.storage.maxtotalvolumesizeingb",
                     "total size of the zone's volumes, GiB",
                     str(values["max_total_volume_gb"]), integer(1),
                     set_storage("max_total_volume_gb", "max_total_volume_gb")),
            Property(f"{zone}.storage.maxtotalsnapshotsizeingb",
                     "total size of the zone's snapshots, GiB",
                     str(getattr(sc(), "max_total_snapshot_gb", values["max_total_volume_gb"])),
                     integer(1), set_storage("max_total_snapshot_gb", "max_total_snapshot_gb")),
        ]
    return out


class Properties:
    """The cloud's properties: current values, changes persisted and applied."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.engine = cloud.engine
        self.catalog: dict[str, Property] = {}
        self.values: dict[str, str] = {}

    def start(self) -> None:
        """Build the catalog (the components exist now) and apply the stored values."""
        self.catalog = catalog(self.cloud)
        self.values = {name: p.default for name, p in self.catalog.items()}
        with self.engine.connect() as conn:
            stored = dict(conn.execute(sa.select(values_table.c.name, values_table.c.value)).all())
        for name, text in stored.items():
            prop = self.catalog.get(name)
            if prop is None:
                continue  # a zone no longer configured
            try:
                value = prop.parse(text)
            except ValueError as exc:
                log.warning("stored property %s=%r ignored: %s", name, text, exc)
                continue
            prop.apply(value)
            self.values[name] = prop.show(value)

    def describe(self, names: list[str]) -> list[dict[str, str]]:
        """Properties named exactly or by a dotted prefix (``cloud.vmstate``); all when
        no name is given."""
        out = []
        for name in sorted(self.catalog):
            if names and not any(name == n or name.startswith(n.rstrip(".") + ".")
                                 for n in names):
                continue
            prop = self.catalog[name]
            out.append({"name": name, "value": self.values[name],
                        "description": prop.description, "defaultValue": prop.default})
        return out

    def modify(self, name: str, value: str | None, reset: bool = False) -> dict[str, str]:
        """Set (or reset to its default) one property; returns name, value and oldValue."""
        prop = self.catalog.get(name)
        if prop is None:
            raise errors.InvalidParameterValue(f"No such property: {name}")
        text = prop.default if reset else value
        if text is None:
            raise errors.MissingParameter("Value is required unless Reset is true")
        try:
            typed = prop.parse(text)
        except ValueError as exc:
            raise errors.InvalidParameterValue(f"Invalid value for {name}: {exc}") from None
        old = self.values[name]
        prop.apply(typed)
        shown = prop.show(typed)
        self.values[name] = shown
        with self.engine.begin() as conn:
            conn.execute(values_table.delete().where(values_table.c.name == name))
            if not reset:
                conn.execute(values_table.insert().values(name=name, value=shown))
        registry = self.cloud.components.get("service_registry")
        if registry is not None and old != shown:
            registry.record_event("properties", "INFO", f"{name} changed from {old} to {shown}")
        return {"name": name, "value": shown, "oldValue": old}
