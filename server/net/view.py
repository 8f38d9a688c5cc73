"""The network view of a zone, per node: what Eucalyptus' CC broadcast to eucanetd.

A pure function of the CLC's records (instances, security groups) and the zone's
settings; two views compare equal when a node has nothing to change, so the CC pushes
a view only when it differs from the last one it pushed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Instance states whose guests are on the network (rules, leases, NAT).
ON_NETWORK = ("pending", "running", "stopping")

METADATA_ADDRESS = "169.254.169.254"


def mac_for_ip(private_ip: str) -> str:
    """Eucalyptus' MAC for a private address: ``d0:0d:`` + the address in hex."""
    packed = ipaddress.IPv4Address(private_ip).packed
    return "d0:0d:" + ":".join(f"{b:02x}" for b in packed)


def tap_name(private_ip: str) -> str:
    """The host side of a guest's NIC: ``vn`` + the private address in hex (10 chars)."""
    return "vn" + ipaddress.IPv4Address(private_ip).packed.hex()


@dataclass(frozen=True)
class Rule:
    """One ingress rule: protocol (tcp/udp/icmp/-1/number), port range or ICMP
    type/code, and the sources it admits (CIDRs and source groups' members)."""

    proto: str
    lo: int
    hi: int
    cidrs: tuple[str, ...] = ()
    source_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guest:
    """An instance's place on the network."""

    instance_id: str
    private_ip: str
    mac: str
    hostname: str
    public_ip: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeView:
    """What one node enforces: its guests, their groups' rules, and the members of
    every group a rule names as a source (anywhere in the zone)."""

    zone: str
    node: str
    subnet: str
    gateway: str
    guests: tuple[Guest, ...] = ()
    rules: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def guest_by_ip(self, private_ip: str) -> Guest | None:
        """The guest with this private address on this node, if any."""
        for guest in self.guests:
            if guest.private_ip == private_ip:
                return guest
        return None

    def __hash__(self) -> int:  # mappings are not hashable; views are compared, not hashed
        return hash((self.zone, self.node, self.guests))


def gateway_of(subnet: str) -> str:
    """The node's address on the zone's bridge: the subnet's first host (the CLC hands
    out addresses from the second host on)."""
    net = ipaddress.IPv4Network(subnet, strict=False)
    return str(net.network_address + 1)


def _rules(ingress: Iterable[Mapping[str, Any]]) -> tuple[Rule, ...]:
    out = []
    for r in ingress:
        out.append(Rule(str(r["proto"]), int(r["from"]), int(r["to"]),
                        tuple(sorted(r.get("cidrs", ()))),
                        tuple(sorted({g[1] for g in r.get("groups", ())}))))
    return tuple(out)


def compute_views(zone: str, subnet: str, nodes: Iterable[str], instances: Iterable[Any],
                  groups: Mapping[str, Any]) -> dict[str, NodeView]:
    """Each node's view of ``zone``.

    ``instances`` are CLC instance records (``id``, ``zone``, ``node``, ``state``,
    ``private_ip``, ``public_ip``, ``groups`` as ``[[id, name], ...]``); ``groups`` maps a
    group ID to its record (``ingress`` rules as the CLC stores them).
    """
    gateway = gateway_of(subnet)
    by_node: dict[str, list[Guest]] = {n: [] for n in nodes}
    members: dict[str, list[str]] = {}
    for inst in instances:
        if inst.zone != zone or inst.state not in ON_NETWORK or not inst.private_ip:
            continue
        gids = tuple(g[0] for g in inst.groups)
        for gid in gids:
            members.setdefault(gid, []).append(inst.private_ip)
        if inst.node not in by_node:
            continue
        by_node[inst.node].append(Guest(
            inst.id, inst.private_ip, mac_for_ip(inst.private_ip),
            "euca-" + inst.private_ip.replace(".", "-"), inst.public_ip, gids))
    views = {}
    for node, guests in by_node.items():
        guests.sort(key=lambda g: ipaddress.IPv4Address(g.private_ip))
        rules: dict[str, tuple[Rule, ...]] = {}
        for guest in guests:
            for gid in guest.groups:
                if gid not in rules:
                    record = groups.get(gid)
                    rules[gid] = _rules(record.ingress) if record is not None else ()
        sources = sorted({s for rs in rules.values() for r in rs for s in r.source_groups})
        views[node] = NodeView(
            zone, node, subnet, gateway, tuple(guests), dict(sorted(rules.items())),
            {gid: tuple(sorted(members.get(gid, ()), key=ipaddress.IPv4Address))
             for gid in sources})
    return views
