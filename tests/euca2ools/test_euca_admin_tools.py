"""The admin tools against a real cloud: euserv-* (the service registry, maintenance mode,
events) and euctl (cloud properties), run as subprocesses."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cloudproc import CloudProcess

#: Two zones of two nodes; the default storage limits.
TWO_ZONES = """
[[zones]]
name = "zone-a"
nodes = 2
[[zones]]
name = "zone-b"
nodes = 2
"""


def services(euca: Any, ini: Path, *args: str) -> list[list[str]]:
    """euserv-describe-services' SERVICE records, split."""
    out = euca("euserv-describe-services", *args, ini=ini).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert all(r[0] == "SERVICE" and len(r) == 5 for r in rows), out
    return rows


def nodes(euca: Any, ini: Path) -> dict[str, tuple[str, set[str]]]:
    """Node name -> (state, instances) from euserv-describe-node-controllers."""
    out: dict[str, tuple[str, set[str]]] = {}
    current = ""
    for line in euca("euserv-describe-node-controllers", ini=ini).stdout.splitlines():
        f = line.split("\t")
        if f[0] == "NODE":
            current = f[2]
            out[current] = (f[3], set())
        else:
            out[current][1].add(f[1])
    return out


def run_instances(euca: Any, ini: Path, count: int, zone: str) -> list[str]:
    """Run ``count`` instances of the first image in ``zone``; their ids."""
    image = euca("euca-describe-images", ini=ini).stdout.split("\t")[1]
    out = euca("euca-run-instances", image, "-n", str(count), "-z", zone, ini=ini).stdout
    return [line.split("\t")[1] for line in out.splitlines() if line.startswith("INSTANCE")]


def wait_running(euca: Any, ini: Path, ids: list[str], timeout: float = 30.0) -> None:
    """Until every instance is running."""
    deadline = time.time() + timeout
    while True:
        out = euca("euca-describe-instances", *ids, ini=ini).stdout
        states = [line.split("\t")[5] for line in out.splitlines() if line.startswith("INSTANCE")]
        if len(states) == len(ids) and all(s == "running" for s in states):
            return
        assert time.time() < deadline, states
        time.sleep(0.3)


def test_every_component_is_a_service(euca, make_cloud) -> None:  # type: ignore[no-untyped-def]
    """The CLC, Walrus, the user-facing APIs, a CC and an SC per zone and every NC, all
    enabled; grouped by zone or host, filtered, and as ARNs with --expert."""
    cloud: CloudProcess = make_cloud(TWO_ZONES)
    rows = services(euca, cloud.ini)
    by_name = {r[3]: r for r in rows}
    assert {r[1] for r in rows} >= {"eucalyptus", "walrusbackend", "compute", "euare", "tokens",
                                    "objectstorage", "autoscaling", "cloudwatch", "bootstrap",
                                    "properties", "cluster", "storage", "node"}
    assert by_name["zone-a-cc"][1:] == ["cluster", "zone-a", "zone-a-cc", "enabled"]
    assert by_name["zone-b-sc"][1:] == ["storage", "zone-b", "zone-b-sc", "enabled"]
    assert {r[3] for r in rows if r[1] == "node"} == {
        "zone-a-node-01", "zone-a-node-02", "zone-b-node-01", "zone-b-node-02"}
    assert all(r[4] == "enabled" for r in rows)
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # by type
    zone_b = services(euca, cloud.ini, "--by-zone", "--filter", "availability-zone=zone-b")
    assert {r[3] for r in zone_b} == {"zone-b-cc", "zone-b-sc", "zone-b-node-01",
                                      "zone-b-node-02"}
    assert all(r[1] == "zone-b" for r in zone_b)
    hosts = services(euca, cloud.ini, "--by-host", "--filter", "service-type=node")
    assert {r[1] for r in hosts} == {"127.0.0.1"} and len(hosts) == 4
    expert = euca("euserv-describe-services", "--expert", "zone-a-cc", ini=cloud.ini).stdout
    assert expert.split("\t")[1] == "arn:euca:eucalyptus:zone-a:cluster:zone-a-cc/"
    out = euca("euserv-describe-services", "--show-events", "eucalyptus", ini=cloud.ini).stdout
    first, event = out.splitlines()[:2]
    assert first.split("\t")[1:4] == ["eucalyptus", "eucalyptus", "eucalyptus"]
    assert event.startswith("EVENT\t")
    assert event.endswith(f"\tINFO\tcloud started with {len(rows)} local services")
    proc = euca("euserv-describe-services", "nonesuch", ini=cloud.ini, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "InvalidParameterValue" in proc.stderr and "nonesuch" in proc.stderr
    proc = euca("euserv-describe-services", "--by-zone", "--by-host", ini=cloud.ini, check=False)
    assert proc.returncode == 2
    types = euca("euserv-describe-service-types", ini=cloud.ini).stdout.splitlines()
    assert [t.split("\t")[1] for t in types] == ["cluster", "node", "storage", "walrusbackend"]
    every = euca("euserv-describe-service-types", "-a", ini=cloud.ini).stdout
    assert "\teucalyptus\t" in every and "\tcompute\t" in every


def test_register_and_deregister_remote_services(euca, make_cloud) -> None:  # type: ignore[no-untyped-def]
    """Registered services are recorded NOTREADY (nothing has connected them), validated,
    kept across a restart, and deregistered in order; events tell each change."""
    cloud: CloudProcess = make_cloud()
    ini = cloud.ini
    out = euca("euserv-register-service", "-t", "cluster", "-h", "10.9.0.1", "-z", "zone-9",
               "zone-9-cc", ini=ini).stdout
    assert out.split() == ["SERVICE", "cluster", "zone-9", "zone-9-cc", "notready"]
    euca("euserv-register-service", "-t", "node", "-h", "10.9.0.2", "--port", "9999",
         "-z", "zone-9", "nc-9-1", ini=ini)
    for args, code in [
        (["-t", "node", "-h", "10.9.0.3", "nc-9-2"], "MissingParameter"),  # no zone
        (["-t", "node", "-h", "10.9.0.3", "-z", "zone-8", "nc-8-1"], "InvalidParameterValue"),
        (["-t", "cluster", "-h", "10.9.0.4", "-z", "zone-9", "nc-9-1"], "InvalidParameterValue"),
        (["-t", "compute", "-h", "10.9.0.4", "api-2"], "InvalidParameterValue"),
        (["-t", "node", "-h", "bad host!", "-z", "zone-9", "nc-9-3"], "InvalidParameterValue"),
        (["-t", "node", "-h", "10.9.0.3", "--port", "70000", "-z", "zone-9", "nc-9-4"],
         "InvalidParameterValue"),
    ]:
        proc = euca("euserv-register-service", *args, ini=ini, check=False)
        assert proc.returncode == 1 and code in proc.stderr, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1
    cloud.restart()
    rows = {r[3]: r for r in services(euca, ini, "--filter", "availability-zone=zone-9")}
    assert set(rows) == {"zone-9-cc", "nc-9-1"} and rows["nc-9-1"][4] == "notready"
    expert = euca("euserv-describe-services", "--expert", "nc-9-1", ini=ini).stdout
    assert "http://10.9.0.2:9999/" in expert
    proc = euca("euserv-deregister-service", "zone-9-cc", ini=ini, check=False)
    assert proc.returncode == 1 and "deregister them first" in proc.stderr
    proc = euca("euserv-deregister-service", "zone-1-cc", ini=ini, check=False)
    assert proc.returncode == 1 and "cannot be deregistered" in proc.stderr
    euca("euserv-deregister-service", "nc-9-1", ini=ini)
    euca("euserv-deregister-service", "zone-9-cc", ini=ini)
    assert not services(euca, ini, "--filter", "availability-zone=zone-9")
    events = euca("euserv-describe-events", "-f", "format:{subject-name}|{message}",
                  ini=ini).stdout.splitlines()
    mine = [e for e in events if e.split("|")[0] in ("zone-9-cc", "nc-9-1")]
    assert mine == ["zone-9-cc|registered cluster service at 10.9.0.1:8774 in zone-9",
                    "nc-9-1|registered node service at 10.9.0.2:9999 in zone-9",
                    "nc-9-1|deregistered node service",
                    "zone-9-cc|deregistered cluster service"]


def test_maintenance_mode_and_evacuation(euca, make_cloud) -> None:  # type: ignore[no-untyped-def]
    """A disabled (stopped) node gets no new instances, euserv-migrate-instances -s empties
    it, it stays in maintenance across a restart, and start puts it back in service."""
    cloud: CloudProcess = make_cloud(TWO_ZONES)
    ini = cloud.ini
    first = run_instances(euca, ini, 2, "zone-a")  # ROUNDROBIN: one on each node
    wait_running(euca, ini, first)
    view = nodes(euca, ini)
    assert len(view["zone-a-node-01"][1]) == 1 and len(view["zone-a-node-02"][1]) == 1
    out = euca("euserv-modify-service", "-s", "stop", "zone-a-node-01", ini=ini).stdout
    assert out.split() == ["SERVICE", "node", "zone-a", "zone-a-node-01", "disabled"]
    assert nodes(euca, ini)["zone-a-node-01"][0] == "DISABLED"
    more = run_instances(euca, ini, 4, "zone-a")
    wait_running(euca, ini, more)
    view = nodes(euca, ini)
    assert not set(more) & view["zone-a-node-01"][1]
    assert set(more) <= view["zone-a-node-02"][1]
    euca("euserv-migrate-instances", "-s", "zone-a-node-01", ini=ini)
    deadline = time.time() + 30
    while nodes(euca, ini)["zone-a-node-01"][1]:
        assert time.time() < deadline
        time.sleep(0.3)
    assert set(first) <= nodes(euca, ini)["zone-a-node-02"][1]
    wait_running(euca, ini, first + more)
    cloud.restart()
    row = services(euca, ini, "zone-a-node-01")[0]
    assert row[4] == "disabled"
    assert nodes(euca, ini)["zone-a-node-01"][0] == "DISABLED"
    euca("euserv-modify-service", "-s", "start", "zone-a-node-01", ini=ini)
    assert services(euca, ini, "zone-a-node-01")[0][4] == "enabled"
    late = run_instances(euca, ini, 2, "zone-a")  # ROUNDROBIN: one lands on each node again
    wait_running(euca, ini, late)
    assert set(late) & nodes(euca, ini)["zone-a-node-01"][1]
    events = euca("euserv-describe-events", "-f", "oneline", ini=ini).stdout
    assert "zone-a-node-01 state changed from ENABLED to DISABLED" in events
    assert "zone-a-node-01 state changed from DISABLED to ENABLED" in events
    proc = euca("euserv-modify-service", "-s", "stop", "bootstrap", ini=ini, check=False)
    assert proc.returncode == 1 and "cannot be stopped" in proc.stderr
    proc = euca("euserv-modify-service", "-s", "pause", "zone-a-node-01", ini=ini, check=False)
    assert proc.returncode == 2


def test_euctl(euca, make_cloud, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Show all, one, a prefix; set (also from @FILE), reset, defaults and descriptions;
    bad values and names are one-line errors; values survive a restart."""
    cloud: CloudProcess = make_cloud(TWO_ZONES)
    ini = cloud.ini
    lines = euctl(euca, ini)
    names = [line.split(" = ")[0] for line in lines]
    assert names == sorted(names)
    assert {"cloud.vmstate.terminated_time", "cloud.vmstate.instance_subdomain",
            "cloud.vmstate.pending_time",
            "cloud.quota.max_instances_per_account", "zone-a.cluster.scheduler",
            "zone-b.cluster.scheduler", "zone-a.storage.maxvolumesizeingb",
            "zone-b.storage.maxtotalvolumesizeingb"} <= set(names)
    assert euctl(euca, ini, "zone-a.cluster.scheduler") == ["zone-a.cluster.scheduler = ROUNDROBIN"]
    assert euctl(euca, ini, "-n", "cloud.vmstate") == [".eucalyptus.internal", "60", "60"]
    assert euctl(euca, ini, "zone-a.cluster.scheduler=greedy") == \
        ["zone-a.cluster.scheduler = GREEDY"]
    value = tmp_path / "limit"
    value.write_text("7\n")
    assert euctl(euca, ini, "-q", f"zone-a.storage.maxvolumesizeingb=@{value}") == []
    assert euctl(euca, ini, "-d", "zone-a.storage.maxvolumesizeingb") == \
        ["zone-a.storage.maxvolumesizeingb = 100"]
    assert "largest volume" in euctl(euca, ini, "-s", "zone-a.storage.maxvolumesizeingb")[0]
    for args, text in [
        (["zone-a.cluster.scheduler=FASTEST"], "is not a scheduler"),
        (["zone-a.storage.maxvolumesizeingb=0"], "out of range"),
        (["cloud.vmstate.terminated_time=soon"], "not a number of minutes"),
        (["cloud.vmstate.instance_subdomain=bad_domain!"], "not a DNS domain"),
        (["no.such.property=1"], "No such property"),
        (["no.such.property"], "unknown property"),
    ]:
        proc = euca("euctl", *args, ini=ini, check=False)
        assert proc.returncode == 1 and text in proc.stderr, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1
    proc = euca("euctl", f"zone-a.cluster.scheduler=@{tmp_path / 'missing'}", ini=ini,
                check=False)
    assert proc.returncode == 2 and "No such file" in proc.stderr
    cloud.restart()
    assert euctl(euca, ini, "zone-a.cluster.scheduler", "zone-a.storage.maxvolumesizeingb") == \
        ["zone-a.cluster.scheduler = GREEDY", "zone-a.storage.maxvolumesizeingb = 7"]
    assert euctl(euca, ini, "-r", "zone-a.cluster.scheduler") == \
        ["zone-a.cluster.scheduler = ROUNDROBIN"]
    cloud.restart()
    assert euctl(euca, ini, "zone-a.cluster.scheduler") == ["zone-a.cluster.scheduler = ROUNDROBIN"]
    assert "zone-a.storage.maxvolumesizeingb changed from 100 to 7" in \
        euca("euserv-describe-events", ini=ini).stdout


def euctl(euca: Any, ini: Path, *args: str) -> list[str]:
    """euctl's output lines."""
    return euca("euctl", *args, ini=ini).stdout.splitlines()


def test_delegated_operator(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """A user of the eucalyptus account acts as cloud admin only for what its policy grants:
    euserv:Describe* lists services and events; ModifyService and euctl stay refused."""
    from euca_policies import allow

    lines = euca("euare-usercreate", "-k", "svc-operator", ini=cloud_ini).stdout.split()
    env = {"AWS_ACCESS_KEY_ID": lines[-2], "AWS_SECRET_ACCESS_KEY": lines[-1]}
    proc = euca("euserv-describe-services", ini=cloud_ini, env=env, check=False)
    assert proc.returncode == 1 and "AccessDenied" in proc.stderr
    allow(cloud_ini, "svc-operator", "euserv:Describe*")
    out = euca("euserv-describe-services", "--filter", "service-type=cluster", ini=cloud_ini,
               env=env).stdout
    assert out.startswith("SERVICE\tcluster\t")
    euca("euserv-describe-events", ini=cloud_ini, env=env)
    for args in (["euserv-modify-service", "-s", "stop", "zone-1-node-01"], ["euctl"]):
        proc = euca(*args, ini=cloud_ini, env=env, check=False)
        assert proc.returncode == 1 and "AccessDenied" in proc.stderr, proc.stderr
