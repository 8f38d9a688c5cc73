"""Helpers of the console tests: euca2ools commands and a form-filling HTTP client."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import requests
from cloudproc import CloudProcess

BIN = Path(sys.executable).parent


def run(cmd: list[str], ini: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """A euca2ools command against the cloud ``ini`` describes."""
    env = {"PATH": str(BIN) + ":/usr/bin:/bin", "EUCA_CONFIG_PATH": str(ini),
           "HOME": str(ini.parent)}
    proc = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], capture_output=True, text=True,
                          env=env, timeout=60)
    if check:
        assert proc.returncode == 0, (cmd, proc.stdout, proc.stderr)
    return proc


class Browser:
    """A form-filling HTTP client (requests) that keeps cookies, as a browser does."""

    def __init__(self, cloud: CloudProcess):
        self.cloud = cloud
        self.http = requests.Session()
        # Per request: a session's own ``verify`` loses to REQUESTS_CA_BUNDLE.
        self.verify = str(cloud.ca)

    def url(self, path: str) -> str:
        """An absolute HTTPS URL."""
        return self.cloud.https_url + path

    def get(self, path: str) -> requests.Response:
        """GET a page."""
        return self.http.get(self.url(path), timeout=30, verify=self.verify)

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on ``path``."""
        page = self.get(path)
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match, page.text
        return match.group(1)

    def post(self, path: str, form: dict[str, str], from_page: str | None = None,
             ) -> requests.Response:
        """Submit a form, with the token of the page it is on."""
        data = {"csrf": self.csrf(from_page or path), **form}
        return self.http.post(self.url(path), data=data, timeout=30, verify=self.verify)

    def apply(self, account: str, email: str, password: str) -> str:
        """Sign up; the application's ID."""
        r = self.post("/console/signup", {"account": account, "email": email,
                                          "password": password, "password2": password})
        assert r.status_code == 200, r.text
        match = re.search(r"Application (su-[0-9a-f]+)", r.text)
        assert match, r.text
        return match.group(1)

    def login(self, account: str, user: str, password: str) -> requests.Response:
        """Log in."""
        return self.post("/console/login", {"account": account, "user": user,
                                            "password": password})

    def credentials(self, into: Path) -> Path:
        """Download and unpack the credentials archive; the ini's path."""
        r = self.get("/console/credentials.zip")
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
        archive = into / "creds.zip"
        archive.write_bytes(r.content)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
        return into / "euca2ools.ini"
