"""The console in a real browser: headless Chromium (Debian's) driven by Selenium.

Apply for an account, log in as the cloud administrator and approve it, log in as the new
account's admin, download the credentials and use them with a euca-* command.  The
browser trusts exactly the cloud's server key (``--ignore-certificate-errors-spki-list``),
so the pages are served over HTTPS with their secure cookies and HSTS.  Each page's
screenshot is saved in the test's tmp dir; on failure their paths and the last page's
HTML are printed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudproc import CloudProcess
from consolehelp import run

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
PASSWORD = "browser sign-up 42"


def spki_hash(cloud: CloudProcess) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the cloud's server certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate((cloud.data_dir / "https-cert.pem").read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture
def browser(tls_cloud: CloudProcess, tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium downloading into ``tmp_path/downloads``."""
    if not CHROMIUM or not DRIVER:
        pytest.skip("Debian's chromium and chromium-driver packages are not installed "
                    "(scripts/sysdeps.sh installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}",
                 f"--ignore-certificate-errors-spki-list={spki_hash(tls_cloud)}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.implicitly_wait(10)  # elements of the page a click navigates to
    try:
        yield driver
    finally:
        driver.quit()


class Shots:
    """Screenshots of each page, named in order."""

    def __init__(self, driver: Any, into: Path):
        self.driver, self.into, self.taken = driver, into, []  # type: list[Path]

    def __call__(self, name: str) -> None:
        path = self.into / f"{len(self.taken) + 1:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        self.taken.append(path)


def fill(driver: Any, fields: dict[str, str], button: str) -> None:
    """Type into the fields by ID and press the button."""
    from selenium.webdriver.common.by import By

    for field, value in fields.items():
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.ID, button).click()


def test_signup_in_a_browser(tls_cloud: CloudProcess, browser: Any, tmp_path: Path) -> None:
    """Apply, approve as administrator, log in, download, use the credentials."""
    from selenium.webdriver.common.by import By

    base = tls_cloud.https_url
    shot = Shots(browser, tmp_path)
    try:
        browser.get(base + "/console/")
        shot("home")
        browser.find_element(By.ID, "signup-link").click()
        shot("signup-form")
        fill(browser, {"account": "browserco", "email": "it@browserco.example",
                       "password": PASSWORD, "password2": PASSWORD}, "apply")
        shot("applied")
        match = re.search(r"Application (su-[0-9a-f]+)", browser.page_source)
        assert match, "no application ID on the page"
        signup_id = match.group(1)

        browser.get(base + "/console/login")
        fill(browser, {"account": "browserco", "user": "admin", "password": PASSWORD}, "login")
        shot("login-before-approval")
        assert "Incorrect" in browser.find_element(By.ID, "error").text

        admin_password = (tls_cloud.data_dir / "admin-password").read_text().strip()
        fill(browser, {"account": "eucalyptus", "user": "admin", "password": admin_password},
             "login")
        shot("admin-queue")
        browser.find_element(By.ID, f"approve-{signup_id}").click()
        shot("approved")
        assert "approved" in browser.find_element(By.ID, "notice").text
        browser.find_element(By.ID, "logout").click()
        shot("logged-out")

        fill(browser, {"account": "browserco", "user": "admin", "password": PASSWORD}, "login")
        shot("credentials-page")
        browser.find_element(By.ID, "download").click()
        downloads = tmp_path / "downloads"
        deadline = time.monotonic() + 30
        archives: list[Path] = []
        while time.monotonic() < deadline and not archives:
            archives = list(downloads.glob("*.zip"))
            time.sleep(0.2)
        shot("downloaded")
        assert archives, "the credentials archive was not downloaded"
        creds = tmp_path / "creds"
        with zipfile.ZipFile(archives[0]) as zf:
            zf.extractall(creds)
        out = run(["euca-describe-availability-zones"], creds / "euca2ools.ini").stdout
        assert "AVAILABILITYZONE" in out
        assert "user/admin" in run(["euare-userlistbypath"], creds / "euca2ools.ini").stdout
    except BaseException:
        print("screenshots:", *shot.taken, sep="\n  ")
        print("last page:", browser.current_url, browser.page_source[:3000])
        raise


def test_mfa_login_in_a_browser(tls_cloud: CloudProcess, browser: Any, tmp_path: Path) -> None:
    """A user with an MFA device: the password, then the MFA step's code field (a wrong
    code is answered there), then the credentials page."""
    import boto3
    from mfahelp import enable_device, wrong_code
    from selenium.webdriver.common.by import By

    creds = tls_cloud.credentials()
    iam = boto3.client("iam", endpoint_url=tls_cloud.https_url + "/services/Euare",
                       region_name="us-east-1", aws_access_key_id=creds["key"],
                       aws_secret_access_key=creds["secret"], verify=str(tls_cloud.ca))
    iam.create_user(UserName="browsermfa")
    iam.create_login_profile(UserName="browsermfa", Password=PASSWORD)
    _, app = enable_device(iam, "browsermfa-phone", "browsermfa")
    shot = Shots(browser, tmp_path)
    try:
        browser.get(tls_cloud.https_url + "/console/login")
        fill(browser, {"account": "eucalyptus", "user": "browsermfa", "password": PASSWORD},
             "login")
        shot("mfa-step")
        assert browser.current_url.endswith("/console/mfa")
        fill(browser, {"code": wrong_code(app)}, "verify")
        shot("wrong-code")
        assert "not right" in browser.find_element(By.ID, "error").text
        fill(browser, {"code": app.code()}, "verify")
        shot("logged-in")
        assert browser.find_element(By.ID, "download").is_displayed()
        assert "browsermfa" in browser.page_source
    except BaseException:
        print("screenshots:", *shot.taken, sep="\n  ")
        print("last page:", browser.current_url, browser.page_source[:3000])
        raise
