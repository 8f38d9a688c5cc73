"""SSL negotiation: the predefined ``ELBSecurityPolicy-*`` policies of classic ELB and how a
policy of type SSLNegotiationPolicyType becomes HAProxy's TLS settings.

A policy is a list of boolean attributes: protocols (``Protocol-TLSv1.2``), ciphers by
their OpenSSL names (``ECDHE-RSA-AES128-GCM-SHA256``) and ``Server-Defined-Cipher-Order``.
The predefined policies' contents are AWS's (the "Predefined SSL security policies for
Classic Load Balancers" table); classic ELB negotiates at most TLS 1.2.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.elb.model import Policy

#: Protocol attributes (in AWS's order) and HAProxy's names of the versions.
PROTOCOLS: dict[str, str] = {"Protocol-SSLv3": "SSLv3", "Protocol-TLSv1": "TLSv1.0",
                             "Protocol-TLSv1.1": "TLSv1.1", "Protocol-TLSv1.2": "TLSv1.2"}
SERVER_ORDER = "Server-Defined-Cipher-Order"
REFERENCE = "Reference-Security-Policy"

#: The ciphers a policy may name, in the order AWS lists them (the server's preference).
CIPHERS: tuple[str, ...] = (
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES256-SHA",
    "AES128-GCM-SHA256", "AES128-SHA256", "AES128-SHA",
    "AES256-GCM-SHA384", "AES256-SHA256", "AES256-SHA",
    "DES-CBC3-SHA",
)

_MODERN = CIPHERS[:18]
#: TLS 1.2's own ciphers (SHA-256/384 MACs and GCM), without the SHA-1 ones.
_TLS12_ONLY = tuple(c for c in _MODERN if not c.endswith("-SHA"))

#: name -> (protocols, ciphers); all of them use the server's cipher order.
PREDEFINED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ELBSecurityPolicy-2016-08": (("Protocol-TLSv1", "Protocol-TLSv1.1", "Protocol-TLSv1.2"),
                                  _MODERN),
    "ELBSecurityPolicy-TLS-1-2-2017-01": (("Protocol-TLSv1.2",), _TLS12_ONLY),
    "ELBSecurityPolicy-TLS-1-1-2017-01": (("Protocol-TLSv1.1", "Protocol-TLSv1.2"), _MODERN),
    "ELBSecurityPolicy-2015-05": (("Protocol-TLSv1", "Protocol-TLSv1.1", "Protocol-TLSv1.2"),
                                  CIPHERS),
}
#: What a listener without an SSL negotiation policy negotiates (AWS's default).
DEFAULT_POLICY = "ELBSecurityPolicy-2016-08"


def _attributes(protocols: tuple[str, ...], ciphers: tuple[str, ...]) -> list[list[str]]:
    out = [[p, str(p in protocols).lower()] for p in PROTOCOLS]
    out.append([SERVER_ORDER, "true"])
    out += [[c, str(c in ciphers).lower()] for c in CIPHERS]
    return out


#: The predefined policies as DescribeLoadBalancerPolicies lists them.
PREDEFINED_POLICIES = [Policy(name, "SSLNegotiationPolicyType", _attributes(*spec))
                       for name, spec in PREDEFINED.items()]


def predefined(name: str) -> Policy | None:
    """A predefined policy by name."""
    return next((p for p in PREDEFINED_POLICIES if p.name == name), None)


#: The protocols a listener can negotiate here (SSLv3 is not in Debian's OpenSSL).
TLS_PROTOCOLS = tuple(p for p in PROTOCOLS if p != "Protocol-SSLv3")


@dataclass(frozen=True)
class Negotiation:
    """What HAProxy is told for one listener."""

    tls_min: str
    tls_max: str
    ciphers: str
    prefer_client_ciphers: bool


def negotiation(policy: Policy | None) -> Negotiation:
    """HAProxy's settings for an SSL negotiation policy (None: the default policy)."""
    pol = policy or predefined(DEFAULT_POLICY)
    assert pol is not None
    enabled = {k for k, v in pol.attributes if v.lower() == "true"}
    # SSLv3 is not in Debian's OpenSSL: a policy enabling it negotiates its TLS versions.
    versions = [v for k, v in PROTOCOLS.items() if k in enabled and v != "SSLv3"]
    order = [v for v in PROTOCOLS.values() if v != "SSLv3"]
    hi = versions[-1] if versions else "TLSv1.2"
    # A range is what OpenSSL (and HAProxy's ssl-min-ver/ssl-max-ver) can negotiate: with
    # a gap (TLSv1 and TLSv1.2 without TLSv1.1) the versions below it are left out, so a
    # version the policy excludes is never negotiated.
    lo = hi
    while order.index(lo) > 0 and order[order.index(lo) - 1] in versions:
        lo = order[order.index(lo) - 1]
    # A policy recorded without ciphers (none can be created now) keeps the default's.
    ciphers = ":".join(c for c in CIPHERS if c in enabled) or \
        ":".join(PREDEFINED[DEFAULT_POLICY][1])
    if lo in ("TLSv1.0", "TLSv1.1"):
        # OpenSSL 3 refuses versions before TLS 1.2 above security level 0: the policy,
        # not the library's default, decides what is negotiated.
        ciphers += ":@SECLEVEL=0"
    prefer_client = any(k == SERVER_ORDER and v.lower() == "false"
                         for k, v in pol.attributes)
    return Negotiation(lo, hi, ciphers, prefer_client)
