"""The Tokens service (STS, API 2011-06-15): caller identity and temporary credentials.

GetSessionToken and AssumeRole issue ``ASIA...`` keys with a session token (see
:mod:`server.auth.sts`); every service accepts them with ``X-Amz-Security-Token``.
"""

from __future__ import annotations

import json
import re
from importlib import import_module
from typing import Any

from server import errors
from server.auth.authz import Action, action
from server.auth.identity import IdentityError, Principal, validate_identity_policy
from server.auth.managed import parse_policy_arn
from server.auth.mfa import check_code, check_serial, mfa_keys
from server.auth.sts import (
    MIN_DURATION,
    ROLE_SESSION_MAX,
    SESSION_POLICY_SIZE,
    SESSION_TOKEN_MAX,
    Session,
    trust_allows,
)
from server.protocol.http import Request
from server.protocol.query import Context, Handler, QueryService
from server.protocol.xml import iso8601

_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
#: A role session assuming another role (role chaining) gets at most an hour.
CHAINED_MAX = 3600


def _credentials(session: Session, token: str) -> dict[str, Any]:
    return {"AccessKeyId": session.key_id, "SecretAccessKey": session.secret,
            "SessionToken": token, "Expiration": iso8601(session.expires)}


def _duration(ctx: Context, default: int, maximum: int) -> int:
    value = ctx.params.str("DurationSeconds")
    if value is None:
        return min(default, maximum)
    try:
        seconds = int(value)
    except ValueError:
        raise errors.ValidationError(f"Value '{value}' at 'durationSeconds' failed to satisfy "
                                     "constraint: Member must be a number") from None
    if seconds < MIN_DURATION:
        raise errors.ValidationError(f"1 validation error detected: Value '{seconds}' at "
                                     "'durationSeconds' failed to satisfy constraint: Member "
                                     f"must have value greater than or equal to {MIN_DURATION}")
    if seconds > maximum:
        raise errors.ValidationError(f"The requested DurationSeconds exceeds the "
                                     f"MaxSessionDuration set for this role ({maximum}).")
    return seconds


def caller_arns(ctx: Context) -> set[str]:
    """The ARNs a trust policy may name the caller by (user with path, role, session)."""
    principal = ctx.principal
    arns = {principal.arn()}
    identity = ctx.cloud.identity
    if principal.role_name:
        role = identity.roles.roles.get((principal.account_id, principal.role_name))
        if role is not None:
            arns.add(role.arn())
    elif principal.user_name:
        user = identity.users.get((principal.account_id, principal.user_name))
        if user is not None:
            arns.add(user.arn())
    return arns


def user_id(ctx: Context, principal: Principal) -> str:
    """GetCallerIdentity's UserId: user ID, account ID for root, ``ROLEID:SESSION``."""
    identity = ctx.cloud.identity
    if principal.role_name:
        role = identity.roles.roles.get((principal.account_id, principal.role_name))
        return f"{role.role_id if role else principal.role_name}:{principal.session_name}"
    if principal.federated_name:
        return f"{principal.account_id}:{principal.federated_name}"
    user = identity.users.get((principal.account_id, principal.user_name))
    if user is None or principal.user_name == "root":
        return principal.account_id
    return user.user_id


def get_caller_identity(ctx: Context) -> Any:
    """GetCallerIdentity: works for every kind of credential."""
    p = ctx.principal
    return {"UserId": user_id(ctx, p), "Account": p.account_id, "Arn": p.arn()}


def _mfa(ctx: Context) -> tuple[str, float]:
    """The MFA a request for credentials proves: ``(serial, time)`` when it carries a
    SerialNumber and a fresh TokenCode of a device assigned to the calling user (checked
    at the cloud's time; AccessDenied otherwise), ``("", 0)`` when it carries neither."""
    serial = ctx.params.str("SerialNumber")
    code = ctx.params.str("TokenCode")
    if serial is None and code is None:
        return "", 0.0
    if serial is None:
        raise errors.ValidationError("SerialNumber is required with TokenCode")
    check_serial(serial)
    if code is None:
        raise errors.AccessDenied("MultiFactorAuthentication failed with invalid MFA one time "
                                  "pass code.")
    check_code(code, "tokenCode")
    identity = ctx.cloud.identity
    p = ctx.principal
    user = "" if p.role_name or p.federated_name else p.user_name
    identity.mfa.verify(p.account_id, user, serial, code)
    return serial, identity.now()


def _caller_mfa(ctx: Context) -> tuple[str, float]:
    """The MFA of the session the caller signs with (a role assumed from an MFA session
    keeps it)."""
    p = ctx.principal
    if not p.session_id:
        return "", 0.0
    session = ctx.cloud.identity.sessions.by_key.get(p.access_key)
    if session is None:
        return "", 0.0
    return session.mfa_serial, session.mfa_time


def get_session_token(ctx: Context) -> Any:
    """GetSessionToken: temporary credentials acting as the calling user; with
    SerialNumber and TokenCode they carry "MFA present" (aws:MultiFactorAuthPresent)."""
    p = ctx.principal
    if p.session_id:
        raise errors.AccessDenied("Cannot call GetSessionToken with session credentials")
    maximum = 3600 if p.user_name == "root" else SESSION_TOKEN_MAX
    duration = _duration(ctx, 43200, maximum)
    serial, when = _mfa(ctx)
    session, token = ctx.cloud.identity.sessions.issue(
        p.account_id, duration, user_name=p.user_name, source_arn=p.arn(), mfa_serial=serial,
        mfa_time=when)
    return {"Credentials": _credentials(session, token)}


def _session_policies(ctx: Context) -> tuple[str, list[str], int]:
    """The Policy and PolicyArns of an AssumeRole request, checked; plus the packed size %."""
    policy = ctx.params.str("Policy", "")
    if policy:
        validate_identity_policy(policy)
    arns = []
    for item in ctx.params.list("PolicyArns"):
        arn = item.get("arn") if isinstance(item, dict) else None
        if not isinstance(arn, str):
            raise errors.ValidationError("PolicyArns entries need an arn")
        parse_policy_arn(arn)
        arns.append(arn)
    if len(arns) > 10:
        raise errors.ValidationError("At most 10 PolicyArns may be given")
    tags = len(ctx.params.list("Tags"))
    packed = len("".join(policy.split())) + 64 * len(arns) + 32 * tags
    percent = packed * 100 // SESSION_POLICY_SIZE
    if percent > 100:
        raise errors.AWSError(f"Packed policy consumes {percent}% of allotted space, please use "
                              "smaller policy.", code="PackedPolicyTooLarge")
    return policy, arns, percent


def assume_role(ctx: Context) -> Any:
    """AssumeRole: the role's trust policy decides; session policies narrow the session."""
    identity = ctx.cloud.identity
    role_arn = ctx.params.str("RoleArn", required=True)
    name = ctx.params.str("RoleSessionName", required=True)
    if not _SESSION_NAME.match(name):
        raise errors.ValidationError(f"1 validation error detected: Value '{name}' at "
                                     "'roleSessionName' failed to satisfy constraint: Member "
                                     "must satisfy regular expression pattern: [\\w+=,.@-]*")
    external = ctx.params.str("ExternalId")
    if external is not None and not _EXTERNAL_ID.match(external):
        raise errors.ValidationError("1 validation error detected: Value at 'externalId' failed "
                                     "to satisfy constraint")
    try:
        role = identity.roles.by_arn(role_arn)
    except IdentityError:
        role = None
    p = ctx.principal
    refusal = errors.AccessDenied(f"User: {p.arn()} is not authorized to perform: "
                                  f"sts:AssumeRole on resource: {role_arn}")
    if role is None:
        raise refusal
    serial, when = _mfa(ctx)
    if not when:
        serial, when = _caller_mfa(ctx)
    context = {"sts:ExternalId": [external]} if external is not None else {}
    context["aws:PrincipalAccount"] = [p.account_id]
    # The trust policy sees the MFA this request proves (or the caller's session had).
    context.update({k: [v] for k, v in mfa_keys(serial, when, identity.now(),
                                                   bool(p.session_id or when)).items()})
    if not trust_allows(role.trust, "sts:AssumeRole", caller_arns(ctx), p.account_id,
                        context=context):
        raise refusal
    maximum = CHAINED_MAX if p.role_name else min(role.max_session, ROLE_SESSION_MAX)
    duration = _duration(ctx, 3600, maximum)
    policy, arns, percent = _session_policies(ctx)
    tags = {}
    for item in ctx.params.structs("Tags"):
        tags[item.str("Key", required=True)] = item.str("Value", "")
    session, token = identity.sessions.issue(
        role.account_id, duration, role_name=role.name, session_name=name, policy=policy,
        policy_arns=arns, tags=tags, source_arn=p.arn(), mfa_serial=serial, mfa_time=when)
    role.last_used = identity.now()
    identity.roles.save(role)
    assumed = f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{name}"
    return {"Credentials": _credentials(session, token),
            "AssumedRoleUser": {"AssumedRoleId": f"{role.role_id}:{name}", "Arn": assumed},
            "PackedPolicySize": percent}


def get_federation_token(ctx: Context) -> Any:
    """GetFederationToken: a federated user with the calling user's permissions narrowed by
    the session policies (none given: no permissions)."""
    p = ctx.principal
    if p.session_id or p.role_name or not p.user_name:
        raise errors.AccessDenied("Cannot call GetFederationToken with session credentials")
    name = ctx.params.str("Name", required=True)
    if not re.match(r"^[\w+=,.@-]{2,32}$", name):
        raise errors.ValidationError(f"1 validation error detected: Value '{name}' at 'name' "
                                     "failed to satisfy constraint: Member must satisfy regular "
                                     "expression pattern: [\\w+=,.@-]+ (2 to 32 characters)")
    maximum = 3600 if p.user_name == "root" else SESSION_TOKEN_MAX
    duration = _duration(ctx, 43200, maximum)
    policy, arns, percent = _session_policies(ctx)
    tags = {}
    for item in ctx.params.structs("Tags"):
        tags[item.str("Key", required=True)] = item.str("Value", "")
    session, token = ctx.cloud.identity.sessions.issue(
        p.account_id, duration, user_name=p.user_name, policy=policy, policy_arns=arns,
        tags=tags, source_arn=p.arn(), federated_name=name)
    return {"Credentials": _credentials(session, token),
            "FederatedUser": {"FederatedUserId": f"{p.account_id}:{name}",
                              "Arn": f"arn:aws:sts::{p.account_id}:federated-user/{name}"},
            "PackedPolicySize": percent}


def get_access_key_info(ctx: Context) -> Any:
    """GetAccessKeyInfo: the account an access key (long-term or temporary) belongs to."""
    key_id = ctx.params.str("AccessKeyId", required=True)
    identity = ctx.cloud.identity
    key = identity.keys.get(key_id)
    session = identity.sessions.by_key.get(key_id)
    account = key.account_id if key is not None else session.account_id if session else None
    if not re.match(r"^[A-Z0-9]{16,128}$", key_id) or account is None:
        raise errors.InvalidParameterValue(f"The access key ID {key_id} is not valid.")
    return {"Account": account}


def decode_authorization_message(ctx: Context) -> Any:
    """DecodeAuthorizationMessage: the policy engine decodes its own refusals."""
    message = ctx.params.str("EncodedMessage", required=True)
    try:
        decode = getattr(import_module("server.auth.policy"), "decode_authorization_message")  # noqa: B009
    except (ImportError, AttributeError):
        raise errors.AWSError("Decoding needs the policy engine.", code="NotImplemented",
                              status=501) from None
    try:
        decoded = decode(message)
    except (ValueError, KeyError, TypeError):
        raise errors.AWSError("The encoded message is not valid.",
                              code="InvalidAuthorizationMessageException") from None
    return {"DecodedMessage": json.dumps(decoded, separators=(",", ":"))}


def _role_arn(ctx: Context) -> list[str]:
    return [ctx.params.str("RoleArn") or "*"]


ACTIONS: dict[str, Action] = {
    "GetCallerIdentity": action(get_caller_identity, "sts:GetCallerIdentity"),
    "GetSessionToken": action(get_session_token, "sts:GetSessionToken"),
    "GetFederationToken": action(get_federation_token, "sts:GetFederationToken"),
    "AssumeRole": action(assume_role, "sts:AssumeRole", resources=_role_arn),
    "GetAccessKeyInfo": action(get_access_key_info, "sts:GetAccessKeyInfo"),
    "DecodeAuthorizationMessage": action(decode_authorization_message,
                                         "sts:DecodeAuthorizationMessage"),
}


class STSService(QueryService):
    """The Tokens service."""

    signing_names = ("sts",)
    iam_prefix = "sts"
    path = "/services/Tokens"
    api_version = "2011-06-15"
    xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

    def action_table(self) -> dict[str, Handler]:
        """STS actions (and Eucalyptus' password log-in, GetAccessToken)."""
        from server.console import access_token

        return {**ACTIONS, **access_token.ACTIONS}

    def authenticate(self, request: Request, body: bytes, flat: dict[str, str],
                     action: str) -> Principal:
        """SigV4, or for GetAccessToken a user's password (HTTP Basic)."""
        auth = request.header("authorization")
        if action == "GetAccessToken" and auth[:6].lower() == "basic ":
            from server.console.access_token import password_principal

            return password_principal(self.cloud, auth)
        return super().authenticate(request, body, flat, action)
