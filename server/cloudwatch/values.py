"""Reading CloudWatch parameters that arrive as strings (Query) or typed values (JSON, CBOR)."""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import math
from typing import Any

from server import errors

UNITS = frozenset({
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None"})
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

ResourceNotFound = type("ResourceNotFound", (errors.AWSError,),
                        {"code": "ResourceNotFound", "status": 404,
                         "__doc__": "AWS error ResourceNotFound."})
LimitExceeded = type("LimitExceeded", (errors.AWSError,),
                     {"code": "LimitExceeded", "status": 400,
                      "__doc__": "AWS error LimitExceeded."})
InvalidNextToken = type("InvalidNextToken", (errors.AWSError,),
                        {"code": "InvalidNextToken", "status": 400,
                         "__doc__": "AWS error InvalidNextToken."})
InvalidFormat = type("InvalidFormat", (errors.AWSError,),
                     {"code": "InvalidFormat", "status": 400,
                      "__doc__": "AWS error InvalidFormat."})


def invalid(value: Any, name: str) -> errors.AWSError:
    """AWS's "The value X for parameter NAME is invalid." error."""
    return errors.InvalidParameterValue(f"The value {value} for parameter {name} is invalid.")


def text(data: dict[str, Any], key: str, name: str = "", *, required: bool = False,
         max_len: int = 255) -> str | None:
    """A string member (``name`` is its full parameter path for messages)."""
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise errors.MissingParameter(f"The parameter {name or key} is required.")
        return None
    if not isinstance(value, str):
        raise invalid(value, name or key)
    if len(value) > max_len:
        raise errors.InvalidParameterValue(
            f"The parameter {name or key} must be shorter than {max_len + 1} characters.")
    return value


def number(value: Any, name: str) -> float:
    """A finite double."""
    if isinstance(value, bool):
        raise invalid(value, name)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise invalid(value, name) from None
    if not math.isfinite(out):
        raise invalid(value, name)
    return out


def integer(value: Any, name: str) -> int:
    """An integer."""
    if isinstance(value, bool):
        raise invalid(value, name)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise invalid(value, name) from None
        if f != int(f):
            raise invalid(value, name) from None
        return int(f)


def boolean(value: Any, name: str, default: bool) -> bool:
    """A boolean (``true``/``false`` in the Query protocol)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise invalid(value, name)


def timestamp(value: Any, name: str) -> float:
    """Unix time from a CBOR datetime, a JSON number or an ISO 8601 string."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return float(value.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise invalid(value, name) from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.UTC)
        return t.timestamp()
    raise invalid(value, name)


def items(data: dict[str, Any], key: str) -> list[Any]:
    """A list member (absent: empty)."""
    value = data.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, dict):  # a Query list given by one unnumbered member
        return [value]
    if not isinstance(value, list):
        return [value]
    return value


def struct(value: Any, name: str) -> dict[str, Any]:
    """A structure member."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(value, name)
    return value


def dimensions(data: dict[str, Any], key: str, name: str, *, max_count: int = 30,
               values_required: bool = True) -> tuple[tuple[str, str], ...]:
    """A metric's dimensions as sorted ``(name, value)`` pairs."""
    dims = items(data, key)
    if len(dims) > max_count:
        raise errors.InvalidParameterValue(
            f"The collection {name} must not have a size greater than {max_count}.")
    out: dict[str, str] = {}
    for n, d in enumerate(dims, 1):
        d = struct(d, f"{name}.member.{n}")
        dn = text(d, "Name", f"{name}.member.{n}.Name", required=True)
        dv = text(d, "Value", f"{name}.member.{n}.Value", required=values_required,
                  max_len=1024)
        assert dn is not None
        if dn in out:
            raise errors.InvalidParameterValue(
                f"No Metric may specify the same dimension name twice: {dn}")
        out[dn] = dv if dv is not None else ""
    return tuple(sorted(out.items()))


def page_token(offset: int) -> str:
    """An opaque NextToken for ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def page_offset(token: Any) -> int:
    """The offset a NextToken stands for."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidNextToken("The service cannot process the token.") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidNextToken("The service cannot process the token.")
    return offset
