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


def _conditions_hold(cond: Any, context: dict[str, str]) -> bool:
    """The subset of condition operators S3 users rely on most; unknown ones never match."""
    if not cond:
        return True
    if not isinstance(cond, dict):
        return False
    for op, tests in cond.items():
        if not isinstance(tests, dict):
            return False
        for key, wanted in tests.items():
            actual = context.get(key.lower())
            wanted_list = [str(w) for w in _list(wanted)]
            if op == "StringEquals":
                ok = actual is not None and actual in wanted_list
            elif op == "StringNotEquals":
                ok = actual is None or actual not in wanted_list
            elif op == "StringLike":
                ok = actual is not None and _match(wanted_list, actual)
            elif op == "StringNotLike":
                ok = actual is None or not _match(wanted_list, actual)
            elif op == "Bool":
                ok = (actual or "false").lower() == wanted_list[0].lower()
            elif op == "IpAddress":
                ok = actual is not None and _ip_in(actual, wanted_list)
            elif op == "NotIpAddress":
                ok = actual is None or not _ip_in(actual, wanted_list)
            else:
                return False
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
