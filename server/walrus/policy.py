"""Bucket policies: S3's validation on PUT, and the S3 condition keys of a request.

Evaluation is the cloud's one policy engine (:mod:`server.auth.policy`): this module
only adds what is S3's own (which resources a bucket policy may name, the ``s3:`` keys).
"""

from __future__ import annotations

from typing import Any

from server.auth.identity import Principal
from server.auth.policies_source import policies_for, principal_ids
from server.auth.policy import ALLOW, DENY, Decision, Request, RequestContext, decide, group
from server.auth.policy_conditions import split_operator
from server.util import loads_json
from server.walrus import errors as e


def validate(text: bytes, bucket: str) -> str:
    """Check a policy document; returns it as text.

    Like S3, every Resource must be able to name this bucket or objects in it (wildcards
    included, so ``arn:aws:s3:::*`` is fine); a resource that can only name another bucket
    is refused with "Policy has invalid resource".
    """
    try:
        doc = loads_json(text)  # bounded nesting: "[" * 5000 is malformed, not a crash
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
        if "Resource" not in st and "NotResource" not in st:
            raise e.MalformedPolicy("Missing required field Resource")
        for res in _list(st.get("Resource", [])) + _list(st.get("NotResource", [])):
            if not _resource_in_bucket(str(res), bucket):
                raise e.MalformedPolicy("Policy has invalid resource")
        cond = st.get("Condition", {})
        if not isinstance(cond, dict):
            raise e.MalformedPolicy("Invalid Condition block")
        for op, tests in cond.items():
            if split_operator(str(op)) is None:
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




def s3_principal_ids(principal: Principal) -> frozenset[str]:
    """What names the caller in a bucket policy: IAM's names plus the account's
    canonical user ID (``{"CanonicalUser": "<64 hex>"}``, the ID S3 shows as Owner)."""
    from server.walrus.acl import canonical_id

    ids = principal_ids(principal)
    if principal.anonymous:
        return ids
    return ids | {canonical_id(principal.account_id)}


def _context(principal: Principal, condition: dict[str, Any] | None) -> RequestContext:
    return RequestContext({"aws:username": principal.user_name,
                           "aws:principalaccount": principal.account_id,
                           "aws:principalarn": principal.arn(), **(condition or {})})


def grants_user(principal: Principal, action: str, resource: str, bucket: dict[str, Any],
                condition: dict[str, Any] | None = None) -> bool:
    """Whether the bucket policy allows this user by name (or everyone), not merely its
    account: a grant to an account delegates to it, and its users still need their own
    Allow, as in AWS."""
    text = bucket.get("policy")
    if not text or principal.anonymous:
        return False
    account_names = {principal.account_id, f"arn:aws:iam::{principal.account_id}:root"}
    ids = frozenset(i for i in s3_principal_ids(principal) if i not in account_names
                    and len(i) != 64)  # nor the account's canonical ID
    return group((text,)).decide(Request(action, resource, ids,
                                         _context(principal, condition))) == ALLOW


def bucket_decision(identity: Any, principal: Principal, action: str, resource: str,
                    bucket: dict[str, Any], condition: dict[str, Any] | None = None
                    ) -> tuple[str | None, Decision]:
    """The bucket policy's verdict (``Allow``, ``Deny`` or None) and the caller's own
    policies' :class:`~server.auth.policy.Decision` on one S3 request.

    ``own.allowed`` is true for the account's admin and for anonymous callers (whose
    access rests on the bucket policy and ACLs alone); a user needs an Allow.
    """
    req = Request(action, resource, s3_principal_ids(principal), _context(principal, condition))
    text = bucket.get("policy")
    verdict = group((text,)).decide(req) if text else None
    if principal.anonymous:
        return verdict, Decision(True)
    return verdict, decide(req, policies_for(identity, principal))
