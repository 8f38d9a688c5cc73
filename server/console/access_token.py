"""Eucalyptus' STS ``GetAccessToken``: log in to the API with a password.

The request carries ``Authorization: Basic base64(USER@ACCOUNT:PASSWORD)`` (user and
account URL-encoded) instead of a signature; the password is the user's login profile,
with the console's lock-out after repeated failures.  The answer is temporary
credentials acting as that user, like ``GetSessionToken``'s.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from server import errors
from server.auth.authz import Action, action
from server.auth.identity import IdentityError, Principal
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
    if lockout is not None:
        lockout.succeeded(account.id, user)
    return Principal(account.id, account.name, user)


def get_access_token(ctx: Context) -> Any:
    """GetAccessToken: temporary credentials for the password's user."""
    from server.auth.tokens import _credentials

    p = ctx.principal
    if p.session_id or p.anonymous or not p.user_name:
        raise errors.AccessDenied("GetAccessToken needs a user's password or access key")
    duration = ctx.params.int("DurationSeconds", DEFAULT_DURATION, minimum=MIN_DURATION,
                              maximum=SESSION_TOKEN_MAX)
    session, token = ctx.cloud.identity.sessions.issue(
        p.account_id, duration, user_name=p.user_name, source_arn=p.arn())
    return {"Credentials": _credentials(session, token)}


ACTIONS: dict[str, Action] = {
    "GetAccessToken": action(get_access_token, "sts:GetAccessToken"),
}
