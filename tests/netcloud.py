"""A multi-process cloud on one machine, each "host" in its own network namespace.

The test network is entirely the test's own: a switch namespace holds a bridge, and
each host namespace is joined to it by a veth pair created from inside the switch
namespace (the machine's own interfaces, routes and firewall are never touched).
Every component is a real ``eucalyptus-cloud --components ...`` process run with
``ip netns exec`` and listening on its host's address.  The test process reaches the
CLC through a small forwarder on 127.0.0.1 whose upstream sockets are opened inside
the CLC's namespace (``setns`` on one thread).  Everything is removed at the end.
"""

from __future__ import annotations

import configparser
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
PORT = 8773
SUBNET = "10.231.{}.{}"
CLONE_NEWNET = 0x40000000


def netns_unavailable() -> str | None:
    """Why network-namespace tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs the ip command (iproute2)"
    name = f"eucachk{os.getpid()}"
    probe = subprocess.run(["ip", "netns", "add", name], capture_output=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.decode().strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _setns(name: str) -> None:
    """Move the calling thread into network namespace ``name``."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns failed")
    finally:
        os.close(fd)


class Forwarder:
    """127.0.0.1:PORT in the test's namespace -> HOST:PORT inside namespace ``ns``."""

    def __init__(self, ns: str, host: str, port: int):
        self.target = (host, port)
        self.inside = ThreadPoolExecutor(1, initializer=_setns, initargs=(ns,))
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def call_inside(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on a thread inside the namespace (its sockets belong there)."""
        return self.inside.submit(fn).result()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = self.call_inside(lambda: socket.create_connection(self.target, 5))
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        """Stop accepting."""
        self._closed = True
        self.listener.close()
        self.inside.shutdown(wait=False)


@dataclass
class Host:
    """One host: a namespace, its address and the component process it runs."""

    name: str
    ns: str
    address: str
    args: list[str]
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None


@dataclass
class NetCloud:
    """CLC+Walrus, CCs and NCs, each on its own host."""

    prefix: str
    root: Path
    config: Path
    keys_dir: Path
    poll_interval: float
    extra: list[str] = field(default_factory=list)
    hosts: dict[str, Host] = field(default_factory=dict)
    forwarder: Forwarder | None = None
    creds: dict[str, str] = field(default_factory=dict)
    #: euca2ools.ini of the CLC's administrator (its URLs reach the CLC from the test).
    ini: Path | None = None
    _index: int = 1

    # -- network ---------------------------------------------------------------------
    @property
    def switch(self) -> str:
        """The namespace holding the bridge."""
        return f"{self.prefix}sw"

    def add_host(self, name: str, args: list[str]) -> Host:
        """A namespace joined to the bridge, with the next address."""
        ns = f"{self.prefix}{name}"
        address = SUBNET.format(0, self._index)
        port = f"v{self._index}"
        self._index += 1
        _ip("netns", "add", ns)
        _ip("-n", self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0",
            "netns", ns)
        _ip("-n", self.switch, "link", "set", port, "master", "br0")
        _ip("-n", self.switch, "link", "set", port, "up")
        _ip("-n", ns, "addr", "add", f"{address}/16", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        host = Host(name, ns, address, args, self.root / name)
        self.hosts[name] = host
        return host

    # -- processes ------------------------------------------------------------------------
    def start(self, name: str) -> Host:
        """Start (or restart) a host's component process."""
        host = self.hosts[name]
        host.log = self.root / f"{name}.log"
        cmd = ["ip", "netns", "exec", host.ns, str(BIN / "eucalyptus-cloud"),
               "--config", str(self.config), "--data-dir", str(host.data_dir),
               "--listen", f"{host.address}:{PORT}", "--keys-dir", str(self.keys_dir),
               "--poll-interval", str(self.poll_interval), *self.extra, *host.args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(host.log, "ab") as log:
            host.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        return host

    def wait_listening(self, name: str, timeout: float = 60.0) -> None:
        """Block until the host's process accepts connections."""
        host = self.hosts[name]
        probe = ThreadPoolExecutor(1, initializer=_setns, initargs=(host.ns,))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if host.proc is not None and host.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.tail(name)}")
                try:
                    probe.submit(lambda: socket.create_connection(
                        (host.address, PORT), 0.5).close()).result()
                    return
                except OSError:
                    time.sleep(0.1)
        finally:
            probe.shutdown(wait=False)
        raise RuntimeError(f"{name} does not listen: {self.tail(name)}")

    def kill(self, name: str) -> None:
        """kill -9 a host's process."""
        proc = self.hosts[name].proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def pause(self, name: str, paused: bool) -> None:
        """SIGSTOP (a hung host: connections open, nothing answers) or SIGCONT a process."""
        proc = self.hosts[name].proc
        assert proc is not None
        proc.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def tail(self, name: str) -> str:
        """The end of a host's log."""
        log = self.hosts[name].log
        return log.read_text(errors="replace")[-2000:] if log and log.exists() else ""

    # -- clients ----------------------------------------------------------------------------
    def client(self, service: str = "ec2", **kw: Any) -> Any:
        """A boto3 client of the CLC as its admin."""
        import boto3
        from botocore.config import Config

        assert self.forwarder is not None
        path = {"ec2": "/services/compute", "s3": "/services/objectstorage"}[service]
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{self.forwarder.port}{path}",
                            region_name="localhost", aws_access_key_id=self.creds["key"],
                            aws_secret_access_key=self.creds["secret"],
                            config=Config(retries={"max_attempts": 1}, **kw))

    def euca(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """An installed euca2ools command (name first) as a subprocess, with the CLC
        administrator's euca2ools.ini and nothing from this environment's AWS/EUCA
        variables; by default its exit status must be 0."""
        assert self.ini is not None
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "EUCA_", "EC2_", "S3_", "TOKEN_"))}
        env["EUCA_CONFIG_PATH"] = str(self.ini)
        proc = subprocess.run([str(BIN / args[0]), *args[1:]], env=env, capture_output=True,
                              text=True, timeout=60)
        if check:
            assert proc.returncode == 0, f"{args}: rc={proc.returncode}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    def service_states(self, *names: str) -> dict[str, str]:
        """Service name -> state, from euserv-describe-services."""
        out = self.euca("euserv-describe-services", *names).stdout
        return {f[3]: f[4] for f in (line.split("\t") for line in out.splitlines())
                if f[0] == "SERVICE"}

    @property
    def tls(self) -> bool:
        """True when the internal links use TLS."""
        return "--internal-tls" in self.extra

    def internal(self, name: str, path: str, body: bytes,
                 headers: dict[str, str] | None = None, *, scheme: str = "") -> Any:
        """A raw internal request to a host's component, from inside its namespace."""
        import requests

        host = self.hosts[name]
        scheme = scheme or ("https" if self.tls else "http")
        verify: str | bool = str(self.keys_dir / "https-ca.pem") if self.tls else True
        inside = ThreadPoolExecutor(1, initializer=_setns, initargs=(host.ns,))
        try:
            return inside.submit(lambda: requests.post(
                f"{scheme}://{host.address}:{PORT}{path}", data=body, headers=headers or {},
                timeout=10, verify=verify)).result()
        finally:
            inside.shutdown(wait=False)

    # -- life cycle --------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every process and remove every namespace."""
        if self.forwarder is not None:
            self.forwarder.close()
        for host in self.hosts.values():
            if host.proc is not None and host.proc.poll() is None:
                host.proc.terminate()
        for host in self.hosts.values():
            if host.proc is not None:
                try:
                    host.proc.wait(10)
                except subprocess.TimeoutExpired:
                    host.proc.kill()
                    host.proc.wait(5)
        for host in self.hosts.values():
            subprocess.run(["ip", "netns", "del", host.ns], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.switch], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start_netcloud(zones: dict[str, list[str]], *, poll_interval: float = 1.0,
                   node_cores: int = 8, boot_seconds: float = 0.3,
                   extra: list[str] | None = None, flags: bool = True) -> NetCloud:
    """CLC+Walrus on one host, one CC per zone and one NC per node on hosts of their own.

    With ``flags`` the CLC is told its CCs (``--cluster``) and each CC its nodes
    (``--node``); without, nothing is connected until registered (euserv-register-service)."""
    prefix = f"eu{uuid.uuid4().hex[:6]}"
    root = Path(tempfile.mkdtemp(prefix="euca-netcloud-"))
    config = root / "cloud.toml"
    tables = "".join(
        f'[[zones]]\nname = "{z}"\nboot_seconds = {boot_seconds}\nteardown_seconds = 0.2\n'
        f"node_cores = {node_cores}\nnode_memory_mb = {node_cores * 2048}\n"
        f"node_disk_gb = {node_cores * 50}\n\n" for z in zones)
    config.write_text(f'[cloud]\nhttps_listen = ""\n\n{tables}')
    cloud = NetCloud(prefix, root, config, root / "keys", poll_interval, list(extra or []))
    try:
        _ip("netns", "add", cloud.switch)
        _ip("-n", cloud.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", cloud.switch, "link", "set", "br0", "up")
        clc = cloud.add_host("clc", [])
        for zone, nodes in zones.items():
            node_args = []
            for node in nodes:
                nc = cloud.add_host(node, ["--components", "nc", "--zone", zone,
                                           "--node-name", node])
                if flags:
                    node_args += ["--node", f"{node}={nc.address}:{PORT}"]
                cloud.start(node)
            cloud.add_host(f"cc-{zone}", ["--components", "cc", "--zone", zone, *node_args])
            cloud.start(f"cc-{zone}")
        clc.args = ["--components", "clc,walrus",
                    *[a for z in zones for a in
                      ("--cluster", f"{z}={cloud.hosts[f'cc-{z}'].address}:{PORT}")
                      if flags]]
        for name in cloud.hosts:
            if name != "clc":
                cloud.wait_listening(name)
        cloud.start("clc")
        cloud.wait_listening("clc", timeout=120)
        ini = configparser.ConfigParser()
        ini.read(clc.data_dir / "euca2ools.ini")
        user = next(s for s in ini.sections() if s.startswith("user "))
        cloud.creds = {"key": ini[user]["key-id"], "secret": ini[user]["secret-key"]}
        cloud.forwarder = Forwarder(clc.ns, clc.address, PORT)
        # The commands' configuration, with the CLC's URLs through the forwarder.
        cloud.ini = root / "euca2ools.ini"
        cloud.ini.write_text((clc.data_dir / "euca2ools.ini").read_text().replace(
            f"{clc.address}:{PORT}", f"127.0.0.1:{cloud.forwarder.port}"))
    except BaseException:
        cloud.stop()
        raise
    return cloud


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
