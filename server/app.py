"""The ASGI application: routes each request to the service that owns it.

Services are found by path (``/services/compute``, ``/services/Euare``, ...) or, at
``/``, by the service name in the SigV4 credential scope, so a boto3 client with
``endpoint_url=http://host:8773/`` reaches the right service.  A service may also
claim requests itself (virtual-host S3 by the Host header).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Protocol

from server.auth.sigv4 import scope_names
from server.protocol.http import Receive, Request, Response, Send
from server.protocol.unserved import UnservedService

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)
#: The ASGI extension (offered by server.protocol.zerocopy) for sending file ranges.
_ZEROCOPY = "http.response.zerocopysend"

# The region may be empty (boto3 with region_name=""): route by the service all the same.
_SCOPE_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[^/]*/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(
    r"X-Amz-Credential=[^&]*?(?:%2F|/)\d{8}(?:%2F|/)[^&/%]*(?:%2F|/)([^&%/]+)(?:%2F|/)aws4_request",
    re.IGNORECASE)


class Service(Protocol):
    """Anything that serves requests."""

    @property
    def path(self) -> str:
        """``/services/<Name>`` (or empty)."""

    @property
    def signing_names(self) -> tuple[str, ...]:
        """SigV4 service names routed here."""

    async def handle(self, request: Request) -> Response:
        """Serve one request."""


class CloudApp:
    """Routes HTTP requests to services; runs the cloud's start and stop on ASGI lifespan."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.by_path: dict[str, Service] = {}
        self.by_signing_name: dict[str, Service] = {}
        self.claimers: list[Any] = []
        self.default: Service | None = None
        #: SigV4 name -> path of every service served at a path, in registration order:
        #: what euca2ools.ini lists (a service appears there once it is registered).
        self.endpoints: dict[str, str] = {}
        #: Services this cloud does not serve, known by path and by name (see ``unserved``).
        self.unserved_paths: dict[str, UnservedService] = {}

    def register(self, service: Service, *, default: bool = False) -> None:
        """Serve ``service`` at its path and its SigV4 names."""
        if service.path:
            self.by_path[service.path.lower()] = service
            if service.signing_names:
                self.endpoints[service.signing_names[0]] = service.path
        # Eucalyptus' names for the same service route alike (sigv4.scope_names).
        for name in scope_names(service.signing_names):
            self.by_signing_name[name] = service
        if hasattr(service, "claims"):
            self.claimers.append(service)
        if default:
            self.default = service

    def know_unserved(self, paths: dict[str, str]) -> None:
        """Name the services (SigV4 name -> path) a client may look for here: those not
        registered answer "not implemented" at their path instead of 404."""
        for name, path in paths.items():
            self.unserved_paths[path.lower()] = UnservedService(name, path)

    def route(self, request: Request) -> Service | None:
        """The service for ``request``."""
        path = request.path
        if path.startswith("/services/"):  # the common case first: no claimer serves these
            key = "/services/" + path.split("/", 3)[2].lower()
            found = self.by_path.get(key) or self.unserved_paths.get(key)
            if found is None:
                # A path Eucalyptus never had (a client pointed at /services/Route53, say):
                # a signed request for a service not served here is told so in its own
                # protocol; anything else is "no service at this path".
                name = self._scope_service(request)
                if name is not None and name not in self.by_signing_name:
                    return UnservedService(name)
            return found
        for claimer in self.claimers:
            if claimer.claims(request):
                return claimer  # type: ignore[no-any-return]
        name = self._scope_service(request)
        if name is not None:
            # A scope naming a service not served here is answered in that service's protocol
            # ("not implemented"), not by the default (S3) refusing its signature.
            return self.by_signing_name.get(name) or UnservedService(name)
        return self.default

    @staticmethod
    def _scope_service(request: Request) -> str | None:
        """The service named by the request's SigV4 credential scope (header or query)."""
        auth = request.header("authorization")
        match = _SCOPE_SERVICE.search(auth) if auth else None
        if match is None and "X-Amz-Credential" in request.query_string:
            match = _QUERY_SCOPE.search(request.query_string)
        return match.group(1) if match is not None else None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        service = self.route(request)
        if service is None:
            response = Response(404, b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                                b"NotFound</Code><Message>No service at this path</Message>"
                                b"</Error>")
        else:
            try:
                response = await service.handle(request)
            except Exception:  # a service must render its own errors; this is the last net
                log.exception("unhandled error serving %s", request.path)
                response = Response(500, b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                                    b"InternalError</Code><Message>We encountered an internal "
                                    b"error. Please try again.</Message></Error>")
        await response.send(send, head_only=request.method == "HEAD",
                            zerocopy=_ZEROCOPY in scope.get("extensions", {}))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.cloud.start()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.cloud.stop()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return
