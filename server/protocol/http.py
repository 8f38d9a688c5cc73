"""Minimal HTTP request/response types over raw ASGI (kept small: this is the hot path)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from server.auth.sigv4 import parse_query

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_QUERY_BODY = 16 * 1024 * 1024


class ClientGone(ConnectionError):
    """Raised by a server's ``send`` for response bytes whose client has left, so that a
    streamed response stops producing them (uvicorn's own ``send`` drops them silently,
    and the stream would read, and decrypt, the rest of an object for nobody)."""


class Request:
    """One HTTP request: decoded path, raw query, headers, and a body read on demand."""

    __slots__ = ("scope", "receive", "method", "raw_path", "path", "query_string", "headers",
                 "_hmap", "_body", "_query_pairs", "_consumed", "client")

    def __init__(self, scope: dict[str, Any], receive: Receive):
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        raw = scope.get("raw_path") or scope["path"].encode()
        self.raw_path: str = raw.decode("latin-1").split("?", 1)[0]
        self.path: str = unquote(self.raw_path)
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        self.headers: list[tuple[str, str]] = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        self._hmap: dict[str, str] | None = None
        self._body: bytes | None = None
        self._query_pairs: list[tuple[str, str]] | None = None
        self._consumed = False
        client = scope.get("client")
        self.client: str = client[0] if client else ""

    @property
    def secure(self) -> bool:
        """True when the request came over TLS (the HTTPS endpoint, or a trusted proxy's
        ``X-Forwarded-Proto: https``): what ``aws:SecureTransport`` says."""
        return bool(self.scope.get("scheme") == "https")

    def header(self, name: str, default: str = "") -> str:
        """A header by lower-case name (first value)."""
        if self._hmap is None:
            hmap: dict[str, str] = {}
            for k, v in self.headers:
                hmap.setdefault(k.lower(), v)
            self._hmap = hmap
        return self._hmap.get(name, default)

    @property
    def header_map(self) -> dict[str, str]:
        """Headers as a dict of lower-case names to first values."""
        self.header("")
        assert self._hmap is not None
        return self._hmap

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded query-string pairs, in order."""
        if self._query_pairs is None:
            self._query_pairs = parse_query(self.query_string)
        return self._query_pairs

    async def body(self, limit: int = MAX_QUERY_BODY) -> bytes:
        """The whole body (for small, form-encoded requests)."""
        if self._body is None and not self._consumed:
            # Fast path: most query requests arrive in one message.
            self._consumed = True
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ConnectionError("client disconnected")
            first = message.get("body", b"")
            if not message.get("more_body", False):
                if len(first) > limit:
                    raise ValueError("request body too large")
                self._body = first
                return bytes(first)
            chunks, size = [first], len(first)
            while message.get("more_body", False):
                message = await self.receive()
                if message["type"] == "http.disconnect":
                    raise ConnectionError("client disconnected")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise ValueError("request body too large")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        if self._body is None:
            chunks = []
            size = 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > limit:
                    raise ValueError("request body too large")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives (for object uploads)."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        if self._consumed:
            return
        self._consumed = True
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ConnectionError("client disconnected")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                break


@dataclass
class Response:
    """A response with a bytes body or an async iterator of chunks."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None
    content_type: str = "text/xml; charset=UTF-8"
    #: The same bytes as ``stream`` as (path, offset, count) file ranges, for servers that
    #: offer the ASGI zero-copy send extension (``stream`` is then never started).
    files: list[tuple[str, int, int]] | None = None

    async def send(self, send: Send, head_only: bool = False, zerocopy: bool = False) -> None:
        """Write the response to the ASGI ``send`` channel (with ``zerocopy``, ``files``
        go out as ``http.response.zerocopysend`` messages)."""
        headers = [(b"content-type", self.content_type.encode())] if self.content_type else []
        has_length = False
        for k, v in self.headers:
            low = k.lower()
            if low == "content-length":
                has_length = True
            headers.append((low.encode("latin-1"), v.encode("latin-1")))
        if self.stream is None and not has_length:
            headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        if self.stream is None or head_only:
            await send({"type": "http.response.body", "body": b"" if head_only else self.body})
            return
        if zerocopy and self.files:
            await self.stream.aclose()  # type: ignore[attr-defined]  # never started
            for path, offset, count in self.files:
                # (A client that leaves ends the file sends at once: see zerocopy_send.)
                with open(path, "rb") as fh:
                    await send({"type": "http.response.zerocopysend", "file": fh,
                                "offset": offset, "count": count, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            async for chunk in self.stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except ClientGone:
            await self.stream.aclose()  # type: ignore[attr-defined]  # its files, its reads
        await send({"type": "http.response.body", "body": b""})
