"""Bucket policies: validation on PUT and evaluation (explicit deny > allow > ACL)."""

from __future__ import annotations

import fnmatch
import json
import operator
import re
from typing import Any

from server.auth.identity import Principal
from server.util import check_json_depth
from server.walrus import errors as e
from server.walrus.acl import canonical_id
from server.walrus.xmlio import iso_timestamp

ALLOW, DENY = "Allow", "Deny"


def validate(text: bytes, bucket: str) -> str:
    """Check a policy document; returns it as text.

    Like S3, every Resource must be able to name this bucket or objects in it (wildcards
    included, so ``arn:aws:s3:::*`` is fine); a resource that can only name another bucket
    is refused with "Policy has invalid resource".
    """
    try:
        doc = check_json_depth(json.loads(text))
    except (ValueError, RecursionError):
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
        if "Resource" not in st and "NotResource" not in st:
            raise e.MalformedPolicy("Missing required field Resource")
        for res in _list(st.get("Resource", [])) + _list(st.get("NotResource", [])):
            if not _resource_in_bucket(str(res), bucket):
                raise e.MalformedPolicy("Policy has invalid resource")
        cond = st.get("Condition", {})
        if not isinstance(cond, dict):
            raise e.MalformedPolicy("Invalid Condition block")
        for op, tests in cond.items():
            if _split_operator(str(op)) is None:
                raise e.MalformedPolicy(f"Invalid Condition type : {op}")
            if not isinstance(tests, dict):
                raise e.MalformedPolicy(f"Invalid Condition block for {op}")
    return text.decode("utf-8")


_S3_ARN = "arn:aws:s3:::"


def _resource_in_bucket(resource: str, bucket: str) -> bool:
    """True when the ARN pattern can match the bucket itself or some object in it."""
    if resource == "*":
        return True
    if not resource.startswith(_S3_ARN):
        return False
    return _glob_can_extend(resource[len(_S3_ARN):], bucket)


def _glob_can_extend(pattern: str, name: str) -> bool:
    """Whether ``pattern`` (``*``/``?`` wildcards) matches ``name`` or ``name/<something>``.

    A small NFA walk: consume ``name``, then the pattern must be able to end there or go
    on with a ``/`` (any rest after a ``/`` or a wildcard can always be satisfied).
    """
    def closure(states: set[int]) -> set[int]:
        out, todo = set(states), list(states)
        while todo:
            i = todo.pop()
            if i < len(pattern) and pattern[i] == "*" and i + 1 not in out:
                out.add(i + 1)  # a star may match nothing
                todo.append(i + 1)
        return out

    states = closure({0})
    for ch in name:
        nxt: set[int] = set()
        for i in states:
            if i < len(pattern):
                if pattern[i] == "*":
                    nxt.add(i)
                elif pattern[i] == "?" or pattern[i] == ch:
                    nxt.add(i + 1)
        states = closure(nxt)
        if not states:
            return False
    return any(i == len(pattern) or pattern[i] in "*?/" for i in states)


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
        if len(value) == 64 and value == canonical_id(principal.account_id):
            return True  # {"CanonicalUser": "<64 hex>"}, the ID S3 shows as Owner
    return False


def _match(patterns: Any, value: str, *, case: bool = True) -> bool:
    for pattern in _list(patterns):
        pattern = str(pattern)
        if not case:
            pattern, value = pattern.lower(), value.lower()
        if fnmatch.fnmatchcase(value, pattern.replace("[", "[[]")):
            return True
    return False


#: The comparisons of the Numeric* and Date* condition operators, by suffix.
_COMPARISONS = {"Equals": operator.eq, "NotEquals": operator.ne, "LessThan": operator.lt,
                "LessThanEquals": operator.le, "GreaterThan": operator.gt,
                "GreaterThanEquals": operator.ge}


def _compare(suffix: str, actual: float, wanted: list[float]) -> bool:
    """One value against the statement's values: any must match, all for NotEquals."""
    test = _COMPARISONS[suffix]
    if suffix == "NotEquals":
        return all(test(actual, v) for v in wanted)
    return any(test(actual, v) for v in wanted)


def _numeric(op: str, actual: str, wanted: list[str]) -> bool:
    try:
        a = float(actual)
        values = [float(w) for w in wanted]
    except ValueError:
        return False
    return _compare(op[len("Numeric"):], a, values)


def _epoch(value: str) -> float | None:
    """An IAM date: ISO 8601 (``2026-01-01T00:00:00Z``, date only too) or epoch seconds."""
    try:
        return float(value)
    except ValueError:
        return iso_timestamp(value)


def _date(op: str, actual: str, wanted: list[str]) -> bool:
    a = _epoch(actual)
    values = [v for v in (_epoch(w) for w in wanted) if v is not None]
    if a is None or not values:
        return False
    return _compare(op[len("Date"):], a, values)


#: Operators whose sense is negative: an absent key satisfies them.
_NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike",
                      "ArnNotEquals", "ArnNotLike", "NotIpAddress", "NumericNotEquals",
                      "DateNotEquals"})
_OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals",
    "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "Null",
})


def _split_operator(op: str) -> tuple[str, str, bool] | None:
    """``(set qualifier, base operator, IfExists)``; None for an unknown operator."""
    qualifier = ""
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if op.startswith(prefix):
            qualifier, op = prefix[:-1], op[len(prefix):]
    if_exists = op.endswith("IfExists") and op != "IfExists"
    base = op[:-len("IfExists")] if if_exists else op
    if base not in _OPERATORS or (if_exists and base == "Null"):
        return None
    return qualifier, base, if_exists


def _condition(op: str, actual: str, wanted: list[str]) -> bool:
    """One operator applied to one present context value."""
    if op in ("StringEquals", "ArnEquals", "BinaryEquals"):
        return actual in wanted
    if op in ("StringNotEquals", "ArnNotEquals"):
        return actual not in wanted
    if op == "StringEqualsIgnoreCase":
        return actual.lower() in [w.lower() for w in wanted]
    if op == "StringNotEqualsIgnoreCase":
        return actual.lower() not in [w.lower() for w in wanted]
    if op in ("StringLike", "ArnLike"):
        return _match(wanted, actual)
    if op in ("StringNotLike", "ArnNotLike"):
        return not _match(wanted, actual)
    if op == "Bool":
        return actual.lower() in [w.lower() for w in wanted]
    if op == "IpAddress":
        return _ip_in(actual, wanted)
    if op == "NotIpAddress":
        return not _ip_in(actual, wanted)
    if op.startswith("Numeric"):
        return _numeric(op, actual, wanted)
    if op.startswith("Date"):
        return _date(op, actual, wanted)
    return False


def _one_test(op: str, values: list[str] | None, wanted: list[str]) -> bool:
    """One ``operator: {key: wanted}`` test; ``values`` is None when the key is absent."""
    split = _split_operator(op)
    if split is None:
        return False  # an unknown operator never matches
    qualifier, base, if_exists = split
    if base == "Null":
        # "Null": true means the key must be absent.
        return (values is None) == (wanted[0].lower() == "true")
    if values is None:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True  # vacuously true over an empty set, as IAM evaluates it
        return base in _NEGATED and not qualifier
    if qualifier == "ForAllValues":
        return all(_condition(base, v, wanted) for v in values)
    if base in _NEGATED and not qualifier:
        # A negated operator on a multi-valued key holds only if no value matches.
        return all(_condition(base, v, wanted) for v in values)
    return any(_condition(base, v, wanted) for v in values)


def _conditions_hold(cond: Any, context: dict[str, Any]) -> bool:
    """IAM condition operators on request context keys; an unknown operator never matches."""
    if not cond:
        return True
    if not isinstance(cond, dict):
        return False
    for op, tests in cond.items():
        if not isinstance(tests, dict):
            return False
        for key, wanted in tests.items():
            raw = context.get(str(key).lower())
            values: list[str] | None
            if raw is None or raw == "" or raw == []:
                values = None
            else:
                values = [str(v) for v in _list(raw)]
            if not _one_test(str(op), values, [str(w) for w in _list(wanted)]):
                return False
    return True


def request_keys(headers: dict[str, str], now: float) -> dict[str, Any]:
    """Condition keys drawn from request headers beyond the plain ``s3:<header>`` ones.

    ``s3:RequestObjectTag/<key>`` and ``s3:RequestObjectTagKeys`` come from
    ``x-amz-tagging`` (URL-encoded ``k=v&...``), plus the KMS key id, object-lock
    headers and the request time (``aws:CurrentTime``, ``aws:EpochTime``).
    """
    import datetime as _dt
    from urllib.parse import parse_qsl

    out: dict[str, Any] = {
        "aws:currenttime": _dt.datetime.fromtimestamp(now, _dt.UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(now)),
    }
    tagging = headers.get("x-amz-tagging")
    if tagging:
        pairs = parse_qsl(tagging, keep_blank_values=True)
        for k, v in pairs:
            out[f"s3:requestobjecttag/{k.lower()}"] = v
        out["s3:requestobjecttagkeys"] = [k for k, _ in pairs]
    for name in ("x-amz-server-side-encryption-aws-kms-key-id", "x-amz-object-lock-mode",
                 "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"):
        if headers.get(name):
            key = name.replace("x-amz-object-lock-", "object-lock-")
            out[f"s3:{key}"] = headers[name]
    return out


def _ip_in(address: str, networks: list[str]) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
    except ValueError:
        return False


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def _substitute(value: Any, context: dict[str, Any]) -> Any:
    """Replace ``${key}`` (and ``${key, 'default'}``) policy variables from the context.

    A variable with no value and no default is left as written, so it matches nothing
    a real request carries.
    """
    if isinstance(value, list):
        return [_substitute(v, context) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, context) for k, v in value.items()}
    if not isinstance(value, str) or "${" not in value:
        return value

    def one(m: re.Match[str]) -> str:
        name, _, default = m.group(1).partition(",")
        name = name.strip()
        if name in _SPECIAL:
            return _SPECIAL[name]
        found = context.get(name.lower())
        if isinstance(found, str) and found:
            return found
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        return m.group(0)

    return _VARIABLE.sub(one, value)


def evaluate(policy_text: str | None, principal: Principal, action: str, resource: str,
             context: dict[str, Any] | None = None) -> str | None:
    """``Deny``, ``Allow`` or None (no statement applies) for one request."""
    if not policy_text:
        return None
    try:
        doc = check_json_depth(json.loads(policy_text))
    except (ValueError, RecursionError):
        return None
    result = None
    context = context or {}
    # Policy variables (${aws:username}, ...) exist only in the 2012-10-17 language.
    variables = isinstance(doc, dict) and doc.get("Version") == "2012-10-17"

    def subst(value: Any) -> Any:
        return _substitute(value, context) if variables else value

    for st in _statements(doc):
        if "Principal" in st and not _principal_matches(st["Principal"], principal):
            continue
        if "NotPrincipal" in st and _principal_matches(st["NotPrincipal"], principal):
            continue
        if "Action" in st and not _match(st["Action"], action, case=False):
            continue
        if "NotAction" in st and _match(st["NotAction"], action, case=False):
            continue
        if "Resource" in st and not _match(subst(st["Resource"]), resource):
            continue
        if "NotResource" in st and _match(subst(st["NotResource"]), resource):
            continue
        if not _conditions_hold(subst(st.get("Condition")), context):
            continue
        if st.get("Effect") == DENY:
            return DENY
        result = ALLOW
    return result


def identity_evaluate(identity: Any, principal: Principal, action: str, resource: str,
                      context: dict[str, Any] | None = None) -> str | None:
    """The caller's own IAM inline policies on one request: ``Deny``, ``Allow`` or None.

    Only IAM users other than the account's ``admin`` carry policies; anonymous callers
    and unknown users have none.  Statements here have no Principal (PutUserPolicy
    refuses one), so :func:`evaluate` applies them as written.
    """
    if principal.anonymous or principal.user_name in ("", "root", "admin"):
        return None
    user = getattr(identity, "users", {}).get((principal.account_id, principal.user_name))
    if user is None or not getattr(user, "policies", None):
        return None
    result = None
    for document in user.policies.values():
        decision = evaluate(document, principal, action, resource, context)
        if decision == DENY:
            return DENY
        result = result or decision
    return result

