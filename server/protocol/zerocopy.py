"""The ASGI zero-copy send extension on top of uvicorn's httptools protocol.

Walrus serves object bytes straight from files.  Streaming them through ASGI costs two
copies per byte in this process (read into a buffer, write into the socket); with
``os.sendfile`` the kernel moves page-cache pages to the socket and this process only
issues the calls.  uvicorn does not offer the extension and uvloop has no
``loop.sendfile``, so this module adds both:

* :class:`ZeroCopyProtocol` is uvicorn's ``HttpToolsProtocol`` whose request cycles
  announce ``scope["extensions"]["http.response.zerocopysend"]`` and accept the message
  ``{"type": "http.response.zerocopysend", "file": <file object>, "offset": int,
  "count": int, "more_body": bool}`` after ``http.response.start``.
* The bytes go out with non-blocking ``os.sendfile`` on the event loop; when the socket is
  full, a small dedicated thread pool waits for it to drain (uvloop refuses ``add_writer``
  on a descriptor a transport owns), with a bounded wait so slow clients do not pin
  threads.  Anything unusual (TLS, chunked framing, bytes still buffered in the
  transport, no socket) falls back to reading the file and sending ordinary body
  messages.

Requests are read into memory the event loop owns (uvloop calls a protocol's
``get_buffer``/``buffer_updated`` only when it is not an ``asyncio.Protocol``, which
uvicorn's is, so :meth:`ZeroCopyProtocol.configured` wraps it in :class:`_Buffered`):
headers into one reused buffer per loop, and the body of a request that declares at least
:data:`RAW_BODY_AT` bytes straight into the pieces handed to the app
(:data:`BODY_PIECE` bytes each), past the parser.  A 64 MiB upload is then one copy in
this process's memory (the kernel's) instead of three (uvloop's read buffer into
``bytes``, the parser's body slices, and the kernel's), in 64 pieces instead of 256.

The protocol also bounds how long a client may take to send a request line and its
headers (uvicorn has only an idle keep-alive timeout, so a client that sends half a
request would hold the connection forever): ``header_timeout`` seconds after a request
begins (or the connection opens), a connection still without complete headers is
closed.  The request line and headers together are also bounded in size
(:data:`MAX_HEADER_BYTES`; more is answered 431), so a client cannot fill memory with
them meanwhile.  :meth:`ZeroCopyProtocol.configured` makes the class with the cloud's
setting.

It relies on uvicorn's cycle attributes (``transport``, ``expected_content_length``,
``disconnected``), stable across uvicorn releases; the fallback keeps other servers
working (the app only uses the extension when the scope announces it).
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.protocol.http import ClientGone

EXTENSION = "http.response.zerocopysend"
#: One ``sendfile`` call moves at most this much (the kernel caps it near 2 GiB anyway).
MAX_CALL = 64 * 1024 * 1024
#: How long one waiting thread blocks before handing control back to the loop.
WAIT_SLICE_MS = 200
#: A client that accepts nothing for this long is treated as gone.
STALL_SECONDS = 120.0
#: When the server stops, responses still going out get this long to finish; then their
#: connections are closed (a client that stopped reading would hold the stop forever).
SHUTDOWN_GRACE = 5.0
FALLBACK_CHUNK = 1024 * 1024
#: Most bytes a request line and its headers may take (AWS allows 8 KiB of headers).
MAX_HEADER_BYTES = 64 * 1024
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
              b"connection: close\r\n\r\n")

#: The uvicorn request-cycle attributes this module reads and updates.
_CYCLE_STATE = ("transport", "scope", "expected_content_length", "chunked_encoding",
                "response_started", "response_complete", "disconnected", "send")
#: What the body queue (:func:`_receiver`) reads from uvicorn's request cycle.
_RECEIVE_STATE = ("transport", "flow", "message_event", "body", "more_body",
                  "disconnected", "response_complete", "waiting_for_100_continue", "receive")
#: Reading pauses while this much request body waits for the app (uvicorn: 64 KiB).
BODY_HIGH_WATER = 4 * 1024 * 1024
#: The buffer the event loop reads connections into (all but the bodies read past the
#: parser).  One per thread (per event loop), shared by its connections: the loop fills it
#: and parses it in one callback, and the parser copies out what it keeps, so nothing
#: refers to it afterwards.  Large, because each read that fills it is one pass through
#: the parser and the body queue in Python.
RECV_BUFFER = 1024 * 1024
#: A request declaring at least this many body bytes has them read into its pieces.
RAW_BODY_AT = 1024 * 1024
#: The size of those pieces: one MD5 update and one write each, downstream.
BODY_PIECE = 1024 * 1024
#: The first piece's size; each next one is twice as large, up to BODY_PIECE.
FIRST_PIECE = 128 * 1024
_loop_local = threading.local()
_WAITERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="zerocopy-wait")


def _wait_writable(fd: int, timeout_ms: int) -> bool:
    """Block until ``fd`` can take more bytes (or the timeout); True when writable."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(timeout_ms))


async def _sendfile(cycle: Any, sock_fd: int, file_fd: int, offset: int, count: int) -> None:
    """Push ``count`` bytes of ``file_fd`` from ``offset`` into the socket, or raise OSError."""
    loop = asyncio.get_running_loop()
    stalled = 0.0
    while count > 0:
        if cycle.disconnected:
            raise ConnectionResetError("client went away")
        try:
            sent = os.sendfile(sock_fd, file_fd, offset, min(count, MAX_CALL))
        except BlockingIOError:
            ready = await loop.run_in_executor(_WAITERS, _wait_writable, sock_fd,
                                               WAIT_SLICE_MS)
            stalled = 0.0 if ready else stalled + WAIT_SLICE_MS / 1000
            if stalled >= STALL_SECONDS:
                raise TimeoutError("client stopped reading") from None
            continue
        if sent == 0:
            raise EOFError("file shorter than announced")
        offset += sent
        count -= sent


async def _fallback(cycle: Any, file: Any, offset: int, count: int, more_body: bool,
                    send: Any) -> None:
    """Read the range and send it as ordinary body messages (until the client leaves:
    uvicorn drops what is sent after that, so reading on would be for nothing)."""
    loop = asyncio.get_running_loop()
    while count > 0 and not cycle.disconnected:
        data = await loop.run_in_executor(None, os.pread, file.fileno(),
                                          min(count, FALLBACK_CHUNK), offset)
        if not data:
            raise EOFError("file shorter than announced")
        offset += len(data)
        count -= len(data)
        try:
            await _send_body(cycle, {"type": "http.response.body", "body": data,
                                     "more_body": True}, send)
        except ClientGone:
            return
    if not more_body and not cycle.disconnected:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_body(cycle: Any, message: dict[str, Any], send: Any) -> None:
    """Send a body message, or raise :class:`ClientGone` when its client has left or has
    read nothing for :data:`STALL_SECONDS` (uvicorn would wait for it without end, as it
    does whenever the bytes go through the transport: every response over TLS)."""
    if cycle.disconnected:
        if message.get("more_body", False):
            raise ClientGone("client went away")
        await send(message)  # the final message: uvicorn finishes the cycle quietly
        return
    if cycle.flow.write_paused:
        try:
            await asyncio.wait_for(cycle.flow.drain(), STALL_SECONDS)
        except TimeoutError:
            cycle.transport.abort()  # close() would wait for the unsent bytes
            raise ClientGone("client stopped reading") from None
    await send(message)


async def zerocopy_send(cycle: Any, message: dict[str, Any], send: Any) -> None:
    """Handle one ``http.response.zerocopysend`` message for a uvicorn request cycle."""
    file = message["file"]
    offset = int(message.get("offset") or 0)
    count = message.get("count")
    if count is None:
        count = os.fstat(file.fileno()).st_size - offset
    more_body = bool(message.get("more_body", False))
    transport = cycle.transport
    # Over TLS the socket carries records: file bytes must go through the transport.
    sock = None if transport.get_extra_info("ssl_object") is not None else \
        transport.get_extra_info("socket")
    if (cycle.scope["method"] == "HEAD" or count == 0 or cycle.chunked_encoding
            or sock is None or not cycle.response_started or cycle.response_complete
            or count > cycle.expected_content_length
            or transport.get_write_buffer_size() > 0):
        # Nothing to move, or the socket is not ours alone right now: plain body messages
        # keep uvicorn's framing and ordering intact.
        if count and cycle.scope["method"] != "HEAD":
            await _fallback(cycle, file, offset, count, more_body, send)
        elif not more_body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if cycle.disconnected:
        return
    try:
        await _sendfile(cycle, sock.fileno(), file.fileno(), offset, count)
    except (OSError, EOFError):
        # The client left (or the file was cut short): the response cannot be completed
        # on this connection, so drop it as uvicorn does for a disconnect.
        cycle.disconnected = True
        transport.close()
        return
    cycle.expected_content_length -= count
    if not more_body:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Body:
    """Request body pieces received but not yet handed to the app, kept as they came:
    the parser's own ``bytes``, or the pieces a large body is read into.  uvicorn would
    append each to a ``bytearray`` and copy that into new ``bytes`` for every
    ``http.request`` message, two copies per byte that an upload pays on the event loop."""

    __slots__ = ("pieces", "size")

    def __init__(self) -> None:
        self.pieces: deque[bytes | bytearray] = deque()
        self.size = 0


def _queue_body(cycle: Any) -> bool:
    """Queue ``cycle``'s body pieces from now on (what arrived before stays in front);
    False with a uvicorn whose cycle keeps other state (its own ``receive`` is kept)."""
    if getattr(cycle, "walrus_body", None) is not None:
        return True
    if cycle is None or not all(hasattr(cycle, name) for name in _RECEIVE_STATE):
        return False
    queue = cycle.walrus_body = _Body()
    if cycle.body:
        queue.pieces.append(bytes(cycle.body))
        queue.size = len(cycle.body)
        cycle.body = bytearray()
    return True


def _receiver(cycle: Any) -> Any:
    """An ASGI ``receive`` for ``cycle`` that hands over the queued body pieces one by one
    (uvicorn's contract otherwise: 100-continue on the first call, reading resumed while
    the app waits, ``http.disconnect`` once the client is gone or the response is done)."""
    body: _Body = cycle.walrus_body

    async def receive() -> dict[str, Any]:
        if cycle.waiting_for_100_continue and not cycle.transport.is_closing():
            cycle.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            cycle.waiting_for_100_continue = False
        if not body.pieces and not cycle.disconnected and not cycle.response_complete:
            cycle.flow.resume_reading()
            await cycle.message_event.wait()
            cycle.message_event.clear()
        if cycle.disconnected or cycle.response_complete:
            return {"type": "http.disconnect"}
        if not body.pieces:
            return {"type": "http.request", "body": b"", "more_body": cycle.more_body}
        piece = body.pieces.popleft()
        body.size -= len(piece)
        if body.size < BODY_HIGH_WATER:
            cycle.flow.resume_reading()
        return {"type": "http.request", "body": piece,
                "more_body": bool(body.pieces) or cycle.more_body}

    return receive


class ZeroCopyProtocol(HttpToolsProtocol, asyncio.BufferedProtocol):
    """uvicorn's httptools HTTP/1.1 protocol with ``http.response.zerocopysend``, a
    header-read timeout, reading into one reused buffer and handing request bodies over
    without copying them."""

    #: Seconds a client has to send a request line and headers (see the module text).
    header_timeout: float = 30.0
    _header_timer: asyncio.TimerHandle | None = None
    _lost = False
    _header_bytes = 0
    _oversized = False

    #: Body bytes still to be read past the parser (the request being received).
    _raw_left = 0
    #: The current request's declared body length while the parser reads its first part.
    _raw_declared = 0
    _raw_parsed = 0
    _piece: bytearray | None = None
    _piece_fill = 0
    _piece_size = BODY_PIECE

    @classmethod
    def configured(cls, *, header_timeout: float) -> Any:
        """A factory of this protocol with another header timeout, for uvicorn's ``http``
        setting (uvicorn calls it as a class)."""
        protocol = type(cls.__name__, (cls,), {"header_timeout": header_timeout})

        def make(*args: Any, **kwargs: Any) -> _Buffered:
            return _Buffered(protocol(*args, **kwargs))
        return make

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._lost = True
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """The server stops: idle connections close now (uvicorn), a response still
        going out gets until :data:`SHUTDOWN_GRACE` seconds after the stop began to finish,
        then its connection is cut (uvicorn would wait for it as long as its client cares
        to read; so would the close of a connection whose last bytes the client leaves
        unread)."""
        super().shutdown()
        # One grace for the whole stop, counted from its first connection: the plain and
        # HTTPS servers stop one after the other (a deadline long past is an earlier
        # server's stop on this thread).
        now = self.loop.time()
        ends = getattr(_loop_local, "shutdown_ends", None)
        if ends is None or now > ends + SHUTDOWN_GRACE:
            ends = _loop_local.shutdown_ends = now + SHUTDOWN_GRACE
        self.loop.call_at(max(ends, now), self._end_at_shutdown)

    def _end_at_shutdown(self) -> None:
        if not self._lost:
            # abort: close() waits for the unsent bytes to go out first.
            self.transport.abort()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._raw_declared = self._raw_parsed = 0
        self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value))
        super().on_header(name, value)

    def _count_header_bytes(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            # Raised inside a parser callback: uvicorn stops parsing and answers through
            # send_400_response, which says 431 for this case.
            self._oversized = True
            raise ValueError("request headers too large")

    def send_400_response(self, msg: str) -> None:
        if not self._oversized:
            super().send_400_response(msg)
            return
        self.transport.write(_TOO_LARGE)
        self.transport.close()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()  # starts the app, unless a request is still running
        if _queue_body(self.cycle):
            self._raw_declared = _declared_length(self.headers)

    def on_message_complete(self) -> None:
        self._raw_declared = 0  # the parser saw the whole body: nothing to read past it
        super().on_message_complete()

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout,
                                                      self._header_timeout_expired)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout_expired(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request is still being answered: give the next one its time
            # once that is done rather than cutting the answer short.
            self._arm_header_timer()
            return
        if not self.transport.is_closing():
            self.transport.close()

    def get_buffer(self, sizehint: int) -> memoryview:
        """Where the event loop reads next: the rest of the body piece being filled while
        a large body is read past the parser, the loop's shared buffer otherwise (no
        ``bytes`` object per read; the parser copies out only what it keeps)."""
        if self._raw_left:
            if self._piece is None:
                # Never more than the body: what follows it is the next request's.
                self._piece = bytearray(min(self._piece_size, self._raw_left))
                self._piece_fill = 0
                # The first pieces are small, so that the app starts on the body soon.
                self._piece_size = min(2 * self._piece_size, BODY_PIECE)
            return memoryview(self._piece)[self._piece_fill:]
        buffer: bytearray | None = getattr(_loop_local, "buffer", None)
        if buffer is None:
            buffer = _loop_local.buffer = bytearray(RECV_BUFFER)
        return memoryview(buffer)

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` arrived where :meth:`get_buffer` said: body bytes to count, or bytes
        to parse as uvicorn parses received data."""
        if self._raw_left:
            self._raw_received(nbytes)
            return
        with memoryview(_loop_local.buffer) as view:
            self.data_received(view[:nbytes])  # type: ignore[arg-type]
        left = self._raw_declared - self._raw_parsed
        if (self._raw_declared >= RAW_BODY_AT and left > 0 and self.parser is not None
                and not self.transport.is_closing()):
            # The headers and the body's first bytes went through the parser; the rest
            # of the body is read past it, straight into the pieces the app receives.
            self._raw_left = left
            self._raw_declared = 0
            self._piece_size = FIRST_PIECE

    def _raw_received(self, nbytes: int) -> None:
        piece = self._piece
        assert piece is not None
        self._piece_fill += nbytes
        self._raw_left -= nbytes
        if self._piece_fill == len(piece):
            cycle = self.cycle
            if cycle.response_complete or cycle.disconnected:
                self._piece_fill = 0  # answered already: the rest of the body is dropped
                if self._raw_left < len(piece):
                    self._piece = None
            else:
                self._piece = None
                self._queue_piece(cycle, piece)
        if not self._raw_left:
            # The body is over: the next bytes start a request, for a parser that has
            # not seen this one's body (the old one still waits for it).
            self._piece = None
            self.parser = httptools.HttpRequestParser(self)
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
            self.on_message_complete()

    def _queue_piece(self, cycle: Any, piece: bytes | bytearray) -> None:
        """Hand a body piece to the app's queue, pausing reading while too much waits."""
        queue: _Body = cycle.walrus_body
        queue.pieces.append(piece)
        queue.size += len(piece)
        if queue.size > BODY_HIGH_WATER:
            self.flow.pause_reading()
        cycle.message_event.set()

    def on_body(self, body: bytes) -> None:
        self._raw_parsed += len(body)
        cycle = self.cycle
        queue: _Body | None = getattr(cycle, "walrus_body", None)
        if queue is None:
            super().on_body(body)
            return
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        self._queue_piece(cycle, body)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if _queue_body(cycle):
            # run_asgi passes ``self.receive`` to the app: an instance attribute overrides it.
            cycle.receive = _receiver(cycle)
        if not all(hasattr(cycle, name) for name in _CYCLE_STATE):
            # A uvicorn whose cycle keeps other state: announce nothing, the app streams.
            super()._start_asgi_task(cycle, app)
            return
        cycle.scope.setdefault("extensions", {})[EXTENSION] = {}
        plain_send = cycle.send

        async def send(message: Any) -> None:
            if message["type"] == EXTENSION:
                await zerocopy_send(cycle, message, plain_send)
            elif message["type"] == "http.response.body":
                # A body nobody reads any more stops the app's stream (ClientGone).
                await _send_body(cycle, message, plain_send)
            else:
                await plain_send(message)

        # run_asgi passes ``self.send`` to the app: an instance attribute overrides it.
        cycle.send = send
        super()._start_asgi_task(cycle, app)


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int:
    """The Content-Length of a request that frames its body by it (0 otherwise: chunked,
    an upgrade, or no body)."""
    length = 0
    for name, value in headers:
        if name == b"content-length" and value.isdigit():
            length = int(value)
        elif name in (b"transfer-encoding", b"upgrade"):
            return 0
    return length


class _Buffered(asyncio.BufferedProtocol):
    """What the event loop talks to: a :class:`ZeroCopyProtocol`'s methods on an object
    that is not an ``asyncio.Protocol``, so that uvloop reads through ``get_buffer``."""

    def __init__(self, inner: ZeroCopyProtocol) -> None:
        self.connection_made = inner.connection_made  # type: ignore[method-assign]
        self.connection_lost = inner.connection_lost  # type: ignore[method-assign]
        self.get_buffer = inner.get_buffer  # type: ignore[method-assign]
        self.buffer_updated = inner.buffer_updated  # type: ignore[method-assign]
        self.eof_received = inner.eof_received  # type: ignore[method-assign]
        self.pause_writing = inner.pause_writing  # type: ignore[method-assign]
        self.resume_writing = inner.resume_writing  # type: ignore[method-assign]
