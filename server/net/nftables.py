"""A node's network view rendered as nftables rulesets (what eucanetd wrote as iptables
rules and ipsets in EDGE mode).

Two tables per zone, each replaced whole in one ``nft -f`` transaction, so applying is
idempotent and the rules are always exactly the view's (established connections keep
their conntrack entries across a replacement):

``inet euca_<zone>``
    - ``set m_<group>``: the private addresses of a group's instances (zone-wide), for
      rules whose source is a group (eucanetd's ipsets);
    - ``chain sg_<group>``: the group's ingress rules, each an ``accept``;
    - ``chain g_<addr>``: one per guest on this node: its groups' chains, then ``drop``
      (default deny ingress; egress is not filtered, as in EC2-Classic);
    - ``forward`` / ``output`` (filter): replies and the node's DHCP answers pass,
      traffic to a guest goes to its chain (bridged traffic reaches these hooks through
      br_netfilter);
    - ``prerouting`` / ``output`` / ``postrouting`` (nat): 169.254.169.254:80 to the
      node's metadata proxy, and 1:1 NAT between public and private addresses.

``bridge euca_<zone>``
    A guest may only send from its own MAC and private address (source-group rules
    trust source addresses); DHCP's 0.0.0.0 is allowed.
"""

from __future__ import annotations

import re

from server.net.view import METADATA_ADDRESS, Guest, NodeView, Rule, tap_name


def table_name(zone: str) -> str:
    """The zone's table name (nftables identifiers: letters, digits, underscores)."""
    return "euca_" + re.sub(r"[^A-Za-z0-9_]", "_", zone)


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _chain(gid: str) -> str:
    """A group's chain: its ID as an identifier (``sg-1a2b`` -> ``sg_1a2b``)."""
    name = _ident(gid)
    return name if name.startswith("sg_") else "sg_" + name


def _hex(ip: str) -> str:
    return tap_name(ip)[2:]


def _match(rule: Rule) -> str:
    """The protocol and port (or ICMP type/code) part of a rule."""
    if rule.proto in ("tcp", "udp"):
        ports = str(rule.lo) if rule.lo == rule.hi else f"{rule.lo}-{rule.hi}"
        return f"meta l4proto {rule.proto} th dport {ports}"
    if rule.proto == "icmp":
        out = "meta l4proto icmp"
        if rule.lo >= 0:
            out += f" icmp type {rule.lo}"
            if rule.hi >= 0:
                out += f" icmp code {rule.hi}"
        return out
    if rule.proto in ("-1", "all"):
        return ""
    return f"meta l4proto {int(rule.proto)}"


def rule_lines(rule: Rule) -> list[str]:
    """The nft statements of one ingress rule (one per source)."""
    what = _match(rule)
    sources = []
    for cidr in rule.cidrs:
        sources.append("" if cidr == "0.0.0.0/0" else f"ip saddr {cidr}")
    for gid in rule.source_groups:
        sources.append(f"ip saddr @m_{_ident(gid)}")
    return [" ".join(p for p in (src, what, "accept") if p) for src in sources]


def _elements(items: list[str]) -> str:
    return "{ " + ", ".join(items) + " }"


def render_inet(view: NodeView, metadata_port: int) -> str:
    """The ``inet`` table's body for a view (see the module docstring)."""
    out: list[str] = []
    for gid, ips in view.members.items():
        out.append(f"  set m_{_ident(gid)} {{ type ipv4_addr;"
                   + (f" elements = {_elements(list(ips))};" if ips else "") + " }")
    for gid, rules in view.rules.items():
        out.append(f"  chain {_chain(gid)} {{")
        for rule in rules:
            out.extend(f"    {line}" for line in rule_lines(rule))
        out.append("  }")
    for guest in view.guests:
        out.append(f"  chain g_{_hex(guest.private_ip)} {{")
        out.extend(f"    jump {_chain(gid)}" for gid in guest.groups if gid in view.rules)
        out.append("    drop")
        out.append("  }")
    dispatch = ""
    if view.guests:
        dispatch = "    ip daddr vmap " + _elements(
            [f"{g.private_ip} : jump g_{_hex(g.private_ip)}" for g in view.guests]) + "\n"
    for hook in ("forward", "output"):
        # The node's own DHCP answers (an offer goes to an address not yet in use, so no
        # connection is established for it) pass before the guests' default deny.
        dhcp = "    udp sport 67 udp dport 68 accept\n" if hook == "output" else ""
        out.append(f"  chain filter_{hook} {{\n    type filter hook {hook} priority filter; "
                   "policy accept;\n    ct state established,related accept\n"
                   f"{dhcp}{dispatch}  }}")
    nat: list[Guest] = [g for g in view.guests if g.public_ip]
    dnat = ("    dnat ip to ip daddr map "
            + _elements([f"{g.public_ip} : {g.private_ip}" for g in nat]) + "\n") if nat else ""
    out.append("  chain nat_prerouting {\n    type nat hook prerouting priority dstnat; "
               "policy accept;\n"
               f"    ip daddr {METADATA_ADDRESS} tcp dport 80 dnat ip to "
               f"{view.gateway}:{metadata_port}\n{dnat}  }}")
    out.append("  chain nat_output {\n    type nat hook output priority -100; policy accept;\n"
               f"{dnat}  }}")
    snat = ""
    if nat:
        snat = (f"    ip daddr != {view.subnet} snat ip to ip saddr map "
                + _elements([f"{g.private_ip} : {g.public_ip}" for g in nat]) + "\n")
    out.append("  chain nat_postrouting {\n    type nat hook postrouting priority srcnat; "
               f"policy accept;\n{snat}  }}")
    return "\n".join(out)


def render_bridge(view: NodeView) -> str:
    """The ``bridge`` table's body: each guest's port only sends from its MAC and address."""
    lines = []
    for g in view.guests:
        port = tap_name(g.private_ip)
        lines.append(f'    iifname "{port}" ether saddr != {g.mac} drop')
        lines.append(f'    iifname "{port}" ether type ip ip saddr != '
                     f"{{ 0.0.0.0, {g.private_ip} }} drop")
    return ("  chain antispoof {\n    type filter hook prerouting priority -200; "
            "policy accept;\n" + "".join(line + "\n" for line in lines) + "  }")


def ruleset(view: NodeView, metadata_port: int) -> str:
    """The ``nft -f`` script that replaces the zone's tables with the view's, atomically."""
    name = table_name(view.zone)
    return (f"table inet {name}\ndelete table inet {name}\n"
            f"table inet {name} {{\n{render_inet(view, metadata_port)}\n}}\n"
            f"table bridge {name}\ndelete table bridge {name}\n"
            f"table bridge {name} {{\n{render_bridge(view)}\n}}\n")


def removal(zone: str) -> str:
    """The ``nft -f`` script that removes the zone's tables (if they exist)."""
    name = table_name(zone)
    return (f"table inet {name}\ndelete table inet {name}\n"
            f"table bridge {name}\ndelete table bridge {name}\n")
