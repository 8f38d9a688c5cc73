"""Virtual MFA devices that authenticate: CreateVirtualMFADevice's secret, EnableMFADevice and
ResyncMFADevice checking TOTP codes, STS sessions that carry "MFA present", and policies on
aws:MultiFactorAuthPresent / aws:MultiFactorAuthAge that then really gate actions.

Codes are computed with pyotp from the seed the cloud returned, at the cloud's time (the
default cloud runs on the wall clock).  :class:`Authenticator` hands out codes the way an
authenticator app does: each one of a step not used before, never ahead of the cloud by
more than the one step the sign-in window allows, so a step boundary crossed between
computing a code and the cloud checking it changes nothing.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import error_code, new_account, session_client
from mfahelp import Authenticator, enable_device

AWS = str(Path(sys.executable).parent / "aws")


def _user(cloud: Any, iam: Any, name: str, policy: dict[str, Any] | None = None) -> dict[str, str]:
    """A user with an access key (and an inline policy); its long-term credentials."""
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


_device = enable_device


def _denied(call: Any, code: str = "AccessDenied") -> str:
    with pytest.raises(ClientError) as err:
        call()
    assert error_code(err) == code, err.value.response
    return str(err.value.response["Error"]["Message"])


#: The AWS user guide's "MFA required" shape: everything but managing one's own device and
#: GetSessionToken is denied unless the caller signed in with MFA.
MFA_REQUIRED = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:*", "sts:*"], "Resource": "*"},
    {"Effect": "Deny",
     "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices",
                   "iam:ResyncMFADevice", "iam:ListVirtualMFADevices", "sts:GetSessionToken"],
     "Resource": "*",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}


def test_virtual_device_lifecycle(cloud) -> None:
    """Create (seed and QR code once, ARN serial with path), list by assignment status,
    enable only with two consecutive codes, the account summary, tags, GetMFADevice,
    DeleteConflict while assigned, deactivate and delete."""
    account_id, key, secret = new_account(cloud, "mfa-life")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="alice")
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone", Path="/team/",
                                            Tags=[{"Key": "kind", "Value": "phone"}])
    device = created["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{account_id}:mfa/team/alice-phone"
    seed = device["Base32StringSeed"]
    assert len(base64.b32decode(seed)) == 20  # a 160-bit secret
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ClientError) as err:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone", Path="/team/")
    assert error_code(err) == "EntityAlreadyExists"
    _denied(lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="bad name"),
            "ValidationError")

    def listed(status: str) -> list[dict[str, Any]]:
        return list(iam.list_virtual_mfa_devices(AssignmentStatus=status)["VirtualMFADevices"])

    unassigned = listed("Unassigned")
    assert [d["SerialNumber"] for d in unassigned] == [serial]
    assert "Base32StringSeed" not in unassigned[0] and "QRCodePNG" not in unassigned[0]
    assert listed("Assigned") == []
    _denied(lambda: iam.list_virtual_mfa_devices(AssignmentStatus="Some"), "ValidationError")

    app = Authenticator(seed)
    # Two codes that are not consecutive codes of the device: refused with a 403.
    with pytest.raises(ClientError) as err:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial,
                              AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert error_code(err) == "InvalidAuthenticationCode"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    code1, code2 = app.pair()
    _denied(lambda: iam.enable_mfa_device(UserName="alice", SerialNumber=serial,
                                          AuthenticationCode1=code2, AuthenticationCode2=code1),
            "InvalidAuthenticationCode")
    _denied(lambda: iam.enable_mfa_device(UserName="alice", SerialNumber=serial,
                                          AuthenticationCode1="12345a", AuthenticationCode2=code2),
            "ValidationError")
    _denied(lambda: iam.enable_mfa_device(
        UserName="alice", SerialNumber=f"arn:aws:iam::{account_id}:mfa/none",
        AuthenticationCode1=code1, AuthenticationCode2=code2), "NoSuchEntity")
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1=code1,
                          AuthenticationCode2=code2)

    mine = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in mine] == [("alice", serial)]
    assigned = listed("Assigned")
    assert assigned[0]["User"]["UserName"] == "alice" and "EnableDate" in assigned[0]
    assert iam.get_mfa_device(UserName="alice", SerialNumber=serial)["UserName"] == "alice"
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["MFADevices"], summary["MFADevicesInUse"]) == (1, 1)

    # One device serves one user; an assigned device and its user cannot be deleted.
    iam.create_user(UserName="bob")
    code1, code2 = app.pair()
    _denied(lambda: iam.enable_mfa_device(UserName="bob", SerialNumber=serial,
                                          AuthenticationCode1=code1, AuthenticationCode2=code2),
            "EntityAlreadyExists")
    _denied(lambda: iam.delete_virtual_mfa_device(SerialNumber=serial), "DeleteConflict")
    _denied(lambda: iam.delete_user(UserName="alice"), "DeleteConflict")

    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "owner", "Value": "alice"}])
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["kind"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "owner", "Value": "alice"}]

    _denied(lambda: iam.deactivate_mfa_device(UserName="bob", SerialNumber=serial),
            "NoSuchEntity")
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert [d["SerialNumber"] for d in listed("Unassigned")] == [serial]
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["MFADevices"], summary["MFADevicesInUse"]) == (1, 0)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert listed("Any") == []
    _denied(lambda: iam.delete_virtual_mfa_device(SerialNumber=serial), "NoSuchEntity")
    iam.delete_user(UserName="alice")


def test_mfa_session_gates_actions(cloud) -> None:
    """A user whose policy denies all but MFA set-up unless aws:MultiFactorAuthPresent is
    refused with its long-term keys and with a session without MFA, and allowed with a
    GetSessionToken session that proved a code; a code works once; wrong codes and serials
    get STS's AccessDenied messages."""
    account_id, key, secret = new_account(cloud, "mfa-gate")
    admin = cloud.client("iam", key=key, secret=secret)
    creds = _user(cloud, admin, "carol", MFA_REQUIRED)
    iam, sts = session_client(cloud, "iam", creds), session_client(cloud, "sts", creds)
    message = _denied(lambda: iam.list_users())
    assert "iam:ListUsers" in message and "explicit deny" in message
    # The user sets up her own device (the policy lets her), with long-term keys.
    serial, app = _device(iam, "carol", "carol")
    assert iam.list_mfa_devices()["MFADevices"][0]["SerialNumber"] == serial

    plain = sts.get_session_token()["Credentials"]
    _denied(lambda: session_client(cloud, "iam", plain).list_users())

    code = app.code()
    session = sts.get_session_token(SerialNumber=serial, TokenCode=code)["Credentials"]
    users = session_client(cloud, "iam", session).list_users()["Users"]
    assert "carol" in [u["UserName"] for u in users]

    message = _denied(lambda: sts.get_session_token(SerialNumber=serial, TokenCode=code))
    assert message == "MultiFactorAuthentication failed with invalid MFA one time pass code."
    wrong = f"{(int(app.totp.generate_otp(app.last + 1)) + 1) % 1000000:06d}"
    _denied(lambda: sts.get_session_token(SerialNumber=serial, TokenCode=wrong))
    message = _denied(lambda: sts.get_session_token(
        SerialNumber=f"arn:aws:iam::{account_id}:mfa/other", TokenCode=code))
    assert message.startswith("MultiFactorAuthentication failed, unable to validate MFA code.")
    _denied(lambda: sts.get_session_token(SerialNumber=serial, TokenCode="12345x"),
            "ValidationError")


def test_mfa_age_and_role_trust(cloud) -> None:
    """aws:MultiFactorAuthAge exists only for MFA sessions; a trust policy that wants
    aws:MultiFactorAuthPresent admits AssumeRole with a code (or from an MFA session),
    and the role session carries MFA on."""
    account_id, key, secret = new_account(cloud, "mfa-role")
    admin = cloud.client("iam", key=key, secret=secret)
    creds = _user(cloud, admin, "dave", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:*", "iam:*MFADevice*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}]})
    sts = session_client(cloud, "sts", creds)
    serial, app = _device(session_client(cloud, "iam", creds), "dave", "dave")
    # A second device (a user may have eight) signs the session below.
    other, other_app = _device(session_client(cloud, "iam", creds), "dave-backup", "dave")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    admin.create_role(RoleName="ops", AssumeRolePolicyDocument=trust)
    admin.put_role_policy(RoleName="ops", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))
    role_arn = f"arn:aws:iam::{account_id}:role/ops"

    _denied(lambda: session_client(cloud, "iam", creds).list_users())
    _denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"))
    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", SerialNumber=serial,
                              TokenCode=app.code())["Credentials"]
    roles = session_client(cloud, "iam", assumed).list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["ops"]

    # An MFA session: the age key is there (and small); from it the role needs no code.
    session = sts.get_session_token(SerialNumber=other,
                                    TokenCode=other_app.code())["Credentials"]
    session_client(cloud, "iam", session).list_users()
    chained = session_client(cloud, "sts", session).assume_role(RoleArn=role_arn,
                                                         RoleSessionName="c1")["Credentials"]
    session_client(cloud, "iam", chained).list_roles()
    plain = sts.get_session_token()["Credentials"]
    _denied(lambda: session_client(cloud, "iam", plain).list_users())
    _denied(lambda: session_client(cloud, "sts", plain).assume_role(RoleArn=role_arn,
                                                            RoleSessionName="p1"))


def test_resync_learns_a_drifting_device(cloud) -> None:
    """A device whose clock runs five steps ahead: its codes are refused until
    ResyncMFADevice has seen two consecutive ones; then they work."""
    _, key, secret = new_account(cloud, "mfa-drift")
    iam = cloud.client("iam", key=key, secret=secret)
    creds = _user(cloud, iam, "erin", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]})
    sts = session_client(cloud, "sts", creds)
    serial, app = _device(iam, "erin", "erin")
    app.ahead = 5
    early = app.code()
    _denied(lambda: sts.get_session_token(SerialNumber=serial, TokenCode=early))
    _denied(lambda: iam.resync_mfa_device(UserName="erin", SerialNumber=serial,
                                          AuthenticationCode1="000000",
                                          AuthenticationCode2="000000"),
            "InvalidAuthenticationCode")
    code1, code2 = app.pair()
    iam.resync_mfa_device(UserName="erin", SerialNumber=serial, AuthenticationCode1=code1,
                          AuthenticationCode2=code2)
    sts.get_session_token(SerialNumber=serial, TokenCode=app.code())
    _denied(lambda: iam.resync_mfa_device(UserName="nobody", SerialNumber=serial,
                                          AuthenticationCode1=code1,
                                          AuthenticationCode2=code2), "NoSuchEntity")


def test_devices_survive_a_restart_sealed(make_cloud) -> None:
    """Devices, assignments and the replay guard are durable; secrets are sealed in the
    database and still verify codes after the restart."""
    cloud = make_cloud()
    iam = cloud.client("iam")
    creds = _user(cloud, iam, "fay", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]})
    spare = iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")["VirtualMFADevice"]
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="fay")["VirtualMFADevice"]
    serial, seed = created["SerialNumber"], created["Base32StringSeed"]
    app = Authenticator(seed)
    code1, code2 = app.pair()
    iam.enable_mfa_device(UserName="fay", SerialNumber=serial, AuthenticationCode1=code1,
                          AuthenticationCode2=code2)
    used = app.code()
    session_client(cloud, "sts", creds).get_session_token(SerialNumber=serial, TokenCode=used)
    cloud.restart()
    iam = cloud.client("iam")
    assert iam.list_mfa_devices(UserName="fay")["MFADevices"][0]["SerialNumber"] == serial
    sts = session_client(cloud, "sts", creds)
    _denied(lambda: sts.get_session_token(SerialNumber=serial, TokenCode=used))
    spare_app = Authenticator(spare["Base32StringSeed"])
    code1, code2 = spare_app.pair()
    iam.enable_mfa_device(UserName="fay", SerialNumber=spare["SerialNumber"],
                          AuthenticationCode1=code1, AuthenticationCode2=code2)
    sts.get_session_token(SerialNumber=spare["SerialNumber"], TokenCode=spare_app.code())
    with sqlite3.connect(cloud.data_dir / "cloud.db") as db:
        docs = [row[0] for row in db.execute(
            "SELECT doc FROM clc_resources WHERE kind = 'mfa_device'")]
    secrets = (seed.decode(), spare["Base32StringSeed"].decode())
    assert len(docs) == 2
    assert all(s not in doc and "sealed:v1:" in doc for s in secrets for doc in docs)


def test_awscli_bootstrap_files_and_mfa_session(cloud, tmp_path: Path) -> None:
    """``aws iam create-virtual-mfa-device --outfile`` writes the seed or the QR code PNG;
    ``aws sts get-session-token --serial-number --token-code`` then gets an MFA session."""
    _, key, secret = new_account(cloud, "mfa-cli")

    def aws(*args: str, path: str = "/services/Euare") -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        proc = subprocess.run([AWS, "--endpoint-url", cloud.url + path, "--output", "json",
                               *args], capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    seed_file, png_file = tmp_path / "seed.txt", tmp_path / "qr.png"
    made = aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "cli",
               "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed")
    serial = made["VirtualMFADevice"]["SerialNumber"]
    aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "cli-qr",
        "--outfile", str(png_file), "--bootstrap-method", "QRCodePNG")
    assert png_file.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    app = Authenticator(seed_file.read_bytes().strip())
    code1, code2 = app.pair()
    aws("iam", "enable-mfa-device", "--user-name", "admin", "--serial-number", serial,
        "--authentication-code1", code1, "--authentication-code2", code2)
    listed = aws("iam", "list-mfa-devices", "--user-name", "admin")["MFADevices"]
    assert [d["SerialNumber"] for d in listed] == [serial]
    session = aws("sts", "get-session-token", "--serial-number", serial, "--token-code",
                  app.code(), path="/services/Tokens")["Credentials"]
    assert session["AccessKeyId"].startswith("ASIA")


def test_eight_devices_per_user(cloud) -> None:
    """IAM's quota: eight MFA devices per user; the ninth is LimitExceeded."""
    _, key, secret = new_account(cloud, "mfa-limit")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="gus")
    for n in range(8):
        _device(iam, f"gus-{n}", "gus")
    assert len(iam.list_mfa_devices(UserName="gus")["MFADevices"]) == 8
    ninth = iam.create_virtual_mfa_device(VirtualMFADeviceName="gus-8")["VirtualMFADevice"]
    code1, code2 = Authenticator(ninth["Base32StringSeed"]).pair()
    message = _denied(lambda: iam.enable_mfa_device(
        UserName="gus", SerialNumber=ninth["SerialNumber"], AuthenticationCode1=code1,
        AuthenticationCode2=code2), "LimitExceeded")
    assert "8" in message
    page = iam.list_virtual_mfa_devices(MaxItems=5)
    assert len(page["VirtualMFADevices"]) == 5 and page["IsTruncated"]
    rest = iam.list_virtual_mfa_devices(Marker=page["Marker"])["VirtualMFADevices"]
    assert len(rest) == 4
