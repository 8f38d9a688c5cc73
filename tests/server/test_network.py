"""Security groups rendered as libvirt nwfilter XML."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from server.cc.network import filter_name, nwfilter_xml


def test_rules_render_as_nwfilter() -> None:
    """CIDR and source-group rules become accept rules; everything else inbound is dropped."""
    rules = [
        {"proto": "tcp", "from": 22, "to": 22, "cidrs": ["10.0.0.0/8"], "groups": []},
        {"proto": "icmp", "from": -1, "to": -1, "cidrs": [], "groups": [["111", "sg-web", "web"]]},
        {"proto": "-1", "from": -1, "to": -1, "cidrs": ["192.0.2.7/32"], "groups": []},
    ]
    root = ET.fromstring(nwfilter_xml("sg-db", rules, {"sg-web": ["10.1.0.5", "10.1.0.6"]}))
    assert root.get("name") == filter_name("sg-db") == "euca-sg-db"
    accepts = [r for r in root if r.get("action") == "accept" and r.get("direction") == "in"]
    tcp = accepts[0].find("tcp")
    assert (tcp.get("srcipaddr"), tcp.get("srcipmask"), tcp.get("dstportstart")) == \
        ("10.0.0.0", "8", "22")
    assert [r.find("icmp").get("srcipaddr") for r in accepts[1:3]] == ["10.1.0.5", "10.1.0.6"]
    assert accepts[3].find("all").get("srcipaddr") == "192.0.2.7"
    last = list(root)[-1]
    assert (last.get("action"), last.get("direction")) == ("drop", "in")
