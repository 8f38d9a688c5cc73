"""IAM condition operators: String*, Numeric*, Date*, Bool, Binary, IpAddress, Arn*, Null,
with ``...IfExists`` and the ``ForAnyValue:`` / ``ForAllValues:`` set qualifiers.

A condition block is compiled once per policy into :class:`Test` rows; each test is then
run against the request's context keys (looked up lower-cased: key names are
case-insensitive, values are not, except for the ``IgnoreCase`` operators).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import ipaddress
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: The comparisons of the Numeric* and Date* operators, by suffix.
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "Equals": operator.eq, "NotEquals": operator.ne, "LessThan": operator.lt,
    "LessThanEquals": operator.le, "GreaterThan": operator.gt, "GreaterThanEquals": operator.ge}

#: Operators whose sense is negative: an absent key satisfies them.
NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike",
                     "ArnNotEquals", "ArnNotLike", "NotIpAddress", "NumericNotEquals",
                     "DateNotEquals"})
OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike",
    *(f"Numeric{s}" for s in _COMPARISONS), *(f"Date{s}" for s in _COMPARISONS),
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "Null",
})


def split_operator(op: str) -> tuple[str, str, bool] | None:
    """``(set qualifier, base operator, IfExists)``; None for an unknown operator."""
    qualifier = ""
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if op.startswith(prefix):
            qualifier, op = prefix[:-1], op[len(prefix):]
    if_exists = op.endswith("IfExists") and op != "IfExists"
    base = op[:-len("IfExists")] if if_exists else op
    if base not in OPERATORS or (if_exists and base == "Null"):
        return None
    return qualifier, base, if_exists


@lru_cache(maxsize=4096)
def glob_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A ``*``/``?`` wildcard pattern as a compiled whole-string regex."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(patterns: list[str], value: str) -> bool:
    """True when any wildcard pattern matches ``value`` whole."""
    return any(glob_regex(p).fullmatch(value) is not None for p in patterns)


def epoch(value: str) -> float | None:
    """An IAM date: ISO 8601 (``2026-01-01T00:00:00Z``, date only too) or epoch seconds."""
    try:
        return float(value)
    except ValueError:
        pass
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        when = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.timestamp()


def _compare(suffix: str, actual: float, wanted: list[float]) -> bool:
    test = _COMPARISONS[suffix]
    if suffix == "NotEquals":
        return all(test(actual, v) for v in wanted)
    return any(test(actual, v) for v in wanted)


def _numbers(values: list[str], parse: Callable[[str], float | None]) -> list[float]:
    out = []
    for v in values:
        try:
            n = parse(v)
        except ValueError:
            n = None
        if n is not None:
            out.append(n)
    return out


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except (ValueError, TypeError):
        return None


@lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _ip_in(address: str, networks: list[str]) -> bool:
    ip = _address(address)
    if ip is None:
        return False
    for n in networks:
        net = _network(n)
        if net is not None and ip.version == net.version and ip in net:
            return True
    return False


def _binary(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def apply(op: str, actual: str, wanted: list[str]) -> bool:
    """One base operator applied to one present context value."""
    if op == "StringEquals":
        return actual in wanted
    if op == "StringNotEquals":
        return actual not in wanted
    if op == "StringEqualsIgnoreCase":
        return actual.lower() in [w.lower() for w in wanted]
    if op == "StringNotEqualsIgnoreCase":
        return actual.lower() not in [w.lower() for w in wanted]
    if op in ("StringLike", "ArnLike", "ArnEquals"):
        return glob_match(wanted, actual)
    if op in ("StringNotLike", "ArnNotLike", "ArnNotEquals"):
        return not glob_match(wanted, actual)
    if op == "Bool":
        return actual.lower() in [w.lower() for w in wanted]
    if op == "BinaryEquals":
        got = _binary(actual)
        return got is not None and got in [_binary(w) for w in wanted]
    if op == "IpAddress":
        return _ip_in(actual, wanted)
    if op == "NotIpAddress":
        return not _ip_in(actual, wanted)
    if op.startswith("Numeric"):
        nums = _numbers(wanted, float)
        try:
            a = float(actual)
        except ValueError:
            return False
        return bool(nums) and _compare(op[len("Numeric"):], a, nums)
    if op.startswith("Date"):
        a2 = epoch(actual)
        dates = _numbers(wanted, epoch)
        return a2 is not None and bool(dates) and _compare(op[len("Date"):], a2, dates)
    return False


@lru_cache(maxsize=8192)
def matcher(op: str, wanted: tuple[str, ...]) -> Callable[[str], bool]:
    """``apply(op, value, wanted)`` as a function of the value, with the wanted values
    parsed once (networks, numbers, dates, lower-cased strings)."""
    if op == "StringEquals":
        exact = frozenset(wanted)
        return exact.__contains__
    if op == "StringNotEquals":
        exact = frozenset(wanted)
        return lambda v: v not in exact
    if op in ("StringEqualsIgnoreCase", "Bool"):
        lowered = frozenset(w.lower() for w in wanted)
        return lambda v: v.lower() in lowered
    if op == "StringNotEqualsIgnoreCase":
        lowered = frozenset(w.lower() for w in wanted)
        return lambda v: v.lower() not in lowered
    if op in ("IpAddress", "NotIpAddress"):
        nets = [n for n in (_network(w) for w in wanted) if n is not None]
        negate = op == "NotIpAddress"

        def in_networks(v: str) -> bool:
            ip = _address(v)
            found = ip is not None and any(ip.version == n.version and ip in n for n in nets)
            return found != negate

        return in_networks
    if op in ("StringLike", "ArnLike", "ArnEquals", "StringNotLike", "ArnNotLike",
              "ArnNotEquals"):
        regexes = [glob_regex(w) for w in wanted]
        negate = "Not" in op

        def like(v: str) -> bool:
            return any(r.fullmatch(v) is not None for r in regexes) != negate

        return like
    values = list(wanted)
    return lambda v: apply(op, v, values)


@dataclass(frozen=True)
class Test:
    """One ``operator: {key: values}`` entry of a Condition block."""

    qualifier: str
    base: str
    if_exists: bool
    #: The context key, lower-cased.
    key: str
    wanted: tuple[str, ...]
    #: True when a value holds a policy variable (``${aws:username}``).
    variables: bool

    def holds(self, values: list[str] | None, wanted: tuple[str, ...]) -> bool:
        """The test on the key's values (None when the request has no such key)."""
        base = self.base
        if base == "Null":
            # "Null": true means the key must be absent.
            return (values is None) == (wanted[0].lower() == "true")
        if values is None:
            if self.if_exists:
                return True
            if self.qualifier == "ForAllValues":
                return True  # vacuously true over an empty set, as IAM evaluates it
            return base in NEGATED and not self.qualifier
        test = matcher(base, wanted)
        if len(values) == 1:
            return test(values[0])
        if self.qualifier == "ForAllValues" or (base in NEGATED and not self.qualifier):
            # A negated operator on a multi-valued key holds only if no value matches.
            return all(test(v) for v in values)
        return any(test(v) for v in values)


class ConditionError(ValueError):
    """A Condition block that IAM would refuse."""


def compile_block(block: Any) -> tuple[Test, ...]:
    """The tests of one statement's Condition block (ConditionError if malformed)."""
    if not block:
        return ()
    if not isinstance(block, dict):
        raise ConditionError("Syntax errors in policy.")
    tests = []
    for op, entries in block.items():
        split = split_operator(str(op))
        if split is None:
            raise ConditionError(f"Invalid Condition type : {op}")
        if not isinstance(entries, dict):
            raise ConditionError(f"Invalid Condition block for {op}")
        for key, wanted in entries.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if any(isinstance(v, (dict, list)) for v in values):
                raise ConditionError("Syntax errors in policy.")
            strings = tuple(_text(v) for v in values)
            if not strings:
                raise ConditionError(f"Condition {op} has no values for {key}")
            tests.append(Test(*split, str(key).lower(), strings,
                              any("${" in s for s in strings)))
    return tuple(tests)


def _text(value: Any) -> str:
    """JSON scalars as IAM compares them (``true`` -> ``"true"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
