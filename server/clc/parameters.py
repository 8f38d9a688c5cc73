"""The parameters each EC2 action accepts, so that an unknown one is refused as AWS does
(``UnknownParameter``, 400) instead of being silently ignored.

The names come from AWS's own EC2 API model as botocore ships it (each input member's
wire name: its ``queryName``, else its ``locationName`` capitalized, else its name), read
once on first use.  Only the top-level name is checked (``Filter`` for ``Filter.1.Name``).
Eucalyptus' additions that euca2ools sends are listed in :data:`EUCALYPTUS`; actions that
AWS does not have (Eucalyptus' own) are not checked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from server import errors

#: Parameters every action takes: Eucalyptus' cloud-administrator delegation, and a SigV2
#: request's expiry time.
COMMON = frozenset({"DelegateAccount", "Expires"})

#: Eucalyptus extensions per action (what euca2ools and the Eucalyptus API accept beyond
#: AWS's model).
EUCALYPTUS: dict[str, frozenset[str]] = {
    "RunInstances": frozenset({"AddressingType"}),
    "RegisterImage": frozenset({"Platform"}),
    "DescribeInstanceTypes": frozenset({"Availability", "Verbose"}),
}

_LOCK = threading.Lock()
_TABLE: dict[str, frozenset[str]] = {}


def _wire_name(name: str, member: dict[str, Any]) -> str:
    """How botocore's ``ec2`` serializer names a member on the wire."""
    if member.get("queryName"):
        return str(member["queryName"])
    location = member.get("locationName")
    if location:
        return str(location[0].upper() + location[1:])
    return name


def _load() -> dict[str, frozenset[str]]:
    from botocore.loaders import create_loader

    model = create_loader().load_service_model("ec2", "service-2")
    shapes = model["shapes"]
    table: dict[str, frozenset[str]] = {}
    for name, operation in model["operations"].items():
        shape = operation.get("input", {}).get("shape")
        members = shapes.get(shape, {}).get("members", {}) if shape else {}
        table[name] = frozenset(_wire_name(n, m) for n, m in members.items())
    return table


def accepted(action: str) -> frozenset[str] | None:
    """The top-level parameter names ``action`` accepts (None: not an AWS action)."""
    with _LOCK:
        if not _TABLE:
            _TABLE.update(_load())
    found = _TABLE.get(action)
    if found is None:
        return None
    return found | COMMON | EUCALYPTUS.get(action, frozenset())


def check(action: str, names: Iterable[str]) -> None:
    """Raise UnknownParameter for the first parameter ``action`` does not know."""
    known = accepted(action)
    if known is None:
        return
    for name in names:
        if name not in known:
            raise errors.AWSError(f"The parameter {name} is not recognized",
                                  code="UnknownParameter")
