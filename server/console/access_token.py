"""Eucalyptus' STS ``GetAccessToken``: log in to the API with a password.

The request carries ``Authorization: Basic base64(USER@ACCOUNT:PASSWORD)`` (user and
account URL-encoded) instead of a signature; the password is the user's login profile,
with the console's lock-out after repeated failures.  The answer is temporary
credentials acting as that user, like ``GetSessionToken``'s.

A user with an assigned MFA device needs a code too, as AWS's console sign-in asks for
one after the password.  Eucalyptus' GetAccessToken has no parameter for it, so it takes
GetSessionToken's: ``TokenCode`` (and optionally ``SerialNumber``; without it, any of
the user's devices).  A wrong code counts as a failed log-in; the credentials of a log-in
with a code carry "MFA present" (``aws:MultiFactorAuthPresent``) like an MFA session's.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from server import errors
from server.auth.authz import Action, action
from server.auth.identity import IdentityError, Principal
from server.auth.login import mfa_required, verify_sign_in_code
from server.auth.sts import MIN_DURATION, SESSION_TOKEN_MAX

if TYPE_CHECKING:
    from server.cloud import Cloud
    from server.protocol.query import Context

#: GetAccessToken's default lifetime (Eucalyptus: 12 hours).
DEFAULT_DURATION = 43200


def _refused() -> errors.AWSError:
    return errors.AWSError("The user name, account or password is incorrect.",
                           code="InvalidClientTokenId", status=403)


def password_principal(cloud: Cloud, authorization: str) -> Principal:
    """The principal of a Basic ``Authorization`` header whose password is right."""
    try:
        decoded = base64.b64decode(authorization.split(None, 1)[1].strip(), validate=True)
        who, _, password = decoded.decode("utf-8").partition(":")
    except (IndexError, ValueError, UnicodeDecodeError, binascii.Error):
        raise errors.AWSError("Malformed Basic authorization header", code="MissingAuthenticationToken",
                              status=403) from None
    user, sep, account_ref = who.rpartition("@")
    if not sep or not user or not account_ref:
        raise _refused()
    user, account_ref = unquote(user), unquote(account_ref)
    try:
        account = cloud.identity.account(account_ref)
    except IdentityError:
        raise _refused() from None
    console = cloud.components.get("console")
    lockout = console.lockout if console is not None else None
    if lockout is not None and lockout.locked(account.id, user):
        raise errors.AWSError("Too many failed log-ins: try again later.",
                              code="AccessDenied", status=403)
    from server.console.web import verify_password

    if not verify_password(cloud, account.id, user, password):
        if lockout is not None:
            lockout.failed(account.id, user)
        raise _refused()
    if lockout is not None and not mfa_required(cloud.identity, account.id, user):
        lockout.succeeded(account.id, user)  # else once the MFA code is right too
    # No access key: :func:`get_access_token` tells a password log-in by that.
    return Principal(account.id, account.name, user)


def _sign_in_mfa(ctx: Context) -> tuple[str, float]:
    """The MFA a GetAccessToken request proves: ``(serial, time)``, or ``("", 0)`` when it
    carries no code and none is needed.  A password log-in of a user with a device must
    carry a right code; a wrong one counts as a failed log-in."""
    p, identity = ctx.principal, ctx.cloud.identity
    serial = ctx.params.str("SerialNumber")
    code = ctx.params.str("TokenCode")
    by_password = not p.access_key
    console = ctx.cloud.components.get("console")
    lockout = console.lockout if console is not None and by_password else None
    if code is None:
        if serial is not None:
            raise errors.AccessDenied("MultiFactorAuthentication failed with invalid MFA one "
                                      "time pass code.")
        if by_password and mfa_required(identity, p.account_id, p.user_name):
            raise errors.AccessDenied(f"User {p.user_name} has an MFA device: log in with "
                                      "its code (TokenCode, and SerialNumber to name the "
                                      "device).")
        return "", 0.0
    try:
        used = verify_sign_in_code(identity, p.account_id, p.user_name, code, serial)
    except IdentityError as exc:
        if lockout is not None and exc.code == "AccessDenied":
            lockout.failed(p.account_id, p.user_name)
        raise
    if lockout is not None:
        lockout.succeeded(p.account_id, p.user_name)
    return used, identity.now()


def get_access_token(ctx: Context) -> Any:
    """GetAccessToken: temporary credentials for the password's user (with an MFA code
    when the user has a device)."""
    from server.auth.tokens import _credentials

    p = ctx.principal
    if p.session_id or p.anonymous or not p.user_name:
        raise errors.AccessDenied("GetAccessToken needs a user's password or access key")
    duration = ctx.params.int("DurationSeconds", DEFAULT_DURATION, minimum=MIN_DURATION,
                              maximum=SESSION_TOKEN_MAX)
    serial, when = _sign_in_mfa(ctx)
    session, token = ctx.cloud.identity.sessions.issue(
        p.account_id, duration, user_name=p.user_name, source_arn=p.arn(), mfa_serial=serial,
        mfa_time=when)
    return {"Credentials": _credentials(session, token)}


ACTIONS: dict[str, Action] = {
    "GetAccessToken": action(get_access_token, "sts:GetAccessToken"),
}
