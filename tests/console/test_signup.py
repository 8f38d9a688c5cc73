"""Web sign-up with administrator approval, log-in and the credentials archive, driven over
HTTPS by a form-filling client and the euserv-* commands."""

from __future__ import annotations

import zipfile
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from cloudproc import CloudProcess
from consolehelp import Browser, run

PASSWORD = "correct horse battery"


def admin_password(cloud: CloudProcess) -> str:
    """The console password the cloud gave its administrator at first start."""
    return (cloud.data_dir / "admin-password").read_text().strip()


def test_pages_are_hardened(tls_cloud: CloudProcess) -> None:
    """CSP, HSTS over HTTPS, secure cookies, no scripts."""
    r = Browser(tls_cloud).get("/console/signup")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    assert "<script" not in r.text


def test_forms_need_the_csrf_token(tls_cloud: CloudProcess) -> None:
    """A POST without the token matching the cookie is refused and applies nothing."""
    b = Browser(tls_cloud)
    b.get("/console/signup")
    r = b.http.post(b.url("/console/signup"), data={
        "account": "forged", "email": "f@example.com", "password": PASSWORD,
        "password2": PASSWORD, "csrf": "not-the-token-of-this-browser-at-all-0000"}, timeout=30,
        verify=b.verify)
    assert r.status_code == 403
    listed = run(["euserv-describe-signups", "--status", "all"], tls_cloud.ini).stdout
    assert "forged" not in listed


def test_bad_applications_are_refused(tls_cloud: CloudProcess) -> None:
    """Short passwords, bad names and mismatched passwords are answered on the form."""
    b = Browser(tls_cloud)
    for form, text in [
        ({"account": "shorty", "email": "a@example.com", "password": "short",
          "password2": "short"}, "minimum length"),
        ({"account": "Bad Name!", "email": "a@example.com", "password": PASSWORD,
          "password2": PASSWORD}, "lowercase"),
        ({"account": "mismatch", "email": "a@example.com", "password": PASSWORD,
          "password2": PASSWORD + "x"}, "differ"),
        ({"account": "eucalyptus", "email": "a@example.com", "password": PASSWORD,
          "password2": PASSWORD}, "already taken"),
    ]:
        r = b.post("/console/signup", form)
        assert r.status_code == 400 and text in r.text, r.text


def test_signup_approve_download_use(tls_cloud: CloudProcess, tmp_path: Path) -> None:
    """Apply; nothing works before approval; the admin approves by command; the new admin
    logs in, downloads the archive and uses it with euca2ools and boto3."""
    applicant = Browser(tls_cloud)
    signup_id = applicant.apply("webco", "ops@webco.example", PASSWORD)
    assert applicant.login("webco", "admin", PASSWORD).status_code == 401
    listed = run(["euserv-describe-signups"], tls_cloud.ini).stdout
    assert f"SIGNUP\t{signup_id}\twebco\tops@webco.example\tpending" in listed
    out = run(["euserv-approve-signup", signup_id], tls_cloud.ini).stdout
    assert "approved" in out
    again = run(["euserv-approve-signup", signup_id], tls_cloud.ini, check=False)
    assert again.returncode != 0 and "already approved" in again.stderr

    r = applicant.login("webco", "admin", PASSWORD)
    assert r.status_code == 200 and "Download" in r.text, r.text
    ini = applicant.credentials(tmp_path)
    names = set(zipfile.ZipFile(tmp_path / "creds.zip").namelist())
    assert {"euca2ools.ini", "eucarc", "cloud-ca.pem"} <= names
    assert any(n.endswith("-cert.pem") for n in names) and any(n.endswith("-pk.pem")
                                                               for n in names)
    text = ini.read_text()
    assert tls_cloud.https_url in text and "ca-bundle = cloud-ca.pem" in text
    assert "certificate = /" not in text  # no server-side paths
    out = run(["euare-userlistbypath"], ini).stdout
    assert "user/admin" in out
    assert "AVAILABILITYZONE" in run(["euca-describe-availability-zones"], ini).stdout
    certs = run(["euare-userlistcerts", "admin"], ini).stdout
    assert certs.strip()


def test_rejected_application_gets_no_account(tls_cloud: CloudProcess) -> None:
    """Rejecting leaves no account behind; the password never works."""
    b = Browser(tls_cloud)
    signup_id = b.apply("nope", "x@nope.example", PASSWORD)
    assert "rejected" in run(["euserv-reject-signup", signup_id], tls_cloud.ini).stdout
    assert "nope" not in run(["euare-accountlist"], tls_cloud.ini).stdout
    assert b.login("nope", "admin", PASSWORD).status_code == 401


def test_admin_approves_on_the_web(tls_cloud: CloudProcess) -> None:
    """The administrator logs in with the bootstrap password and approves on the page;
    an ordinary user cannot."""
    b = Browser(tls_cloud)
    signup_id = b.apply("viaweb", "v@viaweb.example", PASSWORD)
    admin = Browser(tls_cloud)
    r = admin.login("eucalyptus", "admin", admin_password(tls_cloud))
    assert r.status_code == 200 and signup_id in r.text
    r = admin.post(f"/console/signups/{signup_id}/approve", {}, from_page="/console/")
    assert r.status_code == 200 and "approved" in r.text
    assert b.login("viaweb", "admin", PASSWORD).status_code == 200
    other = b.apply("viaweb2", "v2@viaweb.example", PASSWORD)
    r = b.post(f"/console/signups/{other}/approve", {}, from_page="/console/")
    assert r.status_code == 403
    r = b.post("/console/logout", {}, from_page="/console/")
    assert b.get("/console/credentials.zip").url.endswith("/console/login")


def test_lockout_after_failures(tls_cloud: CloudProcess) -> None:
    """Five wrong passwords lock the user out: then even the right one is refused."""
    b = Browser(tls_cloud)
    signup_id = b.apply("locked", "l@locked.example", PASSWORD)
    run(["euserv-approve-signup", signup_id], tls_cloud.ini)
    for _ in range(5):
        assert b.login("locked", "admin", "wrong password!").status_code == 401
    r = b.login("locked", "admin", PASSWORD)
    assert r.status_code == 401 and "locked out" in r.text


def test_password_policy(tls_cloud: CloudProcess) -> None:
    """UpdateAccountPasswordPolicy / Get / Delete, as IAM answers them."""
    creds = tls_cloud.credentials()
    iam = boto3.client("iam", endpoint_url=tls_cloud.https_url + "/services/Euare",
                       region_name="us-east-1", aws_access_key_id=creds["key"],
                       aws_secret_access_key=creds["secret"], verify=str(tls_cloud.ca))
    with pytest.raises(ClientError) as err:
        iam.get_account_password_policy()
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireNumbers"] is True
    assert policy["RequireSymbols"] is False
    iam.delete_account_password_policy()
    with pytest.raises(ClientError):
        iam.delete_account_password_policy()


def test_signup_actions_are_for_the_cloud_admin(tls_cloud: CloudProcess, tmp_path: Path) -> None:
    """An account's admin cannot list or approve applications."""
    b = Browser(tls_cloud)
    run(["euserv-approve-signup", b.apply("plain", "p@plain.example", PASSWORD)],
        tls_cloud.ini)
    b.login("plain", "admin", PASSWORD)
    ini = b.credentials(tmp_path)
    proc = run(["euserv-describe-signups"], ini, check=False)
    assert proc.returncode != 0 and "AccessDenied" in proc.stderr


def test_plain_http_console_works_on_loopback(tls_cloud: CloudProcess) -> None:
    """Loopback may use plain HTTP (cookies then lack Secure; no HSTS)."""
    r = requests.get(tls_cloud.url + "/console/login", timeout=10)
    assert r.status_code == 200 and "Secure" not in r.headers["Set-Cookie"]


def test_get_access_token_logs_in_with_a_password(tls_cloud: CloudProcess) -> None:
    """Eucalyptus' STS GetAccessToken: HTTP Basic USER@ACCOUNT:PASSWORD gives temporary
    credentials of that user; a wrong password is refused."""
    import re
    from urllib.parse import quote

    b = Browser(tls_cloud)
    run(["euserv-approve-signup", b.apply("tokenco", "t@tokenco.example", PASSWORD)],
        tls_cloud.ini)
    url = tls_cloud.https_url + "/services/Tokens"
    form = {"Action": "GetAccessToken", "Version": "2011-06-15"}
    bad = requests.post(url, data=form, auth=(f"admin@{quote('tokenco')}", "wrong password"),
                        verify=str(tls_cloud.ca), timeout=30)
    assert bad.status_code == 403 and "InvalidClientTokenId" in bad.text
    r = requests.post(url, data=form, auth=("admin@tokenco", PASSWORD), verify=str(tls_cloud.ca),
                      timeout=30)
    assert r.status_code == 200, r.text
    values = {k: re.search(f"<{k}>([^<]+)</{k}>", r.text).group(1)  # type: ignore[union-attr]
              for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=values["AccessKeyId"],
                       aws_secret_access_key=values["SecretAccessKey"],
                       aws_session_token=values["SessionToken"], verify=str(tls_cloud.ca))
    assert sts.get_caller_identity()["Arn"].endswith(":user/admin")


def test_download_twice_gives_the_same_certificate(tls_cloud: CloudProcess,
                                                   tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A user without a sign-up certificate gets one made at the first download, and the
    same one (with its key) afterwards."""
    import zipfile

    names = []
    for n in range(3):
        b = Browser(tls_cloud)
        password = (tls_cloud.data_dir / "admin-password").read_text().strip()
        b.login("eucalyptus", "admin", password)
        r = b.get("/console/credentials.zip")
        assert r.status_code == 200
        path = tmp_path / f"{n}.zip"
        path.write_bytes(r.content)
        names.append(sorted(n for n in zipfile.ZipFile(path).namelist() if n.endswith(".pem")))
    assert names[0] == names[1] == names[2]
    assert any(n.endswith("-pk.pem") for n in names[0])


def test_password_policy_applies_to_login_profiles(tls_cloud: CloudProcess) -> None:
    """CreateLoginProfile refuses a password the account's policy does not allow."""
    creds = tls_cloud.credentials()
    iam = boto3.client("iam", endpoint_url=tls_cloud.https_url + "/services/Euare",
                       region_name="us-east-1", aws_access_key_id=creds["key"],
                       aws_secret_access_key=creds["secret"], verify=str(tls_cloud.ca))
    iam.create_user(UserName="policed")
    iam.update_account_password_policy(MinimumPasswordLength=10, RequireSymbols=True)
    try:
        with pytest.raises(ClientError) as err:
            iam.create_login_profile(UserName="policed", Password="longenough1")
        assert err.value.response["Error"]["Code"] == "PasswordPolicyViolation"
        assert "symbol" in err.value.response["Error"]["Message"]
        iam.create_login_profile(UserName="policed", Password="long-enough!")
    finally:
        iam.delete_account_password_policy()


def test_change_password(tls_cloud: CloudProcess) -> None:
    """A logged-in user changes the password: the current one must be right, the new one
    must pass the policy; then only the new one logs in."""
    b = Browser(tls_cloud)
    run(["euserv-approve-signup", b.apply("changer", "c@changer.example", PASSWORD)],
        tls_cloud.ini)
    assert b.login("changer", "admin", PASSWORD).status_code == 200
    r = b.post("/console/password", {"old": "not it at all", "new": "new password 1",
                                     "new2": "new password 1"})
    assert r.status_code == 400 and "not right" in r.text
    r = b.post("/console/password", {"old": PASSWORD, "new": "short", "new2": "short"})
    assert r.status_code == 400 and "minimum length" in r.text
    r = b.post("/console/password", {"old": PASSWORD, "new": "new password 1",
                                     "new2": "new password 1"})
    assert r.status_code == 200 and "changed" in r.text
    assert Browser(tls_cloud).login("changer", "admin", PASSWORD).status_code == 401
    assert Browser(tls_cloud).login("changer", "admin", "new password 1").status_code == 200
