"""The cells of the dashboard's tables: row types, state colours and the small readers of
response values that every table's rows use."""

from __future__ import annotations

from typing import Any

from rich.text import Text

Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]

STATE_STYLES = {
    "pending": "bold yellow",
    "running": "bold green",
    "stopping": "yellow",
    "shutting-down": "yellow",
    "stopped": "blue",
    "terminated": "dim red",
    "available": "green",
    "in-use": "cyan",
    "creating": "yellow",
    "completed": "green",
    "error": "bold red",
    "deleting": "yellow",
    "UP": "green",
    "DOWN": "bold red",
    "on": "green",
    "off": "dim",
    # CloudWatch alarm states.
    "OK": "bold green",
    "ALARM": "bold red",
    "INSUFFICIENT_DATA": "bold yellow",
    # Auto Scaling activity status codes.
    "Successful": "green",
    "InProgress": "yellow",
    "PreInService": "yellow",
    "WaitingForSpotInstanceId": "yellow",
    "Failed": "bold red",
    "Cancelled": "dim red",
    # Service states (euserv-describe-services); a DISABLED node is in maintenance.
    "ENABLED": "green",
    "DISABLED": "bold yellow",
    "NOTREADY": "bold red",
    "BROKEN": "bold red",
    "STOPPED": "blue",
    "ERROR": "bold red",
    "WARN": "yellow",
    # Instance health behind a load balancer.
    "InService": "bold green",
    "OutOfService": "bold red",
    "Unknown": "yellow",
    # Application / network balancers (elbv2) and their targets' health.
    "active": "green",
    "provisioning": "yellow",
    "active_impaired": "yellow",
    "failed": "bold red",
    "healthy": "bold green",
    "unhealthy": "bold red",
    "initial": "yellow",
    "draining": "yellow",
    "unused": "dim",
    "unavailable": "dim",
}


def as_list(value: Any) -> list[Any]:
    """A response list; the XML parser turns an empty element into '' or {}."""
    return value if isinstance(value, list) else []


def styled(value: str) -> Text:
    """A state word in its colour."""
    return Text(value, style=STATE_STYLES.get(value, ""))


def tags_of(item: dict[str, Any]) -> dict[str, str]:
    """The ``tagSet`` of a resource as a dict."""
    return {t.get("key", ""): t.get("value", "") for t in as_list(item.get("tagSet"))}


def short_time(stamp: str) -> str:
    """``2026-11-24T07:30:48.177Z`` -> ``2026-11-24 07:30:48``."""
    return stamp.replace("T", " ")[:19]


def to_int(value: Any) -> int:
    """An integer from a response string ('' and garbage are 0)."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0
