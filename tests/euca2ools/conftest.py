"""Fixtures for the euca2ools tests: subprocess runner, moto_server, eucalyptus-cloud, a stub.

* ``euca`` runs an installed ``euca-*``/``euare-*`` script as a real subprocess with a
  clean environment (no AWS/EUCA variables, HOME and XDG_CACHE_HOME in a temp dir).
* ``moto_ini`` starts ``moto_server`` once per session: an AWS-shaped stand-in.
* ``cloud_ini`` starts ``eucalyptus-cloud`` once per session on a free port with a temp
  data dir; tests using it skip with the reason when the server cannot start.
* ``stub`` is an in-process HTTP server answering canned XML by Action and recording
  every request (for Eucalyptus-only actions, errors and retries).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# tests/conftest.py puts tests/ on sys.path, where this directory would be imported as a
# namespace package named "euca2ools" shadowing the real one: put the repository first.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("euca2ools"), "__file__", "") is None:
    for _name in [m for m in sys.modules if m == "euca2ools" or m.startswith("euca2ools.")]:
        del sys.modules[_name]

BIN = Path(sys.executable).parent
_CLEAN = ("EUCA_CONFIG_PATH", "EUCA_DEFAULT_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
          "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SECURITY_TOKEN",
          "AWS_CREDENTIAL_FILE", "AWS_CREDENTIAL_EXPIRATION", "EC2_URL", "AWS_IAM_URL",
          "AWS_AUTH_REGION", "EC2_USER_ID", "S3_URL", "TOKEN_URL")


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float) -> bool:
    """Wait until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME without ~/.euca files, shared by every subprocess."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="session")
def base_env(home: Path) -> dict[str, str]:
    """The environment for CLI subprocesses."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEAN}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)
    env["XDG_CACHE_HOME"] = str(home / "cache")
    return env


class Runner:
    """Runs euca2ools scripts as subprocesses."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, ini: str | Path | None = None, input: str | None = None,
                 env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``args`` (script name first); by default assert exit status 0."""
        full_env = dict(self.env)
        if ini is not None:
            full_env["EUCA_CONFIG_PATH"] = str(ini)
        full_env.update(env or {})
        proc = subprocess.run([str(BIN / args[0]), *args[1:]], env=full_env, input=input,
                              capture_output=True, text=True, timeout=120)
        if check:
            assert proc.returncode == 0, f"{args}: rc={proc.returncode}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc


@pytest.fixture(scope="session")
def euca(base_env: dict[str, str]) -> Runner:
    """Run a euca2ools script: ``euca("euca-describe-regions", ini=path)``."""
    return Runner(base_env)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def moto_ini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """euca2ools.ini for a moto_server started for this session (AWS stand-in)."""
    port = free_port()
    proc = subprocess.Popen([str(BIN / "moto_server"), "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port, 30):
        _kill(proc)
        pytest.skip("moto_server did not start")
    ini = tmp_path_factory.mktemp("moto") / "euca2ools.ini"
    ini.write_text(
        "[global]\ndefault-region = moto\n\n"
        f"[region moto]\nec2-url = http://127.0.0.1:{port}/\niam-url = http://127.0.0.1:{port}/\n"
        f"elasticloadbalancing-url = http://127.0.0.1:{port}/\n"
        f"cloudformation-url = http://127.0.0.1:{port}/\ns3-url = http://127.0.0.1:{port}/\n"
        "name = us-east-1\nuser = 123456789012:admin\n\n"
        "[user 123456789012:admin]\nkey-id = AKIDMOTOTEST\nsecret-key = motosecret\n"
        "account-id = 123456789012\n")
    yield ini
    _kill(proc)


@pytest.fixture(scope="session")
def cloud_ini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The euca2ools.ini written by a real ``eucalyptus-cloud`` started for this session."""
    exe = BIN / "eucalyptus-cloud"
    if not exe.exists():
        pytest.skip("eucalyptus-cloud is not installed")
    data = tmp_path_factory.mktemp("cloud")
    port = free_port()
    log = open(data.parent / f"{data.name}.log", "wb")  # noqa: SIM115 - kept open for the server
    proc = subprocess.Popen([str(exe), "--data-dir", str(data), "--listen", f"127.0.0.1:{port}",
                             "--https-listen", "off"], stdout=log, stderr=subprocess.STDOUT)
    ini = data / "euca2ools.ini"
    if not wait_port(port, 60) or not ini.exists():
        _kill(proc)
        log.close()
        pytest.skip(f"eucalyptus-cloud did not start (log: {log.name})")
    yield ini
    _kill(proc)
    log.close()


# -- stub server ------------------------------------------------------------------------------
class StubCloud:
    """Canned XML answers by Action; every request is recorded (params as a dict)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, Callable[[dict[str, str]], tuple[int, str]] | tuple[int, str]] = {}
        # Answers served first, whatever the action: (status, body[, extra headers]).
        self.queue: list[tuple[Any, ...]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/services/compute"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
                stub.requests.append({"params": params, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
                extra: dict[str, str] = {}
                if stub.queue:
                    status, xml, *rest = stub.queue.pop(0)
                    extra = rest[0] if rest else {}
                else:
                    answer = stub.answers.get(params.get("Action", ""))
                    if callable(answer):
                        status, xml = answer(params)
                    elif answer is not None:
                        status, xml = answer
                    else:
                        action = params.get("Action", "Unknown")
                        status, xml = 200, (f"<{action}Response><requestId>r</requestId>"
                                            f"<return>true</return></{action}Response>")
                data = xml.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def ini(self, path: Path) -> Path:
        """Write a euca2ools.ini pointing every service at the stub."""
        base = f"http://127.0.0.1:{self.port}/services"
        path.write_text(
            "[global]\ndefault-region = stub\nmax-retries = 2\n\n"
            f"[region stub]\nec2-url = {base}/compute\niam-url = {base}/Euare\n"
            f"sts-url = {base}/Tokens\ns3-url = {base}/objectstorage\n"
            f"autoscaling-url = {base}/AutoScaling\nmonitoring-url = {base}/CloudWatch\n"
            f"bootstrap-url = {base}/Empyrean\nproperties-url = {base}/Properties\n"
            f"elasticloadbalancing-url = {base}/LoadBalancing\n"
            f"cloudformation-url = {base}/CloudFormation\n"
            "user = 000000000001:admin\n\n"
            "[user 000000000001:admin]\nkey-id = AKIDSTUB\nsecret-key = stubsecret\n"
            "account-id = 000000000001\n")
        return path

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def stub(tmp_path: Path) -> Iterator[tuple[StubCloud, Path]]:
    """A fresh stub cloud and an ini file for it."""
    cloud = StubCloud()
    yield cloud, cloud.ini(tmp_path / "stub.ini")
    cloud.close()
