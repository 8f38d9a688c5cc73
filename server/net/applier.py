"""The one interface through which a node's network is programmed, and its recording
implementation (the virtual hypervisor and the simulator use it).

An applier takes the node's whole :class:`~server.net.view.NodeView` each time: applying
is idempotent (the same view again changes nothing) and convergent (whatever the node
had before, afterwards it has exactly the view's rules, leases and ports).
"""

from __future__ import annotations

from typing import Protocol

from server.net.nftables import ruleset
from server.net.view import NodeView


class NetworkApplier(Protocol):
    """Applies a zone's network view to one node."""

    def apply(self, view: NodeView) -> None:
        """Make the node's data plane exactly what ``view`` says (blocking; idempotent)."""

    def close(self) -> None:
        """Stop the node-side helpers this applier runs (the data plane stays)."""


class RecordingApplier:
    """Keeps the views it is given, and what the real applier would program for them."""

    def __init__(self, node: str, metadata_port: int = 8775):
        self.node = node
        self.metadata_port = metadata_port
        #: Every view applied, oldest first.
        self.views: list[NodeView] = []

    @property
    def current(self) -> NodeView | None:
        """The last view applied."""
        return self.views[-1] if self.views else None

    def apply(self, view: NodeView) -> None:
        """Record the view."""
        self.views.append(view)

    def ruleset(self) -> str:
        """The nftables script for the current view ("" before any)."""
        view = self.current
        return ruleset(view, self.metadata_port) if view is not None else ""

    def dhcp_hosts(self) -> list[str]:
        """The DHCP host list for the current view (dnsmasq's dhcp-hostsfile lines)."""
        view = self.current
        return dhcp_hosts(view) if view is not None else []

    def close(self) -> None:
        """Nothing runs."""


def dhcp_hosts(view: NodeView) -> list[str]:
    """dnsmasq ``dhcp-hostsfile`` lines: each guest's MAC, address and host name, leased
    for ever (the address is the instance's for its life)."""
    return [f"{g.mac},{g.private_ip},{g.hostname},infinite" for g in view.guests]
