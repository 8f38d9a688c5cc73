"""The "done means" session: a new user, with only EUCA_CONFIG_PATH, against the real cloud.

Runs every step as a subprocess and checks that every output line has the euca2ools
record shape.  The same commands then run against moto as an AWS stand-in.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from euca_policies import allow
from euca_records import check_records, ids


def _wait_running(euca, ini: Path, instance_ids: list[str], timeout: float = 30) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        out = euca("euca-describe-instances", *instance_ids, ini=ini).stdout
        states = [f[5] for f in (line.split("\t") for line in out.splitlines()) if f[0] == "INSTANCE"]
        if states and all(s == "running" for s in states):
            return out
        assert time.monotonic() < deadline, out
        time.sleep(0.5)


def _session(euca, ini: Path, tmp_path: Path, image: str, expect_console: bool) -> None:  # type: ignore[no-untyped-def]
    out = euca("euca-create-keypair", "-f", str(tmp_path / "k.pem"), "sesskey", ini=ini).stdout
    assert check_records(out)[0][:2] == ["KEYPAIR", "sesskey"]
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0
    assert "PRIVATE KEY" in (tmp_path / "k.pem").read_text()
    out = euca("euca-create-group", "web", "-d", "web servers", ini=ini).stdout
    group_id = check_records(out)[0][1]
    assert group_id.startswith("sg-")
    out = euca("euca-authorize", "web", "-P", "tcp", "-p", "22", "-s", "10.0.0.0/8", ini=ini).stdout
    assert check_records(out)[1] == ["PERMISSION", "web", "ALLOWS", "tcp", "22", "22", "FROM",
                                     "CIDR", "10.0.0.0/8"]
    out = euca("euca-describe-groups", "web", ini=ini).stdout
    perms = [r for r in check_records(out) if r[0] == "PERMISSION"]
    assert ["tcp", "22", "22", "FROM", "CIDR", "10.0.0.0/8", "ingress"] in [p[4:] for p in perms]
    out = euca("euca-run-instances", "-n", "3", "-k", "sesskey", "-g", "web", "-t", "m1.small",
               image, ini=ini).stdout
    check_records(out)
    instances = ids(out, "INSTANCE")
    assert len(instances) == 3
    assert ids(out, "RESERVATION")
    first = instances[0]
    euca("euca-create-tags", first, "--tag", "Name=web1", "--tag", "role=", ini=ini)
    out = _wait_running(euca, ini, instances)
    check_records(out)
    out = euca("euca-describe-instances", "--filter", "tag:Name=web1",
               "--filter", "instance-state-name=running", ini=ini).stdout
    check_records(out)
    assert ids(out, "INSTANCE") == [first]
    assert ["TAG", "instance", first, "Name", "web1"] in check_records(out)
    out = euca("euca-describe-instances", "--filter", "key-name=sesskey", ini=ini).stdout
    assert sorted(ids(out, "INSTANCE")) == sorted(instances)
    fields = [r for r in check_records(out) if r[0] == "INSTANCE"][0]
    assert fields[5] == "running" and fields[6] == "sesskey" and fields[9] == "m1.small"
    out = euca("euca-describe-tags", "--filter", f"resource-id={first}", ini=ini).stdout
    assert ["TAG", "instance", first, "role", ""] in check_records(out)
    out = euca("euca-get-console-output", first, ini=ini).stdout
    lines = out.splitlines()
    assert lines[0] == first
    if expect_console:
        assert len(lines) > 2
    out = euca("euca-allocate-address", ini=ini).stdout
    address = check_records(out)[0][1]
    out = euca("euca-associate-address", address, "-i", first, ini=ini).stdout
    check_records(out)
    out = euca("euca-describe-addresses", address, ini=ini).stdout
    rec = check_records(out)[0]
    assert rec[1:3] == [address, first]
    out = euca("euca-reboot-instances", first, ini=ini).stdout
    assert out == ""
    out = euca("euca-terminate-instances", *instances, ini=ini).stdout
    recs = check_records(out)
    assert sorted(r[1] for r in recs) == sorted(instances)
    assert all(r[3] in ("shutting-down", "terminated") for r in recs)


def test_new_user_session_on_cloud(euca, cloud_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Admin creates a user with -w; the user's ini alone drives a whole session."""
    out = euca("euare-usercreate", "-w", "-l", "sessuser", ini=cloud_ini).stdout
    user_ini = tmp_path / "user.ini"
    user_ini.write_text(out)
    admin_urls = {line for line in cloud_ini.read_text().splitlines() if "-url = " in line}
    user_urls = {line for line in out.splitlines() if "-url = " in line}
    assert {u for u in admin_urls if not u.startswith("properties")} <= user_urls
    allow(cloud_ini, "sessuser", "ec2:*")  # a new user starts with no permission
    out = euca("euca-describe-images", ini=user_ini).stdout
    image = ids(out, "IMAGE")[0]
    check_records(out)
    _session(euca, user_ini, tmp_path, image, expect_console=True)


def test_same_session_on_moto(euca, moto_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same commands against moto, an AWS-shaped server."""
    _session(euca, moto_ini, tmp_path, "ami-12c6146b", expect_console=False)


@pytest.mark.parametrize("command", ["euca-describe-regions", "euca-describe-availability-zones",
                                     "euca-describe-keypairs", "euca-describe-groups"])
def test_describe_shapes_on_moto(euca, moto_ini: Path, command: str) -> None:  # type: ignore[no-untyped-def]
    """Plain describe commands print only euca2ools records."""
    check_records(euca(command, ini=moto_ini).stdout)
