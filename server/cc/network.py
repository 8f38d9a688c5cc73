"""Security-group rules rendered for the hypervisor: libvirt nwfilter XML (what eucanetd
programs with iptables in EDGE mode, expressed as libvirt network filters).

Each group becomes a filter ``euca-<group id>``: accept what the group's ingress rules
allow (CIDRs, and the current member addresses of source groups), let replies and all
egress through, and drop the rest inbound.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

ACCEPT_PRIORITY = 500
DROP_PRIORITY = 1000


def filter_name(group_id: str) -> str:
    """The nwfilter name of a security group."""
    return f"euca-{group_id}"


def _match(proto: str, lo: int, hi: int, src: str, mask: int) -> str:
    attrs = f"srcipaddr={quoteattr(src)} srcipmask={quoteattr(str(mask))}"
    if proto in ("tcp", "udp"):
        return f"<{proto} {attrs} dstportstart='{lo}' dstportend='{hi}'/>"
    if proto == "icmp":
        extra = (f" type='{lo}'" if lo >= 0 else "") + (f" code='{hi}'" if hi >= 0 else "")
        return f"<icmp {attrs}{extra}/>"
    if proto == "-1":
        return f"<all {attrs}/>"
    return f"<all {attrs}/>"  # other IP protocols: nwfilter has no per-number element


def nwfilter_xml(group_id: str, rules: Sequence[Mapping[str, Any]],
                 members: Mapping[str, Sequence[str]]) -> str:
    """The nwfilter document for one group.

    ``rules`` are ingress rules as the CLC stores them (``proto``, ``from``, ``to``,
    ``cidrs``, ``groups`` as ``[account, group id, name]``); ``members`` maps a group ID
    to its instances' private addresses, which source-group rules expand to.
    """
    lines = [f"<filter name={quoteattr(filter_name(group_id))} chain='ipv4'>",
             "<rule action='accept' direction='inout' priority='100'>"
             "<all state='ESTABLISHED,RELATED'/></rule>",
             f"<rule action='accept' direction='out' priority='{ACCEPT_PRIORITY}'><all/></rule>"]
    for rule in rules:
        proto, lo, hi = str(rule["proto"]), int(rule["from"]), int(rule["to"])
        sources: list[tuple[str, int]] = []
        for cidr in rule["cidrs"]:
            net = ipaddress.IPv4Network(cidr, strict=False)
            sources.append((str(net.network_address), net.prefixlen))
        for _, source_group, _ in rule["groups"]:
            sources.extend((ip, 32) for ip in members.get(source_group, ()))
        for src, mask in sources:
            lines.append(f"<rule action='accept' direction='in' priority='{ACCEPT_PRIORITY}'>"
                         f"{_match(proto, lo, hi, src, mask)}</rule>")
    lines.append(f"<rule action='drop' direction='in' priority='{DROP_PRIORITY}'><all/></rule>")
    lines.append("</filter>")
    return "".join(lines)
