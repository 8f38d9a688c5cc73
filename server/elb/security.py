"""Who may reach a balancer's listeners: its security groups' ingress rules, resolved to
source addresses per listener port for the data plane.

A rule admits a listener port when its protocol is TCP (or all protocols) and its port
range holds the port; its sources are its CIDRs and, for a source group, the private and
public addresses of that group's instances on the network.  A balancer without groups
gets ELB's default group: every listener port open to 0.0.0.0/0.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from server.elb.model import LoadBalancer
from server.net.view import ON_NETWORK
from server.ports.loadbalancer import Ingress

#: Rule protocols that carry TCP.
_TCP = ("tcp", "6", "-1", "all")
ANYWHERE = "0.0.0.0/0"


def _admits(rule: dict[str, Any], port: int) -> bool:
    proto = str(rule.get("proto", "")).lower()
    if proto not in _TCP:
        return False
    lo, hi = int(rule.get("from", -1)), int(rule.get("to", -1))
    return proto in ("-1", "all") or lo == -1 or lo <= port <= hi


def group_members(clc: Any) -> dict[str, list[str]]:
    """Group ID -> the addresses (private and public) of its instances on the network."""
    out: dict[str, list[str]] = {}
    for inst in clc.instances.values():
        if inst.state not in ON_NETWORK:
            continue
        for gid, *_ in inst.groups:
            out.setdefault(gid, []).extend(a for a in (inst.private_ip, inst.public_ip) if a)
    return out


def collapse(sources: set[str]) -> tuple[str, ...]:
    """Sources as the fewest non-overlapping CIDRs, sorted (0.0.0.0/0 alone when any)."""
    nets = [ipaddress.IPv4Network(s, strict=False) for s in sources]
    return tuple(str(n) for n in ipaddress.collapse_addresses(nets))


def ingress(clc: Any, lb: LoadBalancer) -> tuple[Ingress, ...]:
    """Per listener port, the sources the balancer's security groups admit."""
    return admitted(clc, lb.security_groups, [li.port for li in lb.listeners])


def admitted(clc: Any, security_groups: Sequence[str],
             ports: Sequence[int]) -> tuple[Ingress, ...]:
    """Per port, the sources ``security_groups`` admit (anyone when there are none):
    classic balancers and application balancers alike."""
    if not security_groups:
        return tuple(Ingress(p, (ANYWHERE,)) for p in ports)
    rules = [r for gid in security_groups if (g := clc.groups.get(gid)) is not None
             for r in g.ingress]
    members = group_members(clc) if any(r.get("groups") for r in rules) else {}
    out = []
    for port in ports:
        sources: set[str] = set()
        for rule in rules:
            if not _admits(rule, port):
                continue
            sources.update(rule.get("cidrs") or ())
            for src in rule.get("groups") or ():
                sources.update(f"{a}/32" for a in members.get(src[1], ()))
        out.append(Ingress(port, collapse(sources)))
    return tuple(out)
