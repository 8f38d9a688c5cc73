"""Guest networking without root: the network view, its nftables rendering, the DHCP
host list, and the CC pushing views to recording appliers when records change."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.clc.model import Instance, SecurityGroup
from server.net.applier import RecordingApplier, dhcp_hosts
from server.net.nftables import removal, rule_lines, ruleset, table_name
from server.net.service import NodePusher
from server.net.view import Rule, compute_views, mac_for_ip, tap_name

WEB_RULES = [
    {"proto": "tcp", "from": 80, "to": 81, "cidrs": ["0.0.0.0/0"], "groups": []},
    {"proto": "tcp", "from": 22, "to": 22, "cidrs": ["192.0.2.0/24"],
     "groups": [["acct", "sg-client", "client"]]},
    {"proto": "icmp", "from": 8, "to": -1, "cidrs": [], "groups": [["acct", "sg-client", "c"]]},
]


def instance(iid: str, ip: str, node: str, groups: list[str], state: str = "running",
             public_ip: str = "", zone: str = "z") -> Instance:
    """An instance record as the CLC keeps it."""
    return Instance(iid, "acct", "r-1", "emi-1", "m1.small", zone, state, 0.0, node=node,
                    private_ip=ip, public_ip=public_ip, groups=[[g, g] for g in groups])


def groups() -> dict[str, SecurityGroup]:
    """A web group admitting clients, and a client group with no rules."""
    return {"sg-web": SecurityGroup("sg-web", "acct", "web", "", ingress=WEB_RULES),
            "sg-client": SecurityGroup("sg-client", "acct", "client", "")}


def test_mac_and_tap_from_the_private_address() -> None:
    assert mac_for_ip("10.1.0.5") == "d0:0d:0a:01:00:05"
    assert tap_name("10.1.0.5") == "vn0a010005"


def test_view_per_node_with_zone_wide_group_members() -> None:
    insts = [instance("i-web", "10.1.0.2", "n1", ["sg-web"], public_ip="198.51.100.7"),
             instance("i-c1", "10.1.0.3", "n2", ["sg-client"]),
             instance("i-c2", "10.1.0.4", "n2", ["sg-client"], state="pending"),
             instance("i-gone", "10.1.0.5", "n1", ["sg-client"], state="terminated"),
             instance("i-other", "10.2.0.2", "n1", ["sg-client"], zone="other")]
    views = compute_views("z", "10.1.0.0/16", ["n1", "n2"], insts, groups())
    n1, n2 = views["n1"], views["n2"]
    assert n1.gateway == "10.1.0.1"
    assert [(g.instance_id, g.mac, g.public_ip) for g in n1.guests] == \
        [("i-web", "d0:0d:0a:01:00:02", "198.51.100.7")]
    # The client group's members live on the other node, and count all the same.
    assert n1.members == {"sg-client": ("10.1.0.3", "10.1.0.4")}
    assert n1.rules["sg-web"][1] == Rule("tcp", 22, 22, ("192.0.2.0/24",), ("sg-client",))
    assert [g.instance_id for g in n2.guests] == ["i-c1", "i-c2"]
    assert n2.rules == {"sg-client": ()} and n2.members == {}
    # The same records give an equal view: the CC has nothing to push.
    assert compute_views("z", "10.1.0.0/16", ["n1", "n2"], insts, groups()) == views


def test_rules_rendered_per_protocol_and_source() -> None:
    rules = {tuple(rule_lines(r)) for r in
             compute_views("z", "10.1.0.0/16", ["n1"],
                           [instance("i-web", "10.1.0.2", "n1", ["sg-web"])],
                           groups())["n1"].rules["sg-web"]}
    assert rules == {
        ("meta l4proto tcp th dport 80-81 accept",),
        ("ip saddr 192.0.2.0/24 meta l4proto tcp th dport 22 accept",
         "ip saddr @m_sg_client meta l4proto tcp th dport 22 accept"),
        ("ip saddr @m_sg_client meta l4proto icmp icmp type 8 accept",)}
    assert rule_lines(Rule("-1", -1, -1, ("10.0.0.0/8",))) == ["ip saddr 10.0.0.0/8 accept"]
    assert rule_lines(Rule("47", -1, -1, ("0.0.0.0/0",))) == ["meta l4proto 47 accept"]


def test_ruleset_default_deny_nat_and_metadata() -> None:
    insts = [instance("i-web", "10.1.0.2", "n1", ["sg-web"], public_ip="198.51.100.7"),
             instance("i-c1", "10.1.0.3", "n1", ["sg-client"])]
    text = ruleset(compute_views("z", "10.1.0.0/16", ["n1"], insts, groups())["n1"], 8775)
    assert text.startswith("table inet euca_z\ndelete table inet euca_z\n")  # replaced whole
    assert "set m_sg_client { type ipv4_addr; elements = { 10.1.0.3 }; }" in text
    assert "chain g_0a010002 {\n    jump sg_web\n    drop\n  }" in text
    assert "chain g_0a010003 {\n    jump sg_client\n    drop\n  }" in text
    assert "ip daddr vmap { 10.1.0.2 : jump g_0a010002, 10.1.0.3 : jump g_0a010003 }" in text
    assert "ip daddr 169.254.169.254 tcp dport 80 dnat ip to 10.1.0.1:8775" in text
    assert "dnat ip to ip daddr map { 198.51.100.7 : 10.1.0.2 }" in text
    assert "ip daddr != 10.1.0.0/16 snat ip to ip saddr map { 10.1.0.2 : 198.51.100.7 }" in text
    assert 'iifname "vn0a010003" ether saddr != d0:0d:0a:01:00:03 drop' in text
    # Nothing of a guest is left once it is gone: no chain, set member, NAT or port.
    empty = ruleset(compute_views("z", "10.1.0.0/16", ["n1"], [], groups())["n1"], 8775)
    assert "10.1.0." not in empty.replace("10.1.0.1:", "") and "198.51" not in empty
    assert "vn0a" not in empty and "chain g_" not in empty
    assert removal("z") == ("table inet euca_z\ndelete table inet euca_z\n"
                            "table bridge euca_z\ndelete table bridge euca_z\n")
    assert table_name("zone-1.a") == "euca_zone_1_a"


def test_dhcp_hosts_and_recording_applier() -> None:
    view = compute_views("z", "10.1.0.0/16", ["n1"],
                         [instance("i-web", "10.1.0.2", "n1", ["sg-web"])], groups())["n1"]
    assert dhcp_hosts(view) == ["d0:0d:0a:01:00:02,10.1.0.2,euca-10-1-0-2,infinite"]
    applier = RecordingApplier("n1")
    assert applier.ruleset() == "" and applier.current is None
    pusher = NodePusher(applier, threaded=False)
    pusher.push(view)
    assert applier.current == view and pusher.applied == view
    assert applier.ruleset() == ruleset(view, 8775)
    assert applier.dhcp_hosts() == dhcp_hosts(view)


def test_threaded_pusher_applies_the_newest_view() -> None:
    views = [compute_views("z", "10.1.0.0/16", ["n1"],
                           [instance(f"i-{n}", f"10.1.0.{n + 2}", "n1", [])] if n else [],
                           {})["n1"] for n in range(5)]
    applier = RecordingApplier("n1")
    pusher = NodePusher(applier, threaded=True)
    for view in views:
        pusher.push(view)
    pusher.close()  # finishes what is pending
    assert applier.current == views[-1]
    assert len(applier.views) <= len(views)


# -- in process: the CC pushes on change ---------------------------------------------
@pytest.fixture
def edge_cloud(tmp_path: Any) -> Any:
    """An in-process cloud (not started) with a virtual zone that has networking on."""
    from server.cloud import Cloud
    from server.config import parse

    cfg = parse({"zones": [{"name": "z", "nodes": 2, "network": "edge",
                            "private_subnet": "10.9.0.0/24"}]}, data_dir=str(tmp_path))
    cloud = Cloud(cfg)
    yield cloud
    cloud.engine.dispose()


def test_views_pushed_on_change_only(edge_cloud: Any) -> None:
    asyncio.run(pushes_on_change(edge_cloud))


async def pushes_on_change(cloud: Any) -> None:
    """The steps of the test above, on the cloud's own loop."""
    await cloud.start()
    settle = lambda: asyncio.sleep(0.02)  # noqa: E731 (the scheduled recomputation runs)
    service = cloud.components["network"]
    appliers = {n: p.applier for n, p in service.pushers["z"].items()}
    assert sorted(appliers) == ["z-node-01", "z-node-02"]
    assert all(isinstance(a, RecordingApplier) for a in appliers.values())
    await settle()
    assert {n: len(a.views) for n, a in appliers.items()} == {"z-node-01": 1, "z-node-02": 1}

    clc = cloud.clc
    web = SecurityGroup("sg-web", "acct", "web", "", ingress=[])
    client = SecurityGroup("sg-client", "acct", "client", "")
    for sg in (web, client):
        clc.groups[sg.id] = sg
        clc.save(sg)
    a = instance("i-a", "10.9.0.2", "z-node-01", ["sg-web"])
    b = instance("i-b", "10.9.0.3", "z-node-02", ["sg-client"])
    for inst in (a, b):
        clc.instances[inst.id] = inst
        clc.save(inst)
    await settle()
    node1 = appliers["z-node-01"]
    assert [g.instance_id for g in node1.current.guests] == ["i-a"]
    assert len(node1.views) == 2  # several saves in one turn: one push

    # A source-group rule: node 1 now needs the client group's members.
    web.ingress = [{"proto": "tcp", "from": 80, "to": 80, "cidrs": [],
                    "groups": [["acct", "sg-client", "client"]]}]
    clc.save(web)
    await settle()
    assert node1.current.members == {"sg-client": ("10.9.0.3",)}
    assert "ip saddr @m_sg_client meta l4proto tcp th dport 80 accept" in node1.ruleset()
    node2_pushes = len(appliers["z-node-02"].views)

    # Membership changes on node 2 reach node 1's set.
    b.state = "terminated"
    clc.save(b)
    await settle()
    assert node1.current.members == {"sg-client": ()}
    assert len(appliers["z-node-02"].views) == node2_pushes + 1  # its guest left
    # A change no view depends on pushes nothing.
    before = len(node1.views)
    clc.save(b)
    await settle()
    assert len(node1.views) == before
    await cloud.stop()


def test_zone_network_setting_is_checked() -> None:
    from server.config import ConfigError, parse

    zones = parse({"zones": [{"name": "z"}]}).zones
    assert zones[0].network == "" and zones[0].network_bridge == "eucabr0"  # off by default
    with pytest.raises(ConfigError, match="network: expected"):
        parse({"zones": [{"name": "z", "network": "managed"}]})
