"""Internal HTTP: a small signed-CBOR RPC between components.

:class:`InternalServer` is the ASGI application a component process serves: every
request is a ``POST`` of a CBOR body to a path naming the operation, signed as
:mod:`server.remote.signing` describes; the answer is CBOR ``{"result": ...}`` or
``{"error": ..., "code": ...}``.  :class:`InternalClient` is the caller's side
(blocking; the proxies run it off the control loop where it matters).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from server.remote import wire
from server.remote.signing import Keyring, Refused

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any]
MAX_BODY = 16 << 20
MAX_BATCH = 1000


class RemoteError(Exception):
    """The remote component refused the operation (4xx): the message is its reason."""

    def __init__(self, message: str, code: str = "InvalidRequest", status: int = 400):
        super().__init__(message)
        self.code = code
        self.status = status


class Unreachable(Exception):
    """The remote component did not answer (connection refused, timeout, 5xx)."""


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class InternalServer:
    """ASGI app: signed CBOR operations of one component (a Cluster or a Node).

    ``/batch`` carries several operations, carried out in order, each with its own
    answer; ``batch_hooks`` (begin, end) bracket a batch (e.g. one durable write for all).
    """

    def __init__(self, keyring: Keyring, routes: dict[str, Handler],
                 batch_hooks: tuple[Callable[[], None], Callable[[], None]] | None = None):
        self.keyring = keyring
        self.routes = {**routes, "/batch": self.batch}
        self.batch_hooks = batch_hooks

    async def batch(self, request: Any) -> list[list[Any]]:
        """Operations in order: ``[[path, payload], ...]`` -> ``[[ok, result or error, code]]``."""
        ops = request["ops"]
        if not isinstance(ops, list) or len(ops) > MAX_BATCH:
            raise ValueError(f"ops: a list of at most {MAX_BATCH} operations")
        if self.batch_hooks is not None:
            self.batch_hooks[0]()
        out: list[list[Any]] = []
        try:
            for path, payload in ops:
                handler = self.routes.get(str(path))
                if handler is None or path == "/batch":
                    out.append([False, f"no operation {path}", "NotFound"])
                    continue
                try:
                    result = handler(payload)
                    if inspect.isawaitable(result):
                        result = await result
                except RemoteError as exc:
                    out.append([False, str(exc), exc.code])
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    out.append([False, f"malformed request: {exc!r}", "InvalidRequest"])
                else:
                    out.append([True, result, ""])
        finally:
            if self.batch_hooks is not None:
                self.batch_hooks[1]()
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                await self._answer(send, 413, {"error": "request too large", "code": "TooLarge"})
                return
            if not message.get("more_body"):
                break
        status, payload = await self.handle(scope["method"], scope["path"], bytes(body),
                                            {k.decode("latin-1").lower(): v.decode("latin-1")
                                             for k, v in scope.get("headers", [])})
        await self._answer(send, status, payload)

    async def handle(self, method: str, path: str, body: bytes,
                     headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """One request -> (status, CBOR-able answer)."""
        try:
            caller = self.keyring.verify(method, path, body, headers)
        except Refused as exc:
            log.warning("refused internal request %s %s: %s", method, path, exc)
            return 403, {"error": str(exc), "code": "AccessDenied"}
        handler = self.routes.get(path)
        if method != "POST" or handler is None:
            return 404, {"error": f"no operation {method} {path}", "code": "NotFound"}
        try:
            request = wire.loads(body)
            result = handler(request)
            if inspect.isawaitable(result):
                result = await result
        except RemoteError as exc:
            return exc.status, {"error": str(exc), "code": exc.code}
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            log.info("bad internal request %s from %s: %r", path, caller, exc)
            return 400, {"error": f"malformed request: {exc!r}", "code": "InvalidRequest"}
        return 200, {"result": result}

    @staticmethod
    async def _answer(send: Send, status: int, payload: dict[str, Any]) -> None:
        data = wire.dumps(payload)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/cbor"),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


class InternalClient:
    """Signed CBOR calls to one component at ``base_url`` (blocking, thread-safe)."""

    def __init__(self, base_url: str, keyring: Keyring, *, timeout: float = 5.0,
                 verify: str | bool = True):
        self.base_url = base_url.rstrip("/")
        self.keyring = keyring
        self.timeout = timeout
        self.verify = verify
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # internal links never go through a proxy
        return session

    def call(self, path: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        """POST one operation; its result.  :class:`Unreachable` or :class:`RemoteError`."""
        body = wire.dumps(payload)
        headers = self.keyring.sign("POST", path, body)
        headers["content-type"] = "application/cbor"
        try:
            response = self._session().post(self.base_url + path, data=body, headers=headers,
                                            timeout=timeout or self.timeout, verify=self.verify)
        except (requests.RequestException, OSError) as exc:
            raise Unreachable(f"{self.base_url}: {exc.__class__.__name__}") from None
        if response.status_code >= 500:
            raise Unreachable(f"{self.base_url}{path}: HTTP {response.status_code}")
        try:
            answer = wire.loads(response.content)
        except ValueError:
            raise Unreachable(f"{self.base_url}{path}: unreadable answer") from None
        if response.status_code != 200 or not isinstance(answer, dict):
            error = answer.get("error", "") if isinstance(answer, dict) else ""
            code = answer.get("code", "") if isinstance(answer, dict) else ""
            raise RemoteError(str(error) or f"HTTP {response.status_code}",
                              str(code) or "InvalidRequest", response.status_code)
        return answer.get("result")



Then = Callable[[Any, BaseException | None], None]


class Outbox:
    """Requests to one component whose answers nobody waits for: sent in order on one
    thread; those queued while one is in flight go together in one ``/batch``."""

    def __init__(self, client: InternalClient, name: str):
        self.client = client
        self._queue: list[tuple[str, Any, Then | None]] = []
        self._lock = threading.Lock()
        self._scheduled = False
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"outbox-{name}")

    def send(self, path: str, payload: Any, then: Then | None = None) -> None:
        """Queue one request; ``then(result, error)`` is called on the sending thread."""
        with self._lock:
            self._queue.append((path, payload, then))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._worker.submit(self._flush)
        except RuntimeError:  # shut down
            pass

    def close(self) -> None:
        """Stop sending."""
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _flush(self) -> None:
        with self._lock:
            ops, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            self._scheduled = bool(self._queue)
            if self._scheduled:
                self._worker.submit(self._flush)
        if len(ops) == 1:
            path, payload, then = ops[0]
            try:
                result, error = self.client.call(path, payload), None
            except (Unreachable, RemoteError) as exc:
                result, error = None, exc
            if then is not None:
                then(result, error)
            return
        try:
            answers = self.client.call("/batch", {"ops": [[p, q] for p, q, _ in ops]})
        except (Unreachable, RemoteError) as exc:
            for _, _, then in ops:
                if then is not None:
                    then(None, exc)
            return
        for (path, _, then), (ok, result, code) in zip(ops, answers, strict=False):
            if then is None:
                continue
            if ok:
                then(result, None)
            else:
                then(None, RemoteError(f"{path}: {result}", code))
