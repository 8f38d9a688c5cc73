"""The node's metadata proxy: guests' ``http://169.254.169.254/...`` reaches the cloud.

The node DNATs 169.254.169.254:80 to this proxy on its bridge address (inside the zone's
network namespace when there is one).  The proxy knows which guest asks from the TCP
peer address: DNAT keeps the source, and the node's anti-spoofing rules keep a guest to
its own address; it looks that address up in the node's current network view and
forwards the request to the cloud's metadata service with ``X-Instance-ID`` and its HMAC
signature (as OpenStack's metadata proxy does).  Whatever headers the guest sent are
dropped, so a guest cannot claim to be another instance; an address the view does not
know gets 404.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from server.metadata import sign

log = logging.getLogger(__name__)

#: private address -> instance ID of the guests on this node (the current view's).
Resolver = Callable[[str], str | None]


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._forward("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._forward("HEAD")

    def _forward(self, method: str) -> None:
        proxy = self.server.proxy
        instance_id = proxy.resolve(self.client_address[0])
        if instance_id is None:
            self._answer(404, b"unknown instance\n")
            return
        target = urllib.parse.urlsplit(proxy.cloud_url)
        conn_type = http.client.HTTPSConnection if target.scheme == "https" \
            else http.client.HTTPConnection
        try:
            conn = conn_type(target.netloc, timeout=10)
            conn.request(method, self.path, headers={
                "X-Instance-ID": instance_id,
                "X-Instance-ID-Signature": sign(proxy.secret, instance_id)})
            reply = conn.getresponse()
            body = reply.read()
            conn.close()
        except OSError as exc:
            log.warning("metadata proxy: the cloud did not answer: %s", exc)
            self._answer(502, b"metadata service unavailable\n")
            return
        self._answer(reply.status, body, reply.getheader("Content-Type") or "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("metadata proxy: " + format, *args)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: MetadataProxy


class MetadataProxy:
    """A threaded HTTP proxy on an already listening socket (see the module docstring)."""

    def __init__(self, sock: socket.socket, cloud_url: str, secret: str, resolve: Resolver):
        self.cloud_url = cloud_url
        self.secret = secret
        self.resolve = resolve
        self.server = _ProxyServer(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.server.socket.close()
        self.server.socket = sock
        self.server.proxy = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="metadata-proxy")
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens."""
        host, port = self.server.socket.getsockname()[:2]
        return str(host), int(port)

    def close(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
