"""The HAProxy data plane: one HAProxy process per balancer, in master-worker mode.

The component hands each balancer's :class:`~server.ports.loadbalancer.BalancerSpec`
to :meth:`HAProxyPlane.apply`, which writes the configuration, checks it (``haproxy -c``)
and starts the master, or signals it to reload (SIGUSR2): the master starts new workers
on the new configuration and the old ones finish their established connections (for at
most the connection-draining timeout, ``hard-stop-after``).  Health and counters come
from the worker's stats socket (``show stat``); access-log lines arrive on a Unix
datagram socket per balancer.

Balancers may run in a network namespace (``ip netns exec``): the sockets are files, so
the cloud talks to them the same way.  A master found running after a cloud restart
(its pid recorded next to its configuration) is adopted and reloaded, not restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import hashlib
import io
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from server.elb import firewall
from server.elb.haproxy_app import app_sections
from server.ports.loadbalancer import (
    AppBalancerSpec,
    BackendState,
    BalancerSpec,
    Frontend,
    Traffic,
)
from server.util import atomic_write

log = logging.getLogger(__name__)

#: ELB's access-log entry (after the time stamp and balancer name the cloud adds):
#: client:port backend:port request_time backend_time response_time elb_status
#: backend_status received_bytes sent_bytes "request" "user_agent" ssl_cipher ssl_protocol
HTTP_LOG = ('%ci:%cp %si:%sp %TR %Tr %Td %ST %ST %U %B '
            '\\"%HM {scheme}://%[capture.req.hdr(0)]%HU %HV\\" \\"%[capture.req.hdr(1)]\\" '
            '{ssl}')
TCP_LOG = '%ci:%cp %si:%sp -1 -1 %Tt - - %U %B \\"- - - \\" \\"-\\" {ssl}'
MAX_LOG_LINES = 100_000
#: HAProxy's check results of a passing check (layer 4, 6 or 7).
PASSING = ("L4OK", "L6OK", "L7OK")


@dataclass
class _Running:
    spec: BalancerSpec
    proc: subprocess.Popen[bytes] | None
    pid: int
    log_sock: socket.socket | None
    lines: list[str] = field(default_factory=list)
    generation: int = 0


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


class HAProxyPlane:
    """Runs balancers as HAProxy processes under ``DATA_DIR/elb``."""

    def __init__(self, data_dir: str, netns: str = "", binary: str = "haproxy"):
        self.root = os.path.join(data_dir, "elb")
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        # Unix socket paths are short (108 bytes): they live in a directory of their own.
        self.sock_root = os.path.join(tempfile.gettempdir(), f"euca-elb-{_short(self.root)}")
        os.makedirs(self.sock_root, mode=0o700, exist_ok=True)
        self.netns = netns
        self.binary = shutil.which(binary) or ""
        self.running: dict[str, _Running] = {}
        #: Per balancer, the servers seen passing a check since they were added.
        self._passed: dict[str, set[str]] = {}

    # -- paths ---------------------------------------------------------------------------
    def _dir(self, key: str) -> str:
        path = os.path.join(self.root, key)
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    def _sock(self, key: str, kind: str) -> str:
        return os.path.join(self.sock_root, f"{_short(key)}.{kind}")

    def available(self) -> str:
        """Why balancers cannot run here ("" when they can)."""
        if not self.binary:
            return "haproxy is not installed"
        if self.netns and not os.path.exists(f"/run/netns/{self.netns}"):
            return f"network namespace {self.netns} does not exist"
        if self.netns and not shutil.which("nft"):
            return "nft is not installed (security groups in the namespace)"
        return ""

    # -- configuration --------------------------------------------------------------------
    def render(self, spec: BalancerSpec) -> str:
        """The HAProxy configuration of one balancer."""
        d = self._dir(spec.key)
        hard_stop = max(1, int(spec.drain_seconds)) if spec.drain_seconds else \
            max(1, spec.idle_timeout)
        out = ["global",
               f"    hard-stop-after {hard_stop}s",
               # Health carries over a reload (the states are saved just before it).
               f"    server-state-file {os.path.join(d, 'servers.state')}",
               "    maxconn 4096"]
        if spec.access_log:
            out.append(f"    log unix@{self._sock(spec.key, 'log')} len 4096 format raw local0")
        out += ["",
                "defaults",
                "    log global",
                "    load-server-state-from-file global",
                # A connection an instance refuses or drops (one just registered and not
                # checked yet, or one going away) is retried on another: no client error.
                "    option redispatch",
                "    retries 3",
                # A check's connect phase is bounded by "timeout connect" (not by "timeout
                # check"): keep it within the health check's Timeout, or a silent instance
                # (SYN dropped) fails each check only after 5 s.
                f"    timeout connect {min(5, max(1, spec.timeout))}s",
                f"    timeout client {spec.idle_timeout}s",
                f"    timeout server {spec.idle_timeout}s",
                f"    timeout http-keep-alive {spec.idle_timeout}s",
                f"    timeout check {spec.timeout}s",
                ""]
        if isinstance(spec, AppBalancerSpec):
            out += app_sections(spec, d, lambda port: self._source_filter(spec, port, d))
        for fe in spec.frontends:
            out += self._frontend(spec, fe, d)
            out += self._backend(spec, fe)
        return "\n".join(out) + "\n"

    def _frontend(self, spec: BalancerSpec, fe: Frontend, d: str) -> list[str]:
        http = fe.protocol in ("HTTP", "HTTPS")
        tls = fe.protocol in ("HTTPS", "SSL")
        bind = f"    bind {spec.address}:{fe.port}"
        if tls:
            pem = os.path.join(d, f"listener-{fe.port}.pem")
            atomic_write(pem, fe.certificate_pem.encode(), mode=0o600)
            bind += f" ssl crt {pem}" + _tls_options(fe)
        lines = [f"frontend l{fe.port}", f"    mode {'http' if http else 'tcp'}", bind]
        lines += self._source_filter(spec, fe.port, d)
        ssl = "%sslc %sslv" if tls else "- -"
        if http:
            scheme = "https" if tls else "http"
            lines += ["    http-request capture req.hdr(host) len 128",
                      "    http-request capture req.hdr(user-agent) len 256",
                      "    option forwardfor",
                      f"    http-request set-header X-Forwarded-Proto {scheme}",
                      f"    http-request set-header X-Forwarded-Port {fe.port}",
                      f'    log-format "{HTTP_LOG.format(scheme=scheme, ssl=ssl)}"']
        else:
            lines.append(f'    log-format "{TCP_LOG.format(ssl=ssl)}"')
        if not spec.access_log:
            lines.append("    no log")
        lines += [f"    default_backend b{fe.port}", ""]
        return lines

    def _source_filter(self, spec: BalancerSpec, port: int, d: str) -> list[str]:
        """The listener's security groups as HAProxy ACLs (a balancer on the host: its
        firewall is not ours to change; in a namespace nftables filters instead)."""
        if self.netns or spec.ingress is None:
            return []
        sources = next((i.sources for i in spec.ingress if i.port == port), ())
        if firewall.ANYWHERE in sources:
            return []
        if not sources:
            return ["    tcp-request connection reject"]
        # A file: a rule line takes at most 64 words, a group may admit more sources.
        path = os.path.join(d, f"listener-{port}.sources")
        atomic_write(path, ("\n".join(sources) + "\n").encode(), mode=0o600)
        return [f"    tcp-request connection reject unless {{ src -f {path} }}"]

    def _apply_firewall(self) -> None:
        """Replace the namespace's balancer rules with the running balancers' ingress."""
        if not self.netns:
            return
        firewall.apply(self.netns, firewall.render(
            firewall.table_name(_short(self.root)), [r.spec for r in self.running.values()]))

    def _ingress_only(self, spec: BalancerSpec) -> bool:
        """True when the balancer runs and only its ingress changed, in a namespace
        (nftables takes the change: HAProxy needs no reload)."""
        run = self.running.get(spec.key)
        return bool(self.netns and run is not None and run.pid and _alive(run.pid) and
                    dataclasses.replace(spec, ingress=run.spec.ingress) == run.spec)

    def _backend(self, spec: BalancerSpec, fe: Frontend) -> list[str]:
        http = fe.protocol in ("HTTP", "HTTPS")
        kind, _, rest = spec.health_target.partition(":")
        port_text, _, path = rest.partition("/")
        lines = [f"backend b{fe.port}", f"    mode {'http' if http else 'tcp'}",
                 "    balance roundrobin"]
        if kind in ("HTTP", "HTTPS"):
            lines += [f"    option httpchk GET /{path}", "    http-check expect status 200"]
        if http and fe.stickiness == "lb":
            expiry = f" maxlife {fe.cookie_seconds}s" if fe.cookie_seconds else ""
            lines.append(f"    cookie AWSELB insert indirect nocache{expiry}")
        elif http and fe.stickiness == "app" and fe.cookie_name:
            lines.append(f"    cookie {fe.cookie_name} prefix nocache")
        check = f"check port {port_text} inter {spec.interval}s rise " \
                f"{spec.healthy_threshold} fall {spec.unhealthy_threshold}"
        if kind in ("HTTPS", "SSL"):
            check += " check-ssl verify none"
        for be in spec.backends:
            server = f"    server {be.instance_id} {be.address}:{fe.instance_port} {check} " \
                     f"weight {be.weight}"
            if fe.instance_protocol in ("HTTPS", "SSL"):
                server += " ssl verify none"
            if http and fe.stickiness:
                server += f" cookie {be.instance_id}"
            if fe.proxy_protocol:
                server += " send-proxy"
            lines.append(server)
        lines.append("")
        return lines

    # -- processes ------------------------------------------------------------------------
    def _prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def _check(self, cfg: str) -> None:
        res = subprocess.run([*self._prefix(), self.binary, "-c", "-q", "-f", cfg],
                             capture_output=True, timeout=30)
        if res.returncode != 0:
            raise RuntimeError(f"HAProxy refuses the configuration: "
                               f"{res.stderr.decode(errors='replace').strip()[:500]}")

    def _log_socket(self, key: str, want: bool) -> socket.socket | None:
        if not want:
            return None
        path = self._sock(key, "log")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind(path)
        sock.setblocking(False)
        # A Unix datagram queue is short (net.unix.max_dgram_qlen) and HAProxy drops what
        # does not fit: read each entry as it arrives.
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().add_reader(sock.fileno(), self._drain, key)
        return sock

    def _drain(self, key: str) -> None:
        run = self.running.get(key)
        if run is None or run.log_sock is None:
            return
        while True:
            try:
                data = run.log_sock.recv(65536)
            except (BlockingIOError, OSError):
                return
            if len(run.lines) < MAX_LOG_LINES:
                run.lines.append(data.decode(errors="replace").strip())

    def _close_log(self, run: _Running) -> None:
        if run.log_sock is None:
            return
        with contextlib.suppress(RuntimeError, ValueError):
            asyncio.get_running_loop().remove_reader(run.log_sock.fileno())
        run.log_sock.close()
        run.log_sock = None

    def apply(self, spec: BalancerSpec) -> None:
        """Start or reload the balancer's HAProxy with ``spec``."""
        if self.available():
            return
        if self._ingress_only(spec):
            self.running[spec.key].spec = spec
            self._apply_firewall()
            return
        d = self._dir(spec.key)
        cfg = os.path.join(d, "haproxy.cfg")
        new = os.path.join(d, "haproxy.cfg.new")
        atomic_write(new, self.render(spec).encode(), mode=0o600)
        self._check(new)
        os.replace(new, cfg)
        run = self.running.get(spec.key)
        if run is None:
            pid = self._adoptable(spec.key, cfg)
            run = _Running(spec, None, pid, None)
            self.running[spec.key] = run
        if run.log_sock is None and spec.access_log:
            run.log_sock = self._log_socket(spec.key, True)
        previous, run.spec = run.spec, spec
        # The rules come first: a new listener is never open to sources its groups refuse.
        self._apply_firewall()
        if run.pid and _alive(run.pid):
            if not spec.drain_seconds:
                # Without connection draining, connections to removed instances close now
                # (the old worker would otherwise finish them).
                gone = {b.instance_id for b in previous.backends} - \
                    {b.instance_id for b in spec.backends}
                for iid in sorted(gone):
                    for fe in previous.frontends:
                        self._cli(spec.key, f"@1 shutdown sessions server b{fe.port}/{iid}")
            state = self._cli(spec.key, "@1 show servers state", wait=10.0)
            if state:
                atomic_write(os.path.join(d, "servers.state"), state.encode(), mode=0o600)
            self._reload(spec.key, run.pid)  # new workers; the old ones drain
            run.generation += 1
            return
        errors = os.open(os.path.join(d, "haproxy.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                         0o600)
        try:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [*self._prefix(), self.binary, "-W", "-db", "-S",
                 self._sock(spec.key, "master"), "-f", cfg],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                start_new_session=True)
        finally:
            os.close(errors)
        run.proc, run.pid = proc, proc.pid
        run.generation += 1
        atomic_write(os.path.join(d, "master.pid"), str(proc.pid).encode(), mode=0o600)
        log.info("balancer %s: HAProxy %d on %s", spec.name, proc.pid, spec.address)

    def _adoptable(self, key: str, cfg: str) -> int:
        """The pid of a master left running by an earlier cloud process, else 0."""
        try:
            with open(os.path.join(self._dir(key), "master.pid")) as fh:
                pid = int(fh.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except (OSError, ValueError):
            return 0
        return pid if cfg.encode() in argv else 0

    def remove(self, key: str) -> None:
        """Stop the balancer and delete its files."""
        run = self.running.pop(key, None)
        d = os.path.join(self.root, key)
        pid = run.pid if run else self._adoptable(key, os.path.join(d, "haproxy.cfg"))
        self._terminate(pid, run.proc if run else None)
        if run:
            self._close_log(run)
        for kind in ("master", "log"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._sock(key, kind))
        shutil.rmtree(d, ignore_errors=True)
        try:
            self._apply_firewall()
        except (RuntimeError, OSError, subprocess.SubprocessError):
            log.exception("cannot update the balancers' rules")

    def _terminate(self, pid: int, proc: subprocess.Popen[bytes] | None) -> None:
        if not pid or not _alive(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop every balancer's HAProxy (their configuration stays for the next start)."""
        for run in list(self.running.values()):
            self._terminate(run.pid, run.proc)
            self._close_log(run)
        self.running.clear()
        shutil.rmtree(self.sock_root, ignore_errors=True)
        if self.netns and os.path.exists(f"/run/netns/{self.netns}"):
            with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
                firewall.apply(self.netns, firewall.removal(firewall.table_name(
                    _short(self.root))))

    # -- stats ----------------------------------------------------------------------------
    def _cli(self, key: str, command: str, wait: float = 1.0) -> str | None:
        """A command's answer through the master's CLI (``@1 CMD`` asks the current
        worker).  The CLI lives across reloads but refuses connections while the master
        starts or re-executes: retry for ``wait`` seconds; None if it never answers."""
        path = self._sock(key, "master")
        deadline = time.monotonic() + wait
        while True:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(2.0)
                    s.connect(path)
                    s.sendall(f"{command}\n".encode())
                    s.shutdown(socket.SHUT_WR)
                    chunks = []
                    with contextlib.suppress(ConnectionResetError):
                        while chunk := s.recv(65536):
                            chunks.append(chunk)
                return b"".join(chunks).decode(errors="replace")
            except (ConnectionRefusedError, FileNotFoundError):
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.05)
            except OSError:
                return None

    def _reload(self, key: str, pid: int) -> None:
        """Reload through the master's CLI: it answers only once the master is up, so a
        reload never reaches a master still starting (a signal then would kill it)."""
        if self._cli(key, "reload", wait=10.0) is None:
            log.warning("HAProxy %d does not answer on its CLI: reloading by signal", pid)
            os.kill(pid, signal.SIGUSR2)

    def _stats(self, key: str) -> list[dict[str, str]]:
        text = (self._cli(key, "@1 show stat") or "").lstrip("# ")
        if not text.startswith("pxname"):
            return []
        return list(csv.DictReader(io.StringIO(text)))

    def backend_states(self, key: str) -> dict[str, BackendState]:
        """Each server's state (the first backend's view: every listener checks alike)."""
        run = self.running.get(key)
        if run is None or not run.spec.frontends:
            return {}
        first = f"b{run.spec.frontends[0].port}"
        out: dict[str, BackendState] = {}
        passed = self._passed.setdefault(key, set())
        for row in self._stats(key):
            if row.get("pxname") != first or row.get("svname") in ("FRONTEND", "BACKEND"):
                continue
            out[row["svname"]] = _server_state(row, passed)
        passed.intersection_update(out)  # a deregistered server starts over
        return out

    def server_states(self, key: str) -> dict[str, dict[str, BackendState]]:
        """Each backend's servers' states (``{backend: {server: state}}``): the target
        groups of an Application Load Balancer."""
        if key not in self.running:
            return {}
        out: dict[str, dict[str, BackendState]] = {}
        for row in self._stats(key):
            backend, server = row.get("pxname", ""), row.get("svname", "")
            if server in ("FRONTEND", "BACKEND") or not backend:
                continue
            passed = self._passed.setdefault(f"{key}/{backend}", set())
            state = _server_state(row, passed)
            if row.get("check_code"):  # the HTTP status a failing check got
                state = BackendState(server, state.up, f"{state.detail}:{row['check_code']}")
            out.setdefault(backend, {})[server] = state
        for backend, servers in out.items():
            self._passed[f"{key}/{backend}"].intersection_update(servers)
        return out

    def traffic(self, key: str) -> Traffic | None:
        """Counters summed over the balancer's listeners."""
        run = self.running.get(key)
        if run is None:
            return None
        rows = self._stats(key)
        if not rows:
            return None
        req = elb5 = surge = 0
        codes = {"2XX": 0, "3XX": 0, "4XX": 0, "5XX": 0}
        lat: list[float] = []
        for row in rows:
            sv = row.get("svname")
            if sv == "FRONTEND":
                req += _int(row.get("req_tot")) or _int(row.get("stot"))
                elb5 += _int(row.get("hrsp_5xx"))
            elif sv == "BACKEND":
                for c in codes:
                    codes[c] += _int(row.get(f"hrsp_{c.lower()}"))
                surge += _int(row.get("qcur"))
                if _int(row.get("rtime")) or _int(row.get("ttime")):
                    lat.append((_int(row.get("rtime")) or _int(row.get("ttime"))) / 1000.0)
        elb5 = max(0, elb5 - codes["5XX"])
        return Traffic(req, codes, elb5, sum(lat) / len(lat) if lat else 0.0, surge,
                       run.generation)

    def take_access_log(self, key: str) -> list[str]:
        """Entries received on the balancer's log socket since the last call."""
        run = self.running.get(key)
        if run is None or run.log_sock is None:
            return []
        self._drain(key)
        lines, run.lines = run.lines, []
        return lines


def _tls_options(fe: Frontend) -> str:
    """The bind options of the listener's SSL negotiation policy."""
    out = ""
    if fe.tls_min:
        out += f" ssl-min-ver {fe.tls_min}"
    if fe.tls_max:
        out += f" ssl-max-ver {fe.tls_max}"
    if fe.ciphers:
        out += f" ciphers {fe.ciphers}"
    if fe.prefer_client_ciphers:
        out += " prefer-client-ciphers"
    return out
def _server_state(row: dict[str, str], passed: set[str]) -> BackendState:
    """A server's state from its ``show stat`` row; ``passed`` holds the servers seen
    passing a check since they were added (updated here)."""
    status = row.get("status", "")
    up: bool | None
    if not row.get("check_status") and status != "no check":
        up = None  # not checked yet
    elif status.startswith("UP") and row["svname"] not in passed and \
            not row.get("check_status", "").startswith(PASSING):
        # HAProxy starts a new server UP, before any check: until one passes it
        # is still being registered (AWS: OutOfService), whatever the status says.
        up = None
    elif status.startswith("UP") or status in ("no check", "NOLB", "DRAIN"):
        up = True
        passed.add(row["svname"])
    elif status.startswith("DOWN") and "/" in status:
        up = None if row.get("lastchg") and row.get("chkdown") == "0" else False
    elif status.startswith("DOWN"):
        up = False
    else:
        up = None
    if status.startswith("DOWN"):
        passed.discard(row["svname"])
    return BackendState(row["svname"], up, row.get("check_status", "") or status)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
