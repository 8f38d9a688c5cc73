"""Balancers' security groups as nftables rules in the balancers' network namespace.

One table (``ip euca_elb_<id>``) holds every balancer of the plane and is replaced whole in
one ``nft -f`` transaction, so the rules are always exactly the balancers' current
ingress.  On its ``input`` hook: replies and established connections pass (a revoked rule
does not cut what it already admitted, as with EC2 groups), then, per balancer address and
listener port, the admitted sources are accepted and everything else dropped.  Traffic
to other addresses and ports is not this table's business (the policy accepts).

Only used inside a namespace: a balancer on the host's loopback is filtered by HAProxy's
own ACLs instead (the host's firewall is left alone).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

from server.ports.loadbalancer import BalancerSpec

ANYWHERE = "0.0.0.0/0"


def table_name(ident: str) -> str:
    """The plane's table (letters, digits and underscores)."""
    return "euca_elb_" + "".join(c if c.isalnum() else "_" for c in ident)


def render(table: str, specs: Iterable[BalancerSpec]) -> str:
    """The ``nft -f`` script replacing the table with the balancers' rules."""
    rules: list[str] = []
    for spec in sorted(specs, key=lambda s: s.key):
        if spec.ingress is None:
            continue
        for ing in spec.ingress:
            if ANYWHERE in ing.sources:
                continue
            match = f"ip daddr {spec.address} tcp dport {ing.port}"
            if ing.sources:
                rules.append(f"{match} ip saddr {{ {', '.join(ing.sources)} }} accept")
            rules.append(f"{match} drop")
    body = "\n".join(f"        {r}" for r in rules)
    return (f"table ip {table}\n"
            f"delete table ip {table}\n"
            f"table ip {table} {{\n"
            "    chain input {\n"
            "        type filter hook input priority 0; policy accept;\n"
            "        ct state established,related accept\n"
            f"{body}\n"
            "    }\n"
            "}\n")


def removal(table: str) -> str:
    """The ``nft -f`` script deleting the table (whether or not it exists)."""
    return f"table ip {table}\ndelete table ip {table}\n"


def apply(netns: str, script: str) -> None:
    """Run an ``nft -f`` script in the namespace; RuntimeError with nft's words if refused."""
    res = subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", "-"],
                         input=script.encode(), capture_output=True, timeout=30)
    if res.returncode != 0:
        raise RuntimeError(f"nft refuses the balancers' rules: "
                           f"{res.stderr.decode(errors='replace').strip()[:500]}")
