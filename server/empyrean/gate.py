"""Stopping and disabling the user-facing APIs: a stand-in answers 503 ServiceUnavailable.

When the administrator stops (or disables) ``compute``, ``objectstorage``, ``autoscaling``
or ``cloudwatch``, the app's routes to that service (its path, its SigV4 names, the
default route for S3) are pointed at an :class:`UnavailableService`, which answers every
request with ServiceUnavailable in the service's own error format; enabling it puts the
service back.  Nothing else changes: the component keeps its state and its timers.
"""

from __future__ import annotations

from typing import Any

from server import errors
from server.ids import request_id
from server.protocol.http import Request, Response
from server.protocol.query import QueryService
from server.protocol.xml import escape


class UnavailableService:
    """Answers for a stopped service: 503 ServiceUnavailable, in its error format."""

    def __init__(self, original: Any, message: str):
        self.original = original
        self.message = message
        self.path = getattr(original, "path", "")
        self.signing_names = getattr(original, "signing_names", ())

    def claims(self, request: Request) -> bool:
        """Route what the stopped service would claim (S3 website hosts) here."""
        claims = getattr(self.original, "claims", None)
        return bool(claims(request)) if claims is not None else False

    async def handle(self, request: Request) -> Response:
        """ServiceUnavailable, whatever was asked."""
        rid = request_id()
        exc = errors.ServiceUnavailable(self.message)
        if isinstance(self.original, QueryService):
            return self.original.render_error(exc, rid)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
                f"<Message>{escape(self.message)}</Message><RequestId>{rid}</RequestId></Error>")
        return Response(503, body.encode(), [("x-amz-request-id", rid)])


def swap(app: Any, old: Any, new: Any) -> None:
    """Point every route of the app that leads to ``old`` at ``new``."""
    for table in (app.by_path, app.by_signing_name):
        for key, value in list(table.items()):
            if value is old:
                table[key] = new
    app.claimers[:] = [new if c is old else c for c in app.claimers]
    if app.default is old:
        app.default = new
