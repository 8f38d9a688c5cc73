"""A network namespace for data-plane tests: instance addresses on a veth interface,
small HTTP servers bound to them, and clients run inside.  Nothing of the host's
interfaces, routes or firewall is touched; the namespace is deleted afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

#: The backend: answers with its name and the forwarding headers it received;
#: ``/health`` answers 200.  argv: address port name
SERVER = textwrap.dedent('''
    import json, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        proxy_line = None
        def parse_request(self):
            # A proxy-protocol (v1) header comes before the request line: keep it.
            if self.raw_requestline.startswith(b"PROXY "):
                self.proxy_line = self.raw_requestline.decode().strip()
                self.raw_requestline = self.rfile.readline(65537)
            return super().parse_request()
        def do_GET(self):
            if self.path.startswith("/slow"):
                time.sleep(float(self.path.rsplit("/", 1)[1]))
            body = json.dumps({"name": name, "path": self.path,
                               "xff": self.headers.get("X-Forwarded-For"),
                               "proto": self.headers.get("X-Forwarded-Proto"),
                               "port": self.headers.get("X-Forwarded-Port"),
                               "proxy": self.proxy_line}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if self.path.startswith("/app"):  # the application's own session cookie
                self.send_header("Set-Cookie", "SESSION=s1; Path=/")
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer((addr, port), H).serve_forever()
''')

#: The client: N requests, each on a new connection (or one session with cookies);
#: prints {"names": {name: count}, "failures": n, "last": answer}.
CLIENT = textwrap.dedent('''
    import http.client, json, sys
    host, port, count, sticky = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    path = sys.argv[5] if len(sys.argv) > 5 else "/"
    names, failures, last, cookie = {}, 0, None, None
    for _ in range(count):
        try:
            conn = http.client.HTTPConnection(host, port, timeout=20)
            headers = {"Cookie": cookie} if cookie and sticky == "1" else {}
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            set_cookie = resp.getheader("Set-Cookie")
            if set_cookie and cookie is None:
                cookie = set_cookie.split(";", 1)[0]
            conn.close()
            if resp.status != 200:
                failures += 1
                continue
            last = json.loads(body)
            names[last["name"]] = names.get(last["name"], 0) + 1
        except Exception as exc:
            failures += 1
            last = {"error": repr(exc)}
    print(json.dumps({"names": names, "failures": failures, "last": last, "cookie": cookie}))
''')


def why_not() -> str:
    """Why the namespace tests cannot run here ("" when they can)."""
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    if not shutil.which("ip"):
        return "needs iproute2 (ip)"
    if not shutil.which("haproxy"):
        return "needs haproxy (scripts/sysdeps.sh installs it)"
    return ""


class Namespace:
    """A throw-away network namespace with a veth interface for instance addresses."""

    def __init__(self, workdir: Path):
        self.name = f"euca-elb-{uuid.uuid4().hex[:8]}"
        self.workdir = workdir
        self.servers: dict[str, subprocess.Popen[bytes]] = {}
        self._ip("netns", "add", self.name)
        self._ip("-n", self.name, "link", "set", "lo", "up")
        # A veth pair with both ends inside (no dummy module needed): inst0 holds the
        # instances' addresses.
        self._ip("-n", self.name, "link", "add", "inst0", "type", "veth", "peer", "name",
                 "inst1")
        self._ip("-n", self.name, "link", "set", "inst0", "up")
        self._ip("-n", self.name, "link", "set", "inst1", "up")
        (workdir / "server.py").write_text(SERVER)
        (workdir / "client.py").write_text(CLIENT)

    @staticmethod
    def _ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)

    def add_address(self, address: str) -> None:
        """Give the namespace an instance's private address."""
        self._ip("-n", self.name, "addr", "add", f"{address}/32", "dev", "inst0")

    def serve(self, address: str, port: int, name: str) -> None:
        """Start a backend HTTP server on address:port answering as ``name``."""
        with open(self.workdir / f"{name}.log", "ab") as log:
            self.servers[name] = subprocess.Popen(
                ["ip", "netns", "exec", self.name, sys.executable,
                 str(self.workdir / "server.py"), address, str(port), name],
                stdout=log, stderr=log)
        # Answering before the test goes on (the machine may be slow to start Python).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            out = self.requests(address, port, 1)
            if out["failures"] == 0:
                return
            if self.servers[name].poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"backend {name} does not answer: "
                           f"{(self.workdir / f'{name}.log').read_text()[-2000:]}")

    def stop_server(self, name: str) -> None:
        """Stop one backend (its instance keeps running: only the responder stops)."""
        proc = self.servers.pop(name)
        proc.terminate()
        proc.wait(timeout=10)

    def requests(self, host: str, port: int, count: int, sticky: bool = False,
                 path: str = "/") -> dict[str, object]:
        """Run ``count`` requests from inside the namespace; the client's summary."""
        res = subprocess.run(
            ["ip", "netns", "exec", self.name, sys.executable, str(self.workdir / "client.py"),
             host, str(port), str(count), "1" if sticky else "0", path],
            capture_output=True, timeout=600, check=True)
        return dict(json.loads(res.stdout))

    def close(self) -> None:
        """Stop the servers and delete the namespace."""
        for name in list(self.servers):
            self.stop_server(name)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)
