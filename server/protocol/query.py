"""The query protocols (EC2 and the IAM-style services): auth, dispatch, XML, errors.

A service is an action table plus short handlers that return plain data; this module
does everything generic: form/query parsing, SigV4, DryRun, delegation, rendering and
the error envelope each protocol uses.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from server import errors
from server.auth import sigv4
from server.auth.authz import Action, as_action
from server.auth.identity import ADMIN_ACCOUNT, ANONYMOUS, IdentityError, Principal
from server.ids import request_id
from server.protocol.http import Request, Response
from server.protocol.params import Params, unflatten
from server.protocol.xml import escape, render

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

Handler = Callable[["Context"], Any]
#: A row of an action table: a declared :class:`Action` (or, until declared, a handler).
Row = Action | Handler


@dataclass
class Context:
    """What a handler gets: the caller, the parameters and the cloud."""

    cloud: Cloud
    principal: Principal
    params: Params
    action: str
    request_id: str
    source_ip: str
    caller: Principal  # the signer, before any DelegateAccount
    #: The request came over TLS (``aws:SecureTransport``).
    secure_transport: bool = False
    #: Set by authorization: the caller acts with cloud-administrator powers here.
    cloud_admin: bool = False
    #: Set by quotas: how many new instances the caller's quotas leave room for.
    quota_room: int | None = None
    #: Run after the handler succeeds (quotas note which user created what).
    after: list[Callable[[], None]] = field(default_factory=list)

    @property
    def account_id(self) -> str:
        """The account the request acts in."""
        return self.principal.account_id

    @property
    def is_admin(self) -> bool:
        """True if the caller acts as a cloud administrator (verbose, other accounts)."""
        return self.cloud_admin


class QueryService:
    """One query-protocol service: ``/services/<path>`` and a SigV4 service name."""

    #: SigV4 service name(s) that route here when a request arrives at ``/``.
    signing_names: tuple[str, ...] = ()
    path = ""
    api_version = ""
    xmlns = ""
    #: "ec2" renders <item> lists and <Response><Errors>; "query" renders <member> lists.
    style = "query"
    #: AWS error code per SigV4 failure reason, with the HTTP status.
    auth_errors: dict[str, tuple[str, int]] = {
        sigv4.SigV4Error.MISSING: ("MissingAuthenticationToken", 403),
        sigv4.SigV4Error.INCOMPLETE: ("IncompleteSignature", 400),
        sigv4.SigV4Error.UNKNOWN_KEY: ("InvalidClientTokenId", 403),
        sigv4.SigV4Error.MISMATCH: ("SignatureDoesNotMatch", 403),
        sigv4.SigV4Error.EXPIRED: ("SignatureDoesNotMatch", 403),
        sigv4.SigV4Error.NOT_YET: ("SignatureDoesNotMatch", 403),
        sigv4.SigV4Error.WRONG_SERVICE: ("SignatureDoesNotMatch", 403),
    }
    #: This service's codes for refused session tokens (InvalidClientTokenId, ExpiredToken).
    token_errors: dict[str, tuple[str, int]] = {}
    #: Service prefix of IAM action names (``ec2``, ``iam``, ``sts``, ``cloudwatch``...).
    iam_prefix = ""
    #: Actions callable without a signature.
    anonymous_actions: frozenset[str] = frozenset()

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.actions: dict[str, Handler] = self.action_table()

    @cached_property
    def scope_names(self) -> tuple[str, ...]:
        """Credential-scope service names accepted here (AWS's, then Eucalyptus')."""
        return sigv4.scope_names(self.signing_names)

    def action_table(self) -> dict[str, Handler]:
        """``{ActionName: handler}``; subclasses provide it."""
        raise NotImplementedError

    # -- entry point ------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        """Serve one request: authenticate, dispatch, render (never a traceback)."""
        rid = request_id()
        action = ""
        try:
            body = b""
            if request.method == "POST":
                try:
                    body = await request.body()
                except ValueError:
                    raise errors.InvalidRequest("Request body too large") from None
                except ConnectionError:
                    # The client left before its request was whole: nobody to answer,
                    # nothing went wrong here.
                    log.debug("client %s disconnected before sending its request to %s",
                              request.client, self.path)
                    return Response(400, b"", content_type="")
            pairs = list(request.query_pairs)
            if body:
                ctype = request.header("content-type", "")
                if "x-www-form-urlencoded" in ctype or not ctype:
                    try:
                        text = body.decode("utf-8")
                    except UnicodeDecodeError:
                        raise errors.MalformedQueryString("Request body is not UTF-8") from None
                    pairs.extend(sigv4.parse_query(text.replace("+", "%20")))
            flat = dict(pairs)
            action = flat.get("Action", "")
            principal = self.authenticate(request, body, flat, action)
            if not action:
                raise errors.AWSError("The request must contain the parameter Action",
                                      code="MissingAction")
            handler = self.actions.get(action)
            if handler is None:
                raise errors.InvalidAction(
                    f"The action {action} is not valid for this web service.")
            params = Params(unflatten(p for p in pairs if p[0] not in _SIGNING_KEYS))
            self.check_parameters(action, params)
            caller = principal
            delegate = params.get("DelegateAccount")
            if delegate and isinstance(delegate, str):
                # The cloud admin, or a user of its account whose policies grant the action
                # (decided by authorize below, on the signer's policies).
                if not principal.is_cloud_admin and principal.account_name != ADMIN_ACCOUNT:
                    raise errors.AccessDenied("Only cloud administrators may use DelegateAccount")
                try:
                    principal = self.cloud.identity.admin_principal(
                        self.cloud.identity.account(delegate))
                except IdentityError as exc:
                    raise errors.AWSError(exc.message, code=exc.code, status=exc.status) from None
            ctx = Context(self.cloud, principal, params, action, rid, request.client, caller,
                          secure_transport=request.secure)
            declared = as_action(handler, self.iam_prefix, action)
            self.authorize(ctx, declared)  # DryRun too: it answers as the real call would
            if params.get("DryRun") in ("true", "True", "1"):
                self.check_dry_run(ctx)
                raise errors.DryRunOperation()
            result = declared.handler(ctx)
            if inspect.isawaitable(result):
                # A handler with a big answer builds it in slices (server/protocol/slices.py).
                result = await result
            for hook in ctx.after:
                hook()
            self.cloud.store.flush()
            return self.render(action, result, rid)
        except errors.AWSError as exc:
            self.cloud.store.flush()
            return self.render_error(exc, rid)
        except IdentityError as exc:
            self.cloud.store.flush()
            return self.render_error(errors.AWSError(exc.message, code=exc.code,
                                                     status=exc.status), rid)
        except Exception:
            log.exception("internal error in %s %s", self.path, action)
            return self.render_error(errors.InternalError(), rid)

    def authorize(self, ctx: Context, declared: Action) -> None:
        """Ask the policy engine whether ``ctx`` may run ``declared`` (and its quotas)."""
        from server.auth import enforcement

        enforcement.authorize(ctx, declared, self.style)

    def check_parameters(self, action: str, params: Params) -> None:
        """Hook: refuse parameters ``action`` does not know (default: ignored)."""

    def check_dry_run(self, ctx: Context) -> None:
        """Hook: validate permissions for a DryRun request (default: allowed)."""

    def authenticate(self, request: Request, body: bytes, flat: dict[str, str],
                     action: str) -> Principal:
        """Verify SigV4 and return the principal, mapping failures to this service's codes."""
        cloud = self.cloud
        hmap = request.header_map
        if not sigv4.is_sigv4(hmap, flat) and action in self.anonymous_actions:
            return ANONYMOUS
        alt = _double_encoded(request.path) if request.raw_path not in ("", "/") else ()
        try:
            cred = sigv4.verify(
                method=request.method, path=request.path, query_pairs=request.query_pairs,
                headers=request.headers, body_hash=lambda: hashlib.sha256(body).hexdigest(),
                lookup_secret=cloud.identity.secret_for, now=cloud.clock.now(),
                alternate_paths=alt, header_map=hmap, services=self.scope_names)
        except sigv4.SigV4Error as exc:
            code, status = self.auth_errors.get(exc.reason) or \
                QueryService.auth_errors.get(exc.reason, ("AuthFailure", 401))
            raise errors.AWSError(exc.message, code=code, status=status) from None
        # Temporary credentials carry their session token (header, or query when presigned).
        token = hmap.get("x-amz-security-token") or flat.get("X-Amz-Security-Token")
        try:
            return cloud.identity.principal_for(cred.access_key, token)
        except IdentityError as exc:
            code, status = self.token_errors.get(exc.code, (exc.code, exc.status))
            raise errors.AWSError(exc.message, code=code, status=status) from None

    # -- rendering --------------------------------------------------------------------
    def render(self, action: str, result: Any, rid: str) -> Response:
        """The success document for ``action``."""
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
               f'<{action}Response xmlns="{self.xmlns}">']
        if self.style == "ec2":
            out.append(f"<requestId>{rid}</requestId>")
            if result is None:
                result = {"return": True}
            render(result, out, "item")
        else:
            if result is not None:
                out.append(f"<{action}Result>")
                render(result, out, "member")
                out.append(f"</{action}Result>")
            out.append(f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>")
        out.append(f"</{action}Response>")
        return Response(200, "".join(out).encode("utf-8"),
                        [("x-amzn-requestid", rid)])

    def render_error(self, exc: errors.AWSError, rid: str) -> Response:
        """The error document in this protocol's envelope, with AWS's status."""
        msg = escape(exc.message or exc.code)
        if self.style == "ec2":
            text = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                    f"<Code>{exc.code}</Code><Message>{msg}</Message></Error></Errors>"
                    f"<RequestID>{rid}</RequestID></Response>")
        else:
            kind = "Sender" if exc.sender else "Receiver"
            text = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{self.xmlns}">'
                    f"<Error><Type>{kind}</Type><Code>{exc.code}</Code><Message>{msg}</Message>"
                    f"</Error><RequestId>{rid}</RequestId></ErrorResponse>")
        return Response(exc.status, text.encode("utf-8"), [("x-amzn-requestid", rid)])


@lru_cache(maxsize=256)
def _double_encoded(path: str) -> tuple[str, ...]:
    """botocore URI-encodes the already-encoded path for non-S3 services: accept that too."""
    once = quote(path, safe="/~")
    twice = quote(once, safe="/~")
    return (twice,) if twice != once else ()


_SIGNING_KEYS = frozenset({
    "Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
    "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
    "AWSAccessKeyId", "SignatureMethod", "SignatureVersion", "Signature", "Timestamp",
})
