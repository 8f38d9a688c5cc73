"""More commands against the real eucalyptus-cloud: identity, attributes, types, zones."""

from __future__ import annotations

import time
from pathlib import Path

from euca_policies import allow
from euca_records import check_records, ids


def test_identity_commands(euca, cloud_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Groups, users, keys and accounts, with their bare-value output."""
    out = euca("euare-groupcreate", "-v", "ops", ini=cloud_ini).stdout.splitlines()
    assert out[0].endswith(":group/ops") and len(out) == 2
    out = euca("euare-usercreate", "-g", "ops", "--verify", "-v", "-k", "dave",
               ini=cloud_ini).stdout.splitlines()
    assert out[0].endswith(":user/dave") and len(out) == 4
    key_id, secret = out[2], out[3]
    assert key_id.startswith("AKIA") and len(secret) >= 20
    euca("euare-groupadduser", "ops", "-u", "dave", ini=cloud_ini, check=False)
    out = euca("euare-grouplistbypath", ini=cloud_ini).stdout.splitlines()
    assert out[0] == "groups" and any(line.strip().endswith(":group/ops") for line in out[1:])
    users = euca("euare-userlistbypath", ini=cloud_ini).stdout.splitlines()
    assert any(u.endswith(":user/dave") for u in users)
    second = euca("euare-useraddkey", "dave", ini=cloud_ini).stdout.splitlines()
    assert len(second) == 2
    keys = euca("euare-userlistkeys", "dave", ini=cloud_ini).stdout.splitlines()
    assert key_id in keys and second[0] in keys and "Active" in keys
    euca("euare-userdelkey", "-u", "dave", second[0], ini=cloud_ini)
    assert second[0] not in euca("euare-userlistkeys", "dave", ini=cloud_ini).stdout
    # The new key works for the new user, once a policy allows it (users start with nothing).
    allow(cloud_ini, "dave", "ec2:DescribeRegions")
    out = euca("euca-describe-regions", ini=cloud_ini,
               env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}).stdout
    check_records(out)
    euca("euare-userdel", "-r", "dave", ini=cloud_ini)
    assert ":user/dave" not in euca("euare-userlistbypath", ini=cloud_ini).stdout
    ini = euca("euare-useraddkey", "-w", "-l", "admin", ini=cloud_ini).stdout
    assert "[user " in ini and "key-id = " in ini and "user = " in ini


def test_accounts(euca, cloud_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Cloud-admin account extensions, and a written config for the new account."""
    out = euca("euare-accountcreate", "-w", "-l", "acme", ini=cloud_ini).stdout
    acme_ini = tmp_path / "acme.ini"
    acme_ini.write_text(out)
    accounts = euca("euare-accountlist", ini=cloud_ini).stdout.splitlines()
    assert any(line.split("\t")[0] == "acme" for line in accounts)
    out = euca("euca-describe-availability-zones", ini=acme_ini).stdout
    check_records(out)
    euca("euare-usercreate", "--as-account", "acme", "erin", ini=cloud_ini)
    users = euca("euare-userlistbypath", ini=acme_ini).stdout
    assert ":user/erin" in users
    euca("euare-accountdel", "-r", "acme", ini=cloud_ini)
    accounts = euca("euare-accountlist", ini=cloud_ini).stdout.splitlines()
    assert not any(line.split("\t")[0] == "acme" for line in accounts)


def test_types_zones_attributes(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Instance types with capacity, verbose zones, account attributes, image attributes."""
    out = euca("euca-describe-instance-types", "--show-capacity", ini=cloud_ini).stdout
    lines = out.splitlines()
    assert lines[0].split("\t")[1].split()[:2] == ["Name", "CPUs"]
    assert "Used / Total" in lines[0]
    assert any(line.split("\t")[1].split()[0] == "m1.small" for line in lines[1:])
    out = euca("euca-describe-instance-types", "--by-zone", ini=cloud_ini).stdout
    assert out.splitlines()[0].startswith("AVAILABILITYZONE\t")
    out = euca("euca-modify-instance-type", "m1.small", "-c", "1", "-m", "256", "-d", "5",
               ini=cloud_ini).stdout
    assert out.split("\t")[:2] == ["INSTANCETYPE", "m1.small"]
    out = euca("euca-describe-availability-zones", "verbose", ini=cloud_ini).stdout
    assert any("|- m1.small" in line for line in out.splitlines())
    check_records(euca("euca-describe-availability-zones", ini=cloud_ini).stdout)
    check_records(euca("euca-describe-account-attributes", ini=cloud_ini).stdout)
    image = ids(euca("euca-describe-images", ini=cloud_ini).stdout, "IMAGE")[0]
    out = euca("euca-describe-image-attribute", image, "-l", ini=cloud_ini).stdout
    assert out.split("\t")[:2] == ["launchPermission", image]
    out = euca("euca-modify-image-attribute", image, "-l", "-a", "111122223333",
               ini=cloud_ini).stdout
    assert out == f"launchPermission\t{image}\tADD\tUserId\t111122223333\n"
    out = euca("euca-reset-image-attribute", image, "-l", ini=cloud_ini).stdout
    assert out == f"launchPermission\t{image}\tRESET\n"


def test_instance_attributes_status_monitoring(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Attributes, status, monitoring and console of one instance."""
    image = ids(euca("euca-describe-images", ini=cloud_ini).stdout, "IMAGE")[0]
    out = euca("euca-run-instances", image, "-t", "m1.small", "-d", "hello", ini=cloud_ini).stdout
    instance = ids(out, "INSTANCE")[0]
    deadline = time.monotonic() + 30
    while "running" not in euca("euca-describe-instances", instance, ini=cloud_ini).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    out = euca("euca-describe-instance-attribute", instance, "-t", ini=cloud_ini).stdout
    assert out == f"instanceType\t{instance}\tm1.small\n"
    out = euca("euca-describe-instance-attribute", instance, "--user-data", ini=cloud_ini).stdout
    assert out.splitlines() == [f"userData\t{instance}", "hello"]
    euca("euca-modify-instance-attribute", instance, "--disable-api-termination", "false",
         ini=cloud_ini)
    out = euca("euca-describe-instance-status", instance, ini=cloud_ini).stdout
    assert out.splitlines()[0].split("\t")[:3] == ["INSTANCE", instance, "zone-1"] or \
        out.splitlines()[0].split("\t")[1] == instance
    out = euca("euca-monitor-instances", instance, ini=cloud_ini).stdout
    assert out == f"{instance}\tmonitoring-enabled\n"
    out = euca("euca-unmonitor-instances", instance, ini=cloud_ini).stdout
    assert out.split("\t")[0] == instance
    out = euca("euca-get-console-output", "-r", instance, ini=cloud_ini).stdout
    assert out.splitlines()[0] == instance
    euca("euca-terminate-instances", instance, ini=cloud_ini)
