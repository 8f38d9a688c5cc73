"""What the benchmark scripts share: free ports, waiting for a server, starting a
throw-away eucalyptus-cloud or moto_server and stopping it again."""

from __future__ import annotations

import configparser
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None,
              timeout: float = 30.0) -> None:
    """Block until something listens on ``port``; RuntimeError if ``proc`` dies or time
    runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@dataclass
class Served:
    """A server process on a port, its temp dir, and an access key pair for it."""

    proc: subprocess.Popen[bytes]
    port: int
    tmp: str
    key: str
    secret: str

    def stop(self) -> None:
        """Terminate the server and remove its files."""
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start_cloud(prefix: str = "bench-cloud-") -> Served:
    """eucalyptus-cloud with its defaults in a temp data dir; the admin's keys."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    port = free_port()
    proc = subprocess.Popen([str(BIN / "eucalyptus-cloud"), "--data-dir", tmp, "--listen",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    ini = Path(tmp) / "euca2ools.ini"
    while not ini.exists():
        time.sleep(0.05)
    cp = configparser.ConfigParser()
    cp.read(ini)
    user = next(s for s in cp.sections() if s.startswith("user "))
    return Served(proc, port, tmp, cp[user]["key-id"], cp[user]["secret-key"])


def start_moto(prefix: str = "bench-moto-") -> Served:
    """moto_server on a free port (it takes any keys)."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    port = free_port()
    proc = subprocess.Popen([str(BIN / "moto_server"), "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return Served(proc, port, tmp, "testing", "testing")
