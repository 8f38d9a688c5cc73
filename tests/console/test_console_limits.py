"""Console sessions expire by the cloud's clock; plain HTTP is refused to clients that are
not on loopback (here: behind a trusted proxy that names a remote client)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from cloudproc import CloudProcess, running_cloud
from consolehelp import Browser

CONFIG = '[cloud]\ntrusted_proxies = ["127.0.0.1/32"]\nconsole_session_seconds = 1.0\n'


@pytest.fixture(scope="module")
def short_cloud() -> Iterator[CloudProcess]:
    """A cloud whose console log-ins last one second, behind a trusted local proxy."""
    with running_cloud(CONFIG, https=True) as c:
        yield c


def test_session_expires(short_cloud: CloudProcess) -> None:
    """After its lifetime the session cookie no longer logs the browser in."""
    b = Browser(short_cloud)
    password = (short_cloud.data_dir / "admin-password").read_text().strip()
    data = {"csrf": b.csrf("/console/login"), "account": "eucalyptus", "user": "admin",
            "password": password}
    r = b.http.post(b.url("/console/login"), data=data, allow_redirects=False,
                    verify=b.verify, timeout=30)
    assert r.status_code == 303 and "euca-session" in b.http.cookies
    time.sleep(1.5)
    page = b.get("/console/")
    assert "Log out" not in page.text and "Welcome" in page.text
    assert b.get("/console/credentials.zip").url.endswith("/console/login")


def test_plain_http_refused_to_remote_clients(short_cloud: CloudProcess) -> None:
    """A remote client (as the proxy reports it) on plain HTTP is sent to HTTPS (GET) or
    refused (POST); over HTTPS it is served."""
    remote = {"X-Forwarded-For": "203.0.113.9"}
    r = requests.get(short_cloud.url + "/console/login", headers=remote, allow_redirects=False,
                     timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"] == short_cloud.https_url + "/console/login"
    r = requests.post(short_cloud.url + "/console/login", headers=remote,
                      data={"account": "x", "user": "y", "password": "z"}, timeout=10)
    assert r.status_code == 403 and "HTTPS" in r.text
    r = requests.get(short_cloud.https_url + "/console/login", headers=remote,
                     verify=str(short_cloud.ca), timeout=10)
    assert r.status_code == 200

