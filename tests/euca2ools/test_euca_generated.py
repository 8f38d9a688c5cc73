"""Man pages and bash completion: regenerated from the declarations, rendered, and run in bash."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from euca2ools import generate
from euca2ools.commands import all_commands

ROOT = Path(generate.ROOT)
COMPLETION = ROOT / "bash_completion" / "euca2ools"


def test_generated_files_are_current() -> None:
    """Regenerating man pages, completion, index and script list changes nothing."""
    stale = [rel for rel, content in generate.outputs().items()
             if not (ROOT / rel).exists() or (ROOT / rel).read_text() != content]
    assert not stale, f"run: python -m euca2ools.generate  (stale: {stale})"


def test_every_command_has_a_man_page() -> None:
    """One section-1 page per command, plus euca2ools.ini(5) and euca2ools(7)."""
    pages = {p.name for p in (ROOT / "man").iterdir()}
    assert {f"{c.name}.1" for c in all_commands()} | {"euca2ools.ini.5", "euca2ools.7"} <= pages


def test_every_console_script_has_a_man_page() -> None:
    """Every script pyproject.toml installs (the server, the simulator and the dashboard
    too) has a generated section-1 page naming its options."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        scripts = tomllib.load(handle)["project"]["scripts"]
    assert {"eucalyptus-cloud", "euca-sim", "euca-tui"} <= set(scripts)
    missing = [name for name in scripts if not (ROOT / "man" / f"{name}.1").is_file()]
    assert not missing, f"no man page: {missing}"
    assert "\\-\\-data\\-dir" in (ROOT / "man" / "eucalyptus-cloud.1").read_text()
    assert '.SS "sweep"' in (ROOT / "man" / "euca-sim.1").read_text()
    assert "\\-\\-interval" in (ROOT / "man" / "euca-tui.1").read_text()


@pytest.mark.skipif(shutil.which("man") is None, reason="man (man-db) is not installed")
@pytest.mark.parametrize("page", ["euca-run-instances.1", "euca-describe-instances.1",
                                  "euare-usercreate.1", "euca2ools.ini.5", "euca2ools.7",
                                  "eucalyptus-cloud.1", "euca-sim.1", "euca-tui.1"])
def test_man_page_renders(page: str) -> None:
    """``man ./man/PAGE`` renders without groff warnings at usual widths, showing the options."""
    for width in ("60", "80", "120"):
        env = dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH=width, LANG="C.UTF-8")
        proc = subprocess.run(["man", "--warnings", str(ROOT / "man" / page)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "warning" not in proc.stderr.lower(), (width, proc.stderr)
    if page == "euca-run-instances.1":
        assert "--instance-type" in proc.stdout.replace("\u2010", "-")
        assert "SYNOPSIS" in proc.stdout


def _complete(words: list[str], env: dict[str, str]) -> list[str]:
    """Run the completion function in a real bash and return COMPREPLY."""
    script = (
        f"source {COMPLETION}\n"
        "COMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + ")\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
        "_euca2ools\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_completes_options_and_filters(base_env: dict[str, str]) -> None:
    """Options, then filter names (with a trailing '=')."""
    opts = _complete(["euca-run-instances", "--instance-"], base_env)
    assert opts == ["--instance-count", "--instance-initiated-shutdown-behavior",
                    "--instance-type"]
    filters = _complete(["euca-describe-instances", "--filter", "instance-state-"], base_env)
    assert filters == ["instance-state-code=", "instance-state-name="]


def test_completes_live_resources_with_cache(base_env: dict[str, str], stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Instance IDs, zones and instance types come from the cloud, cached a few seconds."""
    cloud, ini = stub
    cloud.answers["DescribeInstances"] = (200, (
        "<DescribeInstancesResponse><reservationSet><item><reservationId>r-1</reservationId>"
        "<instancesSet><item><instanceId>i-aaa</instanceId></item><item><instanceId>i-abb"
        "</instanceId></item><item><instanceId>i-ccc</instanceId></item></instancesSet></item>"
        "</reservationSet></DescribeInstancesResponse>"))
    cloud.answers["DescribeAvailabilityZones"] = (200, (
        "<DescribeAvailabilityZonesResponse><availabilityZoneInfo><item><zoneName>zone-1"
        "</zoneName><zoneState>available</zoneState></item></availabilityZoneInfo>"
        "</DescribeAvailabilityZonesResponse>"))
    cloud.answers["DescribeInstanceTypes"] = (200, (
        "<DescribeInstanceTypesResponse><instanceTypeDetails><item><name>m1.small</name>"
        "<cpu>1</cpu><memory>256</memory><disk>5</disk></item><item><name>m1.large</name>"
        "<cpu>2</cpu><memory>512</memory><disk>10</disk></item></instanceTypeDetails>"
        "</DescribeInstanceTypesResponse>"))
    env = dict(base_env, EUCA_CONFIG_PATH=str(ini), XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert _complete(["euca-terminate-instances", "i-a"], env) == ["i-aaa", "i-abb"]
    assert _complete(["euca-run-instances", "-z", ""], env) == ["zone-1"]
    assert _complete(["euca-run-instances", "emi-1", "--instance-type", "m1."], env) == \
        ["m1.small", "m1.large"]
    assert list((tmp_path / "cache" / "euca2ools").iterdir())
    assert _complete(["euca-describe-instances", "--filter", "instance-id", "=", "i-a"], env) == \
        ["i-aaa", "i-abb"]
    assert _complete(["euca-describe-instances", "--filter", "availability-zone=z"], env) == \
        ["availability-zone=zone-1"]
    assert _complete(["euca-describe-instances", "--filter", "instance-state-name", "=", "st"],
                     env) == ["stopping", "stopped"]
    before = len(cloud.requests)
    assert _complete(["euca-reboot-instances", "i-c"], env) == ["i-ccc"]
    assert len(cloud.requests) == before  # served from the cache
    env["EUCA2OOLS_COMPLETION_TTL"] = "0"
    time.sleep(1.1)
    assert _complete(["euca-reboot-instances", "i-c"], env) == ["i-ccc"]
    assert len(cloud.requests) > before  # expired: asked the cloud again


def test_completes_files_and_nothing_for_free_values(base_env: dict[str, str], tmp_path: Path) -> None:
    """File arguments complete paths; free-form values complete nothing."""
    (tmp_path / "userdata.txt").write_text("x")
    prefix = str(tmp_path / "user")
    assert _complete(["euca-run-instances", "-f", prefix], base_env) == [str(tmp_path / "userdata.txt")]
    assert _complete(["euca-create-group", "-d", ""], base_env) == []


def test_completes_load_balancer_names(base_env: dict[str, str], stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """eulb-* commands complete the names of existing balancers (not the new one's)."""
    cloud, ini = stub
    cloud.answers["DescribeLoadBalancers"] = (200, (
        "<DescribeLoadBalancersResponse><DescribeLoadBalancersResult><LoadBalancerDescriptions>"
        "<member><LoadBalancerName>web</LoadBalancerName><DNSName>w</DNSName></member>"
        "<member><LoadBalancerName>worker</LoadBalancerName><DNSName>x</DNSName></member>"
        "<member><LoadBalancerName>db</LoadBalancerName><DNSName>d</DNSName></member>"
        "</LoadBalancerDescriptions></DescribeLoadBalancersResult>"
        "</DescribeLoadBalancersResponse>"))
    env = dict(base_env, EUCA_CONFIG_PATH=str(ini), XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert _complete(["eulb-describe-instance-health", "w"], env) == ["web", "worker"]
    assert _complete(["eulb-delete-lb", "d"], env) == ["db"]
    assert _complete(["eulb-create-lb", "w"], env) == []


def test_completes_vpc_resources(base_env: dict[str, str], stub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """VPC commands complete VPC and subnet IDs, as arguments, options and filter values."""
    cloud, ini = stub
    cloud.answers["DescribeVpcs"] = (200, (
        "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-aa1</vpcId></item><item><vpcId>vpc-b2"
        "</vpcId></item></vpcSet></DescribeVpcsResponse>"))
    cloud.answers["DescribeSubnets"] = (200, (
        "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-1</subnetId></item>"
        "</subnetSet></DescribeSubnetsResponse>"))
    env = dict(base_env, EUCA_CONFIG_PATH=str(ini), XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert _complete(["euca-delete-vpc", "vpc-a"], env) == ["vpc-aa1"]
    assert _complete(["euca-create-subnet", "10.0.0.0/24", "-c", ""], env) == ["vpc-aa1", "vpc-b2"]
    assert _complete(["euca-describe-subnets", "--filter", "vpc-id", "=", "vpc-b"], env) == \
        ["vpc-b2"]
    assert _complete(["euca-associate-route-table", "rtb-1", "-s", "sub"], env) == ["subnet-1"]
