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
#: HAProxy's option turning one version off (for a hole between the lowest and highest).
_NO_VERSION = {"SSLv3": "no-sslv3", "TLSv1.0": "no-tlsv10", "TLSv1.1": "no-tlsv11",
               "TLSv1.2": "no-tlsv12"}
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


def known_attribute(name: str) -> bool:
    """True for an attribute an SSLNegotiationPolicyType policy may carry."""
    return name in PROTOCOLS or name in CIPHERS or name in (SERVER_ORDER, REFERENCE)


@dataclass(frozen=True)
class Negotiation:
    """What HAProxy is told for one listener."""

    tls_min: str
    tls_max: str
    disabled: tuple[str, ...]
    ciphers: str
    prefer_client_ciphers: bool


def negotiation(policy: Policy | None) -> Negotiation:
    """HAProxy's settings for an SSL negotiation policy (None: the default policy)."""
    pol = policy or predefined(DEFAULT_POLICY)
    assert pol is not None
    enabled = {k for k, v in pol.attributes if v.lower() == "true"}
    versions = [v for k, v in PROTOCOLS.items() if k in enabled]
    order = list(PROTOCOLS.values())
    lo, hi = (versions[0], versions[-1]) if versions else ("TLSv1.2", "TLSv1.2")
    holes = tuple(_NO_VERSION[v] for v in order[order.index(lo):order.index(hi) + 1]
                  if v not in versions)
    ciphers = ":".join(c for c in CIPHERS if c in enabled)
    if lo in ("SSLv3", "TLSv1.0", "TLSv1.1"):
        # OpenSSL 3 refuses versions before TLS 1.2 above security level 0: the policy,
        # not the library's default, decides what is negotiated.
        ciphers += ":@SECLEVEL=0"
    prefer_client = any(k == SERVER_ORDER and v.lower() == "false"
                         for k, v in pol.attributes)
    return Negotiation(lo, hi, holes, ciphers, prefer_client)
