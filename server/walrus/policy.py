"""Bucket policies: validation on PUT and evaluation (explicit deny > allow > ACL)."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from server.auth.identity import Principal
from server.walrus import errors as e

ALLOW, DENY = "Allow", "Deny"


def validate(text: bytes, bucket: str) -> str:
    """Check a policy document; returns it as text."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise e.MalformedPolicy("Policies must be valid JSON and the first byte must be "
                                "'{'") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), (list, dict)):
        raise e.MalformedPolicy("Missing required field Statement")
    for st in _statements(doc):
        if st.get("Effect") not in (ALLOW, DENY):
            raise e.MalformedPolicy("Invalid effect")
        if "Action" not in st and "NotAction" not in st:
            raise e.MalformedPolicy("Missing required field Action")
        if "Principal" not in st and "NotPrincipal" not in st:
            raise e.MalformedPolicy("Missing required field Principal")
        for res in _list(st.get("Resource", [])):
            if not str(res).startswith(f"arn:aws:s3:::{bucket}"):
                raise e.MalformedPolicy("Policy has invalid resource")
    return text.decode("utf-8")


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc.get("Statement", [])
    return [st] if isinstance(st, dict) else [s for s in st if isinstance(s, dict)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(spec: Any, principal: Principal) -> bool:
    if spec == "*":
        return True
    if isinstance(spec, dict):
        values = _list(spec.get("AWS", [])) + _list(spec.get("CanonicalUser", []))
    else:
        values = _list(spec)
    for value in values:
        value = str(value)
        if value == "*":
            return True
        if principal.anonymous:
            continue
        if value in (principal.account_id, principal.arn(),
                     f"arn:aws:iam::{principal.account_id}:root"):
            return True
        if value == f"arn:aws:iam::{principal.account_id}:user/{principal.user_name}":
            return True
    return False


def _match(patterns: Any, value: str, *, case: bool = True) -> bool:
    for pattern in _list(patterns):
        pattern = str(pattern)
        if not case:
            pattern, value = pattern.lower(), value.lower()
        if fnmatch.fnmatchcase(value, pattern.replace("[", "[[]")):
            return True
    return False


def _numeric(op: str, actual: str | None, wanted: list[str]) -> bool:
    try:
        a = float(actual) if actual not in (None, "") else None
        values = [float(w) for w in wanted]
    except ValueError:
        return False
    if a is None:
        return False
    test = {"NumericEquals": a.__eq__, "NumericNotEquals": a.__ne__,
            "NumericLessThan": a.__lt__, "NumericLessThanEquals": a.__le__,
            "NumericGreaterThan": a.__gt__, "NumericGreaterThanEquals": a.__ge__}[op]
    return any(test(v) for v in values)


def _condition(op: str, actual: str | None, wanted: list[str]) -> bool | None:
    """One operator on one key; None for an operator this evaluator does not know."""
    if op in ("StringEquals", "ArnEquals"):
        return actual is not None and actual in wanted
    if op in ("StringNotEquals", "ArnNotEquals"):
        return actual is None or actual not in wanted
    if op == "StringEqualsIgnoreCase":
        return actual is not None and actual.lower() in [w.lower() for w in wanted]
    if op == "StringNotEqualsIgnoreCase":
        return actual is None or actual.lower() not in [w.lower() for w in wanted]
    if op in ("StringLike", "ArnLike"):
        return actual is not None and _match(wanted, actual)
    if op in ("StringNotLike", "ArnNotLike"):
        return actual is None or not _match(wanted, actual)
    if op == "Bool":
        return (actual or "false").lower() == wanted[0].lower()
    if op == "IpAddress":
        return actual is not None and _ip_in(actual, wanted)
    if op == "NotIpAddress":
        return actual is None or not _ip_in(actual, wanted)
    if op == "Null":
        return (actual is None) == (wanted[0].lower() == "true")
    if op.startswith("Numeric"):
        return _numeric(op, actual, wanted) if op != "NumericNotEquals" or actual else True
    return None


def _conditions_hold(cond: Any, context: dict[str, str]) -> bool:
    """IAM condition operators on request context keys; an unknown operator never matches."""
    if not cond:
        return True
    if not isinstance(cond, dict):
        return False
    for op, tests in cond.items():
        if not isinstance(tests, dict):
            return False
        if_exists = op.endswith("IfExists")
        base = op[:-len("IfExists")] if if_exists else op
        for key, wanted in tests.items():
            actual = context.get(key.lower())
            if actual == "":
                actual = None
            if if_exists and actual is None:
                continue
            ok = _condition(base, actual, [str(w) for w in _list(wanted)])
            if not ok:
                return False
    return True


def _ip_in(address: str, networks: list[str]) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
    except ValueError:
        return False


def evaluate(policy_text: str | None, principal: Principal, action: str, resource: str,
             context: dict[str, str] | None = None) -> str | None:
    """``Deny``, ``Allow`` or None (no statement applies) for one request."""
    if not policy_text:
        return None
    try:
        doc = json.loads(policy_text)
    except ValueError:
        return None
    result = None
    for st in _statements(doc):
        if "Principal" in st and not _principal_matches(st["Principal"], principal):
            continue
        if "NotPrincipal" in st and _principal_matches(st["NotPrincipal"], principal):
            continue
        if "Action" in st and not _match(st["Action"], action, case=False):
            continue
        if "NotAction" in st and _match(st["NotAction"], action, case=False):
            continue
        if "Resource" in st and not _match(st["Resource"], resource):
            continue
        if "NotResource" in st and _match(st["NotResource"], resource):
            continue
        if not _conditions_hold(st.get("Condition"), context or {}):
            continue
        if st.get("Effect") == DENY:
            return DENY
        result = ALLOW
    return result
