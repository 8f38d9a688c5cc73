"""Password log-ins of users with an MFA device: the console asks for a code after the
password, and Eucalyptus' GetAccessToken wants one (TokenCode, optionally SerialNumber);
the credentials such a log-in gives count as an MFA session in policies.  Codes are
computed with pyotp at the cloud's (wall-clock) time."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from cloudproc import CloudProcess
from consolehelp import Browser
from mfahelp import Authenticator, enable_device, wrong_code

PASSWORD = "mfa log-in 1234"
ACTION = {"Action": "GetAccessToken", "Version": "2011-06-15"}
#: Listing the account's aliases needs an MFA session; reading one's own user does not.
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"},
    {"Effect": "Allow", "Action": "iam:ListAccountAliases", "Resource": "*",
     "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}


def _iam(cloud: CloudProcess, creds: dict[str, str] | None = None) -> Any:
    admin = cloud.credentials()
    creds = creds or {"AccessKeyId": admin["key"], "SecretAccessKey": admin["secret"]}
    return boto3.client("iam", endpoint_url=cloud.https_url + "/services/Euare",
                        region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"), verify=str(cloud.ca))


def _mfa_user(cloud: CloudProcess, name: str) -> tuple[str, Authenticator]:
    """A user of the cloud's ``eucalyptus`` account with a password, :data:`POLICY` and an
    enabled device: the device's serial and an authenticator for it."""
    iam = _iam(cloud)
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password=PASSWORD)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(POLICY))
    return enable_device(iam, f"{name}-phone", name)


def _token(cloud: CloudProcess, user: str, password: str = PASSWORD,
           **params: str) -> requests.Response:
    return requests.post(cloud.https_url + "/services/Tokens", data={**ACTION, **params},
                         auth=(f"{user}@eucalyptus", password), verify=str(cloud.ca),
                         timeout=30)


def _credentials(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {k: re.search(f"<{k}>([^<]+)</{k}>", response.text).group(1)  # type: ignore[union-attr]
            for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


def _error(response: requests.Response) -> tuple[str, str]:
    code = re.search(r"<Code>([^<]+)</Code>", response.text)
    message = re.search(r"<Message>([^<]*)</Message>", response.text)
    assert code and message, response.text
    return code.group(1), message.group(1)


def _signed_access_token(cloud: CloudProcess, key: dict[str, str]) -> requests.Response:
    """GetAccessToken signed (SigV4) with an access key instead of a password."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = cloud.https_url + "/services/Tokens"
    request = AWSRequest("POST", url, data=ACTION,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "sts",
              "us-east-1").add_auth(request)
    prepared = request.prepare()
    return requests.post(url, data=prepared.body, headers=dict(prepared.headers),
                         verify=str(cloud.ca), timeout=30)


def test_get_access_token_needs_the_code(tls_cloud: CloudProcess) -> None:
    """Without a code: AccessDenied saying why; a wrong or replayed code: AccessDenied;
    the right one (of any of the user's devices, or of the one SerialNumber names) gives
    credentials that carry MFA, unlike GetAccessToken signed with the user's access key."""
    _, app = _mfa_user(tls_cloud, "tokenmfa")
    # A second device: each device gives one fresh code per 30 seconds.
    backup, backup_app = enable_device(_iam(tls_cloud), "tokenmfa-backup", "tokenmfa")
    r = _token(tls_cloud, "tokenmfa")
    assert r.status_code == 403 and _error(r)[0] == "AccessDenied", r.text
    assert "MFA device" in _error(r)[1]
    r = _token(tls_cloud, "tokenmfa", TokenCode=wrong_code(app))
    assert r.status_code == 403 and _error(r) == (
        "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
    r = _token(tls_cloud, "tokenmfa", TokenCode="12ab")
    assert r.status_code == 400 and _error(r)[0] == "ValidationError"
    # A wrong password is refused before any code is looked at.
    r = _token(tls_cloud, "tokenmfa", "not the password", TokenCode="123456")
    assert r.status_code == 403 and _error(r)[0] == "InvalidClientTokenId"

    code = app.code()
    with_code = _iam(tls_cloud, _credentials(_token(tls_cloud, "tokenmfa", TokenCode=code)))
    assert with_code.get_user()["User"]["UserName"] == "tokenmfa"
    with_code.list_account_aliases()  # the MFA-only Allow applies
    replayed = _token(tls_cloud, "tokenmfa", TokenCode=code)
    assert replayed.status_code == 403 and _error(replayed)[0] == "AccessDenied"
    named = _token(tls_cloud, "tokenmfa", SerialNumber=backup, TokenCode=backup_app.code())
    _iam(tls_cloud, _credentials(named)).list_account_aliases()

    # Signed with an access key instead of a password: no code needed, but no MFA either.
    key = _iam(tls_cloud).create_access_key(UserName="tokenmfa")["AccessKey"]
    without = _iam(tls_cloud, _credentials(_signed_access_token(tls_cloud, key)))
    assert without.get_user()["User"]["UserName"] == "tokenmfa"
    with pytest.raises(ClientError) as err:
        without.list_account_aliases()
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_wrong_codes_lock_the_user_out(tls_cloud: CloudProcess) -> None:
    """Wrong codes after the right password count as failed log-ins: after five, even the
    right code is refused (a code cannot be guessed by retrying)."""
    _, app = _mfa_user(tls_cloud, "guessed")
    for _ in range(5):
        r = _token(tls_cloud, "guessed", TokenCode=wrong_code(app))
        assert _error(r)[0] == "AccessDenied"
    r = _token(tls_cloud, "guessed", TokenCode=app.code())
    assert r.status_code == 403 and "Too many failed log-ins" in _error(r)[1]


def test_console_asks_for_the_code(tls_cloud: CloudProcess) -> None:
    """The right password leads to the MFA step, not into the console; a wrong code is
    answered on the form; the right one logs in.  Users without a device log in directly."""
    _, app = _mfa_user(tls_cloud, "webmfa")
    b = Browser(tls_cloud)
    r = b.login("eucalyptus", "webmfa", PASSWORD)
    assert r.status_code == 200 and r.url.endswith("/console/mfa"), r.url
    assert 'id="code"' in r.text and "MFA device" in r.text
    # Not logged in yet: the credentials are out of reach.
    assert b.get("/console/credentials.zip").url.endswith("/console/login")
    r = b.post("/console/mfa", {"code": "12345x"}, from_page="/console/mfa")
    assert r.status_code == 401 and 'id="error"' in r.text
    r = b.post("/console/mfa", {"code": app.code()}, from_page="/console/mfa")
    assert r.status_code == 200 and "Your credentials" in r.text, r.text
    assert "webmfa" in r.text
    assert b.get("/console/credentials.zip").headers["content-type"] == "application/zip"

    # The MFA step belongs to the browser whose password was right.
    other = Browser(tls_cloud)
    r = other.get("/console/mfa")
    assert r.url.endswith("/console/login")
    r = other.post("/console/mfa", {"code": wrong_code(app)}, from_page="/console/login")
    assert r.url.endswith("/console/login") and "Your credentials" not in r.text

    _iam(tls_cloud).create_user(UserName="plainweb")
    _iam(tls_cloud).create_login_profile(UserName="plainweb", Password=PASSWORD)
    r = Browser(tls_cloud).login("eucalyptus", "plainweb", PASSWORD)
    assert r.status_code == 200 and "Your credentials" in r.text
