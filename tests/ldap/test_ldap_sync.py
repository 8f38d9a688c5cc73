"""LDAP sync against a real OpenLDAP (Debian's slapd) on 127.0.0.1: accounts, groups and
users created from the directory, updated, cleanly deleted; synced users log in (web and
GetAccessToken) with their directory password."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "console"))

from cloudproc import CloudProcess, free_port, running_cloud  # noqa: E402
from consolehelp import Browser  # noqa: E402

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd")
                                  else None)
SUFFIX, ROOT_DN, ROOT_PW = "dc=example,dc=com", "cn=admin,dc=example,dc=com", "rootsecret"
ldap3 = pytest.importorskip("ldap3", reason="ldap3 is not installed")

CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{root}"
rootpw {pw}
directory {dir}/db
"""


@pytest.fixture(scope="module")
def slapd() -> Iterator[str]:
    """A slapd on a free loopback port with an empty dc=example,dc=com; its URL."""
    if SLAPD is None:
        pytest.skip("Debian's slapd is not installed (scripts/sysdeps.sh installs it)")
    work = Path(tempfile.mkdtemp(prefix="slapd-"))
    (work / "db").mkdir()
    conf = work / "slapd.conf"
    conf.write_text(CONF.format(dir=work, suffix=SUFFIX, root=ROOT_DN, pw=ROOT_PW))
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = open(work / "slapd.log", "wb")  # noqa: SIM115 - kept open for the server
    proc = subprocess.Popen([SLAPD, "-f", str(conf), "-h", url + "/", "-d", "0"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    else:
        proc.kill()
    if proc.poll() is not None:
        pytest.skip(f"slapd did not start: {(work / 'slapd.log').read_text()[-800:]}")
    conn = ldap3.Connection(ldap3.Server(url), ROOT_DN, ROOT_PW, auto_bind=True)
    conn.add(SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
    for ou in ("people", "groups"):
        conn.add(f"ou={ou},{SUFFIX}", ["organizationalUnit"], {"ou": ou})
    conn.unbind()
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def directory(slapd: str) -> Any:
    """A connection to the directory as its root."""
    conn = ldap3.Connection(ldap3.Server(slapd), ROOT_DN, ROOT_PW, auto_bind=True)
    yield conn
    conn.unbind()


def person(conn: Any, uid: str, password: str) -> str:
    """Add a user; its DN."""
    dn = f"uid={uid},ou=people,{SUFFIX}"
    assert conn.add(dn, ["inetOrgPerson"], {"uid": uid, "cn": uid, "sn": uid,
                                            "userPassword": password}), conn.result
    return dn


def group(conn: Any, cn: str, members: list[str]) -> str:
    """Add a groupOfNames; its DN."""
    dn = f"cn={cn},ou=groups,{SUFFIX}"
    assert conn.add(dn, ["groupOfNames"], {"cn": cn, "member": members}), conn.result
    return dn


def lic(url: str, clean: bool = True) -> str:
    """A LIC with accounting groups (``cn=acct-*``) whose members are groups."""
    return json.dumps({
        "ldap-service": {"server-url": url, "auth-method": "simple", "auth-user": ROOT_DN,
                         "auth-credentials": ROOT_PW, "user-auth-method": "simple"},
        "sync": {"enable": "true", "auto": "true", "interval": "3600000",
                 "clean-deletion": "true" if clean else "false"},
        "accounting-groups": {"base-dn": f"ou=groups,{SUFFIX}", "id-attribute": "cn",
                              "member-attribute": "member",
                              "selection": {"filter": "(&(objectClass=groupOfNames)(cn=acct-*))"}},
        "groups": {"base-dn": f"ou=groups,{SUFFIX}", "id-attribute": "cn",
                   "member-attribute": "member",
                   "selection": {"filter": "(&(objectClass=groupOfNames)(!(cn=acct-*)))"}},
        "users": {"base-dn": f"ou=people,{SUFFIX}", "id-attribute": "uid",
                  "selection": {"filter": "objectClass=inetOrgPerson"}},
    })


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """A cloud with HTTPS (for the console log-in)."""
    with running_cloud(https=True) as c:
        yield c


def call(cloud: CloudProcess, action: str, params: dict[str, str]) -> str:
    """A signed IAM query as the cloud admin; the XML answer."""
    import requests
    from requests_aws4auth import AWS4Auth

    creds = cloud.credentials()
    auth = AWS4Auth(creds["key"], creds["secret"], "us-east-1", "iam")
    r = requests.post(cloud.url + "/services/Euare", data={"Action": action,
                                                           "Version": "2010-05-08", **params},
                      auth=auth, timeout=30)
    assert r.status_code == 200, r.text
    return r.text


def wait_sync(cloud: CloudProcess, since: str = "") -> str:
    """Wait until GetLdapSyncStatus shows a finished sync other than the one ``since``
    (an earlier status) reported."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = call(cloud, "GetLdapSyncStatus", {})
        if "<LastSyncTime>" in text and "<InSync>false</InSync>" in text:
            stamp = text.split("<LastSyncTime>")[1].split("<")[0]
            if f"<LastSyncTime>{stamp}<" not in since:
                return text
        time.sleep(0.2)
    raise AssertionError("no LDAP sync finished: " + call(cloud, "GetLdapSyncStatus", {}))


def test_sync_login_update_and_clean_deletion(cloud: CloudProcess, directory: Any,
                                              slapd: str) -> None:
    """Accounts, groups and users appear; a synced user logs in with the directory
    password; changes and deletions in the directory follow on the next sync."""
    alice = person(directory, "alice", "alice-ldap-pw")
    bob = person(directory, "bob", "bob-ldap-pw")
    devs = group(directory, "developers", [alice, bob])
    group(directory, "acct-engineering", [devs])

    call(cloud, "PutLdapIntegrationConfiguration", {"Configuration": lic(slapd)})
    first = wait_sync(cloud)
    assert "<LastSyncError>" not in first, first
    accounts = call(cloud, "ListAccounts", {})
    assert "<AccountName>acct-engineering</AccountName>" in accounts
    members = call(cloud, "GetGroup", {"GroupName": "developers",
                                       "DelegateAccount": "acct-engineering"})
    assert "<UserName>alice</UserName>" in members and "<UserName>bob</UserName>" in members

    # Log in with the directory's password, on the web and with GetAccessToken.
    web = Browser(cloud)
    assert web.login("acct-engineering", "alice", "alice-ldap-pw").status_code == 200
    assert Browser(cloud).login("acct-engineering", "alice", "wrong").status_code == 401
    import requests

    token = requests.post(cloud.https_url + "/services/Tokens",
                          data={"Action": "GetAccessToken", "Version": "2011-06-15"},
                          auth=("bob@acct-engineering", "bob-ldap-pw"), verify=str(cloud.ca),
                          timeout=30)
    assert token.status_code == 200 and "<SessionToken>" in token.text, token.text
    # The directory changes its password: the old one stops working at once.
    directory.modify(alice, {"userPassword": [(ldap3.MODIFY_REPLACE, ["alice-new-pw"])]})
    assert Browser(cloud).login("acct-engineering", "alice", "alice-ldap-pw").status_code == 401
    assert Browser(cloud).login("acct-engineering", "alice", "alice-new-pw").status_code == 200

    # Bob leaves the group and the directory; a new user joins.
    carol = person(directory, "carol", "carol-ldap-pw")
    directory.modify(devs, {"member": [(ldap3.MODIFY_REPLACE, [alice, carol])]})
    directory.delete(bob)
    call(cloud, "PutLdapIntegrationConfiguration", {"Configuration": lic(slapd)})
    wait_sync(cloud, first)
    members = call(cloud, "GetGroup", {"GroupName": "developers",
                                       "DelegateAccount": "acct-engineering"})
    assert "<UserName>carol</UserName>" in members and "<UserName>bob</UserName>" not in members
    listed = call(cloud, "ListUsers", {"DelegateAccount": "acct-engineering"})
    assert "<UserName>bob</UserName>" not in listed

    # The accounting group goes: the account is deleted (clean deletion).
    second = call(cloud, "GetLdapSyncStatus", {})
    directory.delete(f"cn=acct-engineering,ou=groups,{SUFFIX}")
    call(cloud, "PutLdapIntegrationConfiguration", {"Configuration": lic(slapd)})
    wait_sync(cloud, second)
    assert "acct-engineering" not in call(cloud, "ListAccounts", {})


def test_bad_lic_is_refused(cloud: CloudProcess) -> None:
    """A LIC without its required parts is a ValidationError naming the field."""
    import requests
    from requests_aws4auth import AWS4Auth

    creds = cloud.credentials()
    r = requests.post(cloud.url + "/services/Euare", data={
        "Action": "PutLdapIntegrationConfiguration", "Version": "2010-05-08",
        "Configuration": json.dumps({"ldap-service": {}})},
        auth=AWS4Auth(creds["key"], creds["secret"], "us-east-1", "iam"), timeout=30)
    assert r.status_code == 400 and "ValidationError" in r.text and "server-url" in r.text


def test_lic_survives_a_restart_sealed(cloud: CloudProcess, directory: Any, slapd: str) -> None:
    """The LIC is kept (its bind password sealed in the database) and the sync runs again
    when the cloud starts; synced users still log in."""
    dave = person(directory, "dave", "dave-ldap-pw")
    ops = group(directory, "operators", [dave])
    group(directory, "acct-operations", [ops])
    call(cloud, "PutLdapIntegrationConfiguration", {"Configuration": lic(slapd, clean=False)})
    wait_sync(cloud)
    for stored in cloud.data_dir.glob("cloud.db*"):  # the database and its journal
        assert ROOT_PW.encode() not in stored.read_bytes(), stored
    cloud.restart()
    status = wait_sync(cloud)
    assert "<SyncEnabled>true</SyncEnabled>" in status
    assert Browser(cloud).login("acct-operations", "dave", "dave-ldap-pw").status_code == 200
    assert ROOT_PW in call(cloud, "GetLdapIntegrationConfiguration", {})
