"""CloudWatch's three wire protocols around one action table.

Clients speak Smithy RPC v2 CBOR (current botocore), AWS JSON 1.0 (``X-Amz-Target:
GraniteServiceVersion20100801.<Action>``) or the Query protocol (form parameters, XML
answers: euca2ools, older SDKs).  Handlers take the request's parameters as nested data
and return plain data whose timestamps are :class:`Timestamp`; this module parses the
request, authenticates it through the query layer, and serializes the answer or the
error in the caller's protocol.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import logging
import math
from typing import TYPE_CHECKING, Any

import cbor2

from server import errors
from server.auth.authz import as_action
from server.auth.identity import IdentityError
from server.ids import request_id
from server.protocol.http import Request, Response
from server.protocol.params import Params
from server.protocol.query import Context, Handler, QueryService
from server.protocol.xml import Raw, escape, iso8601

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

TARGET_PREFIX = "GraniteServiceVersion20100801"
_RPC_MARK = f"/service/{TARGET_PREFIX}/operation/"
#: PutMetricData accepts 1 MB compressed; allow the uncompressed body some room.
MAX_BODY = 4 * 1024 * 1024


class Timestamp(float):
    """Unix time in a result: ISO 8601 in XML, epoch seconds in JSON, tag 1 in CBOR."""


class Map(dict[str, Any]):
    """A string-keyed map: ``<entry><key/><value/></entry>`` in XML, an object otherwise."""


def _for_xml(value: Any) -> Any:
    if isinstance(value, Map):
        return Raw("".join(f"<entry><key>{escape(k)}</key><value>{escape(str(_for_xml(x)))}"
                           "</value></entry>" for k, x in value.items()))
    if isinstance(value, dict):
        return {k: _for_xml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_xml(v) for v in value]
    if isinstance(value, Timestamp):
        return iso8601(value)
    if isinstance(value, float):
        return _number(value)
    return value


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return f"{value:.1f}"
    return repr(value)


def _for_cbor(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _for_cbor(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_for_cbor(v) for v in value]
    if isinstance(value, Timestamp):
        return _dt.datetime.fromtimestamp(float(value), _dt.UTC)
    return value


def _for_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _for_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_for_json(v) for v in value]
    return value


class CloudWatchService(QueryService):
    """``/services/CloudWatch`` and SigV4 scope ``monitoring``, in all three protocols."""

    signing_names = ("monitoring",)
    path = "/services/CloudWatch"
    api_version = "2010-08-01"
    xmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/"
    iam_prefix = "cloudwatch"

    def __init__(self, cloud: Cloud, table: dict[str, Handler], after: Any = None):
        self._table = table
        self._after = after
        #: gzipped bodies of requests being served, by request: what their signature covers
        self._signed_bodies: dict[int, bytes] = {}
        super().__init__(cloud)

    def action_table(self) -> dict[str, Handler]:
        """The CloudWatch actions (given by the component)."""
        return self._table

    async def handle(self, request: Request) -> Response:
        """Serve one request in the protocol it arrives in."""
        if _RPC_MARK in request.path or request.header("smithy-protocol") == "rpc-v2-cbor":
            return await self._handle_rpc(request, "cbor")
        if request.header("x-amz-target").startswith(TARGET_PREFIX + "."):
            return await self._handle_rpc(request, "json")
        if request.header("content-encoding") == "gzip" and request.method == "POST":
            # SDKs gzip large PutMetricData bodies; the signature covers the gzipped bytes.
            try:
                raw = await request.body(MAX_BODY)
                request._body = gzip.decompress(raw)
            except (ValueError, OSError, EOFError):
                return self.render_error(errors.AWSError(
                    "The request body could not be decompressed", code="InvalidRequest"),
                    request_id())
            self._signed_bodies[id(request)] = raw
            try:
                response = await super().handle(request)
            finally:
                self._signed_bodies.pop(id(request), None)
        else:
            response = await super().handle(request)
        if self._after is not None:
            self._after()
        return response

    async def _handle_rpc(self, request: Request, proto: str) -> Response:
        rid = request_id()
        action = ""
        try:
            if request.method != "POST":
                raise errors.AWSError("Only POST is accepted", code="UnsupportedProtocol")
            try:
                body = await request.body(MAX_BODY)
            except ValueError:
                raise errors.AWSError("Request size exceeds the 1 MB limit",
                                      code="RequestEntityTooLarge", status=413) from None
            if proto == "cbor":
                action = request.path.rsplit("/", 1)[-1] if _RPC_MARK in request.path else ""
            else:
                action = request.header("x-amz-target").split(".", 1)[1]
            principal = self.authenticate(request, body, {}, action)
            if request.header("content-encoding") == "gzip":
                try:
                    body = gzip.decompress(body)
                except (OSError, EOFError):
                    raise errors.AWSError("The request body could not be decompressed",
                                          code="SerializationException") from None
            handler = self.actions.get(action)
            if handler is None:
                raise errors.AWSError(f"The action {action} is not valid for this web service.",
                                      code="UnknownOperationException")
            data = _decode(body, proto)
            ctx = Context(self.cloud, principal, Params(data), action, rid, request.client,
                          principal, secure_transport=request.secure)
            declared = as_action(handler, self.iam_prefix, action)
            self.authorize(ctx, declared)
            result = declared.handler(ctx)
            self.cloud.store.flush()
            if self._after is not None:
                self._after()
            return self._render_rpc(proto, result or {}, rid, 200)
        except errors.AWSError as exc:
            return self._rpc_error(proto, exc, rid)
        except IdentityError as exc:
            return self._rpc_error(proto, errors.AWSError(exc.message, code=exc.code,
                                                          status=exc.status), rid)
        except Exception:
            log.exception("internal error in CloudWatch %s", action)
            return self._rpc_error(proto, errors.InternalError(), rid)

    def _render_rpc(self, proto: str, doc: dict[str, Any], rid: str, status: int,
                    extra: list[tuple[str, str]] | None = None) -> Response:
        headers = [("x-amzn-requestid", rid)] + (extra or [])
        if proto == "cbor":
            headers.append(("smithy-protocol", "rpc-v2-cbor"))
            body = cbor2.dumps(_for_cbor(doc), datetime_as_timestamp=True, timezone=_dt.UTC)
            return Response(status, body, headers, content_type="application/cbor")
        return Response(status, json.dumps(_for_json(doc)).encode(), headers,
                        content_type="application/x-amz-json-1.0")

    def _rpc_error(self, proto: str, exc: errors.AWSError, rid: str) -> Response:
        kind = "Sender" if exc.sender else "Receiver"
        doc: dict[str, Any] = {"__type": exc.code, "message": exc.message or exc.code}
        doc.update(getattr(exc, "extra", {}) or {})
        return self._render_rpc(proto, doc, rid, exc.status,
                                [("x-amzn-errortype", exc.code),
                                 ("x-amzn-query-error", f"{exc.code};{kind}")])

    def authenticate(self, request: Request, body: bytes, flat: dict[str, str],
                     action: str) -> Any:
        """SigV4 over the bytes as signed (gzipped bodies before decompression)."""
        return super().authenticate(request, self._signed_bodies.get(id(request), body), flat,
                                    action)

    def render(self, action: str, result: Any, rid: str) -> Response:
        """Query protocol: the XML document, with timestamps in ISO 8601."""
        return super().render(action, _for_xml(result) if result else None, rid)


def _decode(body: bytes, proto: str) -> dict[str, Any]:
    if not body:
        return {}
    try:
        data = cbor2.loads(body) if proto == "cbor" else json.loads(body)
    except Exception:
        raise errors.AWSError("The request body could not be parsed",
                              code="SerializationException") from None
    if not isinstance(data, dict):
        raise errors.AWSError("The request body must be a structure",
                              code="SerializationException")
    return data
