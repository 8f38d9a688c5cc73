"""Start real ``eucalyptus-cloud`` processes for tests, on free ports in temp data dirs."""

from __future__ import annotations

import atexit
import configparser
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url(dsn: str, name: str) -> str:
    parts = dict(p.split("=", 1) for p in dsn.split())
    return (f"postgresql+psycopg://{parts.get('user', 'postgres')}@{parts.get('host', '127.0.0.1')}:"
            f"{parts.get('port', '5432')}/{name}")


#: This process' template database (CI_PG_DSN -> name): the schema, migrated once.
_templates: dict[str, str] = {}


def _template(dsn: str) -> str:
    """A database holding the newest schema, made once per process (each test worker) by
    the cloud's own migrations and dropped at exit; new databases are copies of it, so a
    cloud on PostgreSQL starts without running the migrations again."""
    if dsn in _templates:
        return _templates[dsn]
    import psycopg

    from server.db.store import make_engine, migrate

    name = "euca_template_" + uuid.uuid4().hex[:12]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_database_url(dsn, name))
    try:
        migrate(engine)
    finally:
        engine.dispose()  # a template must have no connections while it is copied

    def drop() -> None:
        with contextlib.suppress(psycopg.Error), psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    atexit.register(drop)
    _templates[dsn] = name
    return name


def postgres_url() -> str | None:
    """A fresh PostgreSQL database URL when CI_PG_DSN names a server, else None."""
    dsn = os.environ.get("CI_PG_DSN")
    if not dsn:
        return None
    import psycopg

    name = "euca_" + uuid.uuid4().hex[:12]
    template = _template(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _database_url(dsn, name)


class PortTaken(RuntimeError):
    """The server could not bind its listen address (exit status 3)."""


@dataclass
class CloudProcess:
    """A running cloud: its URL, admin credentials, data dir and process."""

    data_dir: Path
    port: int
    config_text: str = ""
    database: str = ""
    proc: subprocess.Popen[bytes] | None = None
    #: The HTTPS port (0: the cloud serves plain HTTP only, as most tests want).
    https_port: int = 0
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_url(self) -> str:
        """HTTPS base URL (when started with ``https_port``)."""
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def ca(self) -> Path:
        """The cloud's generated CA certificate (HTTPS)."""
        return self.data_dir / "https-ca.pem"

    @property
    def ini(self) -> Path:
        """The admin's euca2ools.ini."""
        return self.data_dir / "euca2ools.ini"

    def start(self, timeout: float = 20.0) -> CloudProcess:
        """Start the server and wait for its port and euca2ools.ini.

        A free port can be taken by another process (another test worker, another
        program) between :func:`free_port` and the server's bind: the first start then
        tries fresh ports (exit status 3 says the listen address could not be bound).
        """
        retries = 0 if self.ini.exists() else 3  # a restart keeps the URL clients know
        while True:
            try:
                return self._start(timeout)
            except PortTaken:
                if retries == 0:
                    raise
                retries -= 1
                self.port = free_port()
                self.https_port = free_port() if self.https_port else 0

    def _start(self, timeout: float) -> CloudProcess:
        cmd = [str(BIN / "eucalyptus-cloud"), "--data-dir", str(self.data_dir),
               "--listen", f"127.0.0.1:{self.port}",
               "--https-listen", f"127.0.0.1:{self.https_port}" if self.https_port else "off"]
        if self.config_text or self.database:
            cfg = self.data_dir / "cloud.toml"
            text = self.config_text
            if self.database and "database" not in text:
                text = f'[cloud]\ndatabase = "{self.database}"\n' + text if "[cloud]" not in text \
                    else text.replace("[cloud]", f'[cloud]\ndatabase = "{self.database}"', 1)
            cfg.write_text(text)
            cmd += ["--config", str(cfg)]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.data_dir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                error = PortTaken if self.proc.returncode == 3 else RuntimeError
                raise error(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    if self.ini.exists():
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        """Stop the server gracefully."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Kill the server without a chance to clean up (crash)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> CloudProcess:
        """Stop and start again on the same data dir."""
        self.stop()
        return self.start()

    def credentials(self) -> dict[str, str]:
        """The admin's key, secret and account from euca2ools.ini."""
        cp = configparser.ConfigParser()
        cp.read(self.ini)
        user = next(s for s in cp.sections() if s.startswith("user "))
        return {"key": cp[user]["key-id"], "secret": cp[user]["secret-key"],
                "account": cp[user]["account-id"]}

    def client(self, service: str, key: str | None = None, secret: str | None = None,
               region: str = "us-east-1", path: str | None = None) -> Any:
        """A boto3 client for this cloud (admin credentials by default)."""
        import boto3
        from botocore.config import Config

        creds = self.credentials()
        paths = {"ec2": "/services/compute", "iam": "/services/Euare", "sts": "/services/Tokens",
                 "s3": "/services/objectstorage"}
        endpoint = self.url + (path if path is not None else paths.get(service, "/"))
        return boto3.client(service, endpoint_url=endpoint, region_name=region,
                            aws_access_key_id=key or creds["key"],
                            aws_secret_access_key=secret or creds["secret"],
                            config=Config(retries={"max_attempts": 1}))

    def env(self) -> dict[str, str]:
        """Environment for CLI subprocesses: only EUCA_CONFIG_PATH points at the cloud."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EC2_", "EUCA"))}
        env["EUCA_CONFIG_PATH"] = str(self.ini)
        return env


def new_cloud(config_text: str = "", database: str | None = None,
              https: bool = False) -> CloudProcess:
    """A cloud in a fresh temp dir (not started); ``https`` adds an HTTPS endpoint."""
    data_dir = Path(tempfile.mkdtemp(prefix="euca-test-"))
    return CloudProcess(data_dir, free_port(), config_text, database or "",
                        https_port=free_port() if https else 0)


@contextlib.contextmanager
def running_cloud(config_text: str = "", database: str | None = None,
                  https: bool = False) -> Iterator[CloudProcess]:
    """A started :func:`new_cloud`, stopped and removed when the block ends."""
    c = new_cloud(config_text, database, https)
    c.start()
    try:
        yield c
    finally:
        cleanup(c)


def cleanup(cloud: CloudProcess) -> None:
    """Stop a cloud and remove its data."""
    cloud.stop()
    shutil.rmtree(cloud.data_dir, ignore_errors=True)
