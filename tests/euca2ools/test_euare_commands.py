"""The euare-* commands against the real eucalyptus-cloud: outputs and chained requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def acct_ini(euca, cloud_ini: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A fresh account (named after the test) and a euca2ools.ini for its admin."""
    import os

    name = "t" + os.urandom(4).hex()
    out = euca("euare-accountcreate", "-w", "-l", name, ini=cloud_ini).stdout
    ini = tmp_path / "acct.ini"
    ini.write_text(out)
    return ini


def _iam(ini: Path) -> Any:
    """A boto3 IAM client with the credentials and endpoint of a written euca2ools.ini."""
    import configparser

    import boto3

    cp = configparser.ConfigParser()
    cp.read(ini)
    user = next(s for s in cp.sections() if s.startswith("user "))
    region = next(s for s in cp.sections() if s.startswith("region "))
    return boto3.client("iam", endpoint_url=cp[region]["iam-url"], region_name="us-east-1",
                        aws_access_key_id=cp[user]["key-id"],
                        aws_secret_access_key=cp[user]["secret-key"])


def _virtual_device(ini: Path, name: str) -> tuple[str, Any, int]:
    """A new virtual MFA device (boto3: euca2ools has no command that creates one): its
    serial, a pyotp TOTP over its seed, and the cloud's current 30-second step."""
    import time

    import pyotp

    device = _iam(ini).create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    return (device["SerialNumber"], pyotp.TOTP(device["Base32StringSeed"].decode()),
            int(time.time() // 30))


def test_user_policies_and_attributes(euca, acct_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """useraddpolicy builds a one-statement policy; list -v, get --pretty-print, usermod."""
    euca("euare-usercreate", "bob", ini=acct_ini)
    out = euca("euare-useraddpolicy", "bob", "-p", "ec2", "-e", "Allow", "-a", "ec2:Describe*",
               "-a", "ec2:RunInstances", "-r", "*", "-o", ini=acct_ini).stdout
    built = json.loads(out)
    statement = built["Statement"][0]
    assert built["Version"] == "2012-10-17"
    assert statement["Sid"].startswith("Stmt") and len(statement["Sid"]) == 18
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert statement["Action"] == ["ec2:Describe*", "ec2:RunInstances"]
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    euca("euare-useruploadpolicy", "bob", "-p", "nos3", "-f", "-", input=doc, ini=acct_ini)
    assert euca("euare-userlistpolicies", "bob", ini=acct_ini).stdout.split() == ["ec2", "nos3"]
    verbose = euca("euare-userlistpolicies", "bob", "-v", ini=acct_ini).stdout.splitlines()
    assert verbose[0] == "ec2" and json.loads(verbose[1]) == built
    assert verbose[2] == "nos3" and json.loads(verbose[3]) == json.loads(doc)
    pretty = euca("euare-usergetpolicy", "bob", "-p", "nos3", "--pretty-print",
                  ini=acct_ini).stdout
    assert pretty.startswith("{\n    ") and json.loads(pretty) == json.loads(doc)
    one = euca("euare-userlistpolicies", "bob", "-p", "nos3", ini=acct_ini).stdout
    assert json.loads(one) == json.loads(doc)
    attrs = euca("euare-usergetattributes", "bob", ini=acct_ini).stdout.splitlines()
    assert attrs[0].endswith(":user/bob") and attrs[1].startswith("AIDA")
    euca("euare-usermod", "bob", "-n", "robert", "-p", "/eng/", ini=acct_ini)
    attrs = euca("euare-usergetattributes", "robert", ini=acct_ini).stdout.splitlines()
    assert attrs[0].endswith(":user/eng/robert")
    euca("euare-userupdateinfo", "robert", "-k", "email", "-i", "r@example.com", ini=acct_ini)
    assert euca("euare-usergetinfo", "robert", ini=acct_ini).stdout == "email\tr@example.com\n"
    # -r removes the policies (inline and managed), MFA devices, everything else first.
    account = attrs[0].split(":")[4]
    serial, totp, step = _virtual_device(acct_ini, "robert-phone")
    euca("euare-userenablemfadevice", "robert", "-s", serial, "-c1", totp.generate_otp(step - 1),
         "-c2", totp.generate_otp(step), ini=acct_ini)
    _iam(acct_ini).attach_user_policy(UserName="robert",
                                      PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    pretend = euca("euare-userdel", "-p", "robert", ini=acct_ini).stdout
    assert "\tarn:aws:iam::aws:policy/ReadOnlyAccess" in pretend and account
    euca("euare-userdel", "-r", "robert", ini=acct_ini)
    proc = euca("euare-usergetattributes", "robert", ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(NoSuchEntity)" in proc.stderr


def test_groups(euca, acct_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Group members, policies, rename and recursive delete (with --pretend first)."""
    euca("euare-groupcreate", "devs", ini=acct_ini)
    euca("euare-usercreate", "-g", "devs", "ann", ini=acct_ini)
    out = euca("euare-grouplistusers", "devs", ini=acct_ini).stdout.splitlines()
    assert out[0].endswith(":group/devs") and out[1] == "users"
    assert out[2].startswith("   ") and out[2].endswith(":user/ann")
    euca("euare-groupaddpolicy", "devs", "-p", "read", "-e", "Allow", "-a", "s3:Get*", "-r",
         "arn:aws:s3:::b/*", ini=acct_ini)
    got = json.loads(euca("euare-groupgetpolicy", "devs", "-p", "read", ini=acct_ini).stdout)
    assert got["Statement"][0]["Resource"] == "arn:aws:s3:::b/*"
    assert euca("euare-userlistgroups", "ann", ini=acct_ini).stdout.strip().endswith(
        ":group/devs")
    euca("euare-groupmod", "devs", "-n", "ops", ini=acct_ini)
    pretend = euca("euare-groupdel", "ops", "-p", ini=acct_ini).stdout.splitlines()
    assert pretend[0] == "users" and pretend[1].endswith(":user/ann")
    assert pretend[2] == "policies" and pretend[3] == "\tread"
    proc = euca("euare-groupdel", "ops", ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(DeleteConflict)" in proc.stderr
    euca("euare-groupdel", "-r", "ops", ini=acct_ini)
    assert ":group/ops" not in euca("euare-grouplistbypath", ini=acct_ini).stdout


def test_roles_profiles_and_assumerole(euca, acct_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Roles and instance profiles; assumerole prints exports that the commands then use."""
    out = euca("euare-rolecreate", "app", "-s", "ec2.amazonaws.com", "-v",
               ini=acct_ini).stdout.splitlines()
    assert out[0].endswith(":role/app") and out[1].startswith("AROA")
    assert json.loads(out[2])["Statement"][0]["Principal"] == {"Service": ["ec2.amazonaws.com"]}
    account = out[0].split(":")[4]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "sts:AssumeRole"}]})
    euca("euare-roleupdateassumepolicy", "app", "-f", "-", input=trust, ini=acct_ini)
    attrs = euca("euare-rolegetattributes", "app", ini=acct_ini).stdout.splitlines()
    assert json.loads(attrs[2]) == json.loads(trust)
    euca("euare-roleaddpolicy", "app", "-p", "all", "-e", "Allow", "-a", "*", "-c", "*",
         ini=acct_ini)
    assert euca("euare-rolelistpolicies", "app", ini=acct_ini).stdout.split() == ["all"]
    assert euca("euare-rolelistbypath", ini=acct_ini).stdout.strip().endswith(":role/app")
    out = euca("euare-instanceprofilecreate", "web", "--create-role", "-v",
               ini=acct_ini).stdout.splitlines()
    assert out[0].endswith(":instance-profile/web") and out[1].startswith("AIPA")
    got = euca("euare-instanceprofilegetattributes", "web", "-r",
               ini=acct_ini).stdout.splitlines()
    assert got[2].endswith(":role/web")
    assert euca("euare-instanceprofilelistforrole", "web", ini=acct_ini).stdout.strip() \
        .endswith(":instance-profile/web")
    euca("euare-instanceprofiledel", "-r", "web", ini=acct_ini)
    euca("euare-roledel", "-c", "web", ini=acct_ini)
    assert euca("euare-instanceprofilelistbypath", ini=acct_ini).stdout == ""
    # assumerole: sh exports by default with -s, csh with -c; then use the variables.
    exports = euca("euare-assumerole", "app", "--session-name", "cli", "-s",
                   ini=acct_ini).stdout.splitlines()
    values = {}
    for line in exports:
        assignment, export = line.split("; ")
        var, _, value = assignment.partition("=")
        assert export == f"export {var};"
        values[var] = value
    assert values["AWS_ACCESS_KEY_ID"].startswith("ASIA") and values["AWS_SECURITY_TOKEN"]
    assert values["EC2_ACCESS_KEY"] == values["AWS_ACCESS_KEY_ID"]
    env = {k: values[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                  "AWS_SECURITY_TOKEN")}
    who = euca("euare-getcallerid", ini=acct_ini, env=env).stdout.splitlines()
    assert who[0] == f"key-id = {values['AWS_ACCESS_KEY_ID']}"
    assert who[1] == f"account = {account}"
    assert who[2] == f"arn = arn:aws:sts::{account}:assumed-role/app/cli"
    assert who[3].startswith("user-id = AROA") and who[3].endswith(":cli")
    euca("euca-describe-instances", ini=acct_ini, env=env)
    csh = euca("euare-assumerole", "app", "-c", ini=acct_ini).stdout.splitlines()
    assert csh[0].startswith("setenv AWS_ACCESS_KEY_ID ASIA") and csh[0].endswith(";")
    released = euca("euare-releaserole", "-s").stdout.splitlines()
    assert released[:3] == ["unset AWS_ACCESS_KEY_ID;", "unset AWS_SECRET_ACCESS_KEY;",
                            "unset AWS_SECURITY_TOKEN;"]
    assert euca("euare-releaserole", "-c").stdout.startswith("unsetenv AWS_ACCESS_KEY_ID;")
    proc = euca("euare-assumerole", "missing", ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(AccessDenied)" in proc.stderr
    euca("euare-roledel", "-c", "app", ini=acct_ini)


def test_assumerole_with_mfa(euca, acct_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """A role whose trust policy wants MFA: assumerole without a code is refused, with
    --mfa-serial and --mfa-code of the caller's device it prints working credentials."""
    serial, totp, step = _virtual_device(acct_ini, "admin-phone")
    account = serial.split(":")[4]
    euca("euare-userenablemfadevice", "admin", "-s", serial, "-c1", totp.generate_otp(step - 1),
         "-c2", totp.generate_otp(step), ini=acct_ini)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    _iam(acct_ini).create_role(RoleName="guarded", AssumeRolePolicyDocument=trust)
    proc = euca("euare-assumerole", "guarded", ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(AccessDenied)" in proc.stderr
    proc = euca("euare-assumerole", "guarded", "--mfa-serial", serial, "--mfa-code", "000000",
                ini=acct_ini, check=False)
    assert proc.returncode == 1 and "MultiFactorAuthentication failed" in proc.stderr
    exports = euca("euare-assumerole", "guarded", "--session-name", "mfa", "--mfa-serial",
                   serial, "--mfa-code", totp.generate_otp(step + 1), ini=acct_ini).stdout
    values = dict(line.split("; ")[0].split("=", 1) for line in exports.splitlines())
    env = {k: values[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                  "AWS_SECURITY_TOKEN")}
    who = euca("euare-getcallerid", ini=acct_ini, env=env).stdout.splitlines()
    assert who[2] == f"arn = arn:aws:sts::{account}:assumed-role/guarded/mfa"


def test_credentials_commands(euca, acct_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Login profiles, signing and server certificates, MFA devices."""
    euca("euare-usercreate", "cat", ini=acct_ini)
    euca("euare-useraddloginprofile", "cat", "-p", "first-password", ini=acct_ini)
    assert euca("euare-usergetloginprofile", "cat", ini=acct_ini).stdout == \
        "Login Profile Exists for User cat\n"
    euca("euare-usermodloginprofile", "cat", input="second-password\n", ini=acct_ini)
    proc = euca("euare-useraddloginprofile", "cat", "-p", "x", ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(EntityAlreadyExists)" in proc.stderr
    euca("euare-userdelloginprofile", "cat", ini=acct_ini)
    proc = euca("euare-usergetloginprofile", "cat", ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(NoSuchEntity)" in proc.stderr
    # A generated signing certificate, written to files.
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_id = euca("euare-usercreatecert", "cat", "--out", str(cert_file), "--keyout",
                   str(key_file), ini=acct_ini).stdout.strip()
    assert "BEGIN CERTIFICATE" in cert_file.read_text()
    assert "PRIVATE KEY" in key_file.read_text() and key_file.stat().st_mode & 0o077 == 0
    listed = euca("euare-userlistcerts", "cat", ini=acct_ini).stdout.splitlines()
    assert listed == [cert_id, "Active"]
    euca("euare-usermodcert", cert_id, "-u", "cat", "-s", "Inactive", ini=acct_ini)
    assert euca("euare-userlistcerts", "cat", ini=acct_ini).stdout.splitlines()[1] == "Inactive"
    proc = euca("euare-useraddcert", "cat", "-f", str(cert_file), ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(DuplicateCertificate)" in proc.stderr
    euca("euare-userdelcert", cert_id, "-u", "cat", ini=acct_ini)
    # A server certificate with its key.
    from server.auth.certs import generate_certificate

    body, key = generate_certificate("www.example.com")
    (tmp_path / "srv.pem").write_text(body)
    (tmp_path / "srv.key").write_text(key)
    euca("euare-servercertupload", "www", "--certificate-file", str(tmp_path / "srv.pem"),
         "--private-key-file", str(tmp_path / "srv.key"), "-p", "/lb/", ini=acct_ini)
    attrs = euca("euare-servercertgetattributes", "www", ini=acct_ini).stdout.splitlines()
    assert attrs[0].endswith(":server-certificate/lb/www") and attrs[1].startswith("ASCA")
    euca("euare-servercertmod", "www", "-n", "www2", ini=acct_ini)
    assert euca("euare-servercertlistbypath", ini=acct_ini).stdout.strip().endswith("/www2")
    other_body, other_key = generate_certificate("other")
    proc = euca("euare-servercertupload", "bad", "-c", body, "--private-key", other_key,
                ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(KeyPairMismatch)" in proc.stderr
    euca("euare-servercertdel", "www2", ini=acct_ini)
    # MFA devices: enabled and re-synchronized only with consecutive codes of the device.
    serial, totp, step = _virtual_device(acct_ini, "cat-phone")
    proc = euca("euare-userenablemfadevice", "cat", "-s", serial, "-c1", "123456", "-c2",
                "654321", ini=acct_ini, check=False)
    assert proc.returncode == 1 and "(InvalidAuthenticationCode)" in proc.stderr
    euca("euare-userenablemfadevice", "cat", "-s", serial, "-c1", totp.generate_otp(step - 1),
         "-c2", totp.generate_otp(step), ini=acct_ini)
    assert euca("euare-userlistmfadevices", "cat", ini=acct_ini).stdout == serial + "\n"
    euca("euare-userresyncmfadevice", "cat", "-s", serial, "-c1", totp.generate_otp(step + 1),
         "-c2", totp.generate_otp(step + 2), ini=acct_ini)
    euca("euare-userdeactivatemfadevice", "cat", "-s", serial, ini=acct_ini)
    assert euca("euare-userlistmfadevices", "cat", ini=acct_ini).stdout == ""


def test_account_commands(euca, acct_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Aliases, the summary and OpenID Connect providers."""
    name = euca("euare-accountaliaslist", ini=acct_ini).stdout.strip()
    assert name.startswith("Alias: t")
    euca("euare-accountaliascreate", name.split()[1] + "-corp", ini=acct_ini)
    assert euca("euare-accountaliaslist", ini=acct_ini).stdout.strip().endswith("-corp")
    euca("euare-accountaliasdelete", name.split()[1] + "-corp", ini=acct_ini)
    summary = dict(line.split(": ") for line in
                   euca("euare-accountgetsummary", ini=acct_ini).stdout.splitlines())
    assert summary["Users"] == "1" and summary["AccessKeysPerUserQuota"] == "2"
    assert summary["PolicySizeQuota"] == "6144"
    arn = euca("euare-oidcprovidercreate", "https://id.example.com/auth", "-c", "app1",
               "-t", "a" * 40, ini=acct_ini).stdout.strip()
    assert arn.endswith(":oidc-provider/id.example.com/auth")
    euca("euare-oidcprovideraddclientid", "https://id.example.com/auth", "-c", "app2",
         ini=acct_ini)
    got = euca("euare-oidcprovidergetattributes", arn, ini=acct_ini).stdout.splitlines()
    assert got[:3] == ["url: id.example.com/auth", "client-id: app1", "client-id: app2"]
    assert euca("euare-oidcproviderlist", ini=acct_ini).stdout.strip() == arn
    euca("euare-oidcproviderdel", arn, ini=acct_ini)
    assert euca("euare-oidcproviderlist", ini=acct_ini).stdout == ""


def test_account_policy_commands_call_the_actions(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """The account-policy commands send their (Eucalyptus) actions; errors are one line."""
    proc = euca("euare-accountlistpolicies", "no-such-account", ini=cloud_ini, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1


def test_run_instances_with_instance_profile(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """euca-run-instances -p NAME records the profile: column 31 of INSTANCE is its ARN."""
    from euca_records import ids

    out = euca("euare-instanceprofilecreate", "cli-prof", "--create-role", "-v",
               ini=cloud_ini).stdout.splitlines()
    arn = out[0]
    image = ids(euca("euca-describe-images", ini=cloud_ini).stdout, "IMAGE")[0]
    out = euca("euca-run-instances", image, "-p", "cli-prof", ini=cloud_ini).stdout
    instance = ids(out, "INSTANCE")[0]
    line = next(x for x in euca("euca-describe-instances", instance, ini=cloud_ini).stdout
                .splitlines() if x.startswith("INSTANCE"))
    assert line.split("\t")[31] == arn
    proc = euca("euca-run-instances", image, "-p", "no-such-profile", ini=cloud_ini,
                check=False)
    assert proc.returncode == 1 and "InvalidParameterValue" in proc.stderr
    euca("euca-terminate-instances", instance, ini=cloud_ini)
