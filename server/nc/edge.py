"""EDGE networking on a libvirt node: the real :class:`~server.net.applier.NetworkApplier`
and the guest NIC the libvirt driver plugs.

On each node, for a zone with ``network = "edge"``:

- a Linux bridge (``network_bridge``) holding the node's gateway address (the subnet's
  first host), in the zone's ``network_namespace`` when one is set (tests), else in the
  node's own;
- one tap per guest, ``vn<private address in hex>``, given to QEMU as a virtio NIC with
  Eucalyptus' MAC (``d0:0d:`` + the address in hex).  libvirtd opens a pre-made tap in its
  own namespace (``<interface type='ethernet'>``, ``managed='no'``); when the zone has a
  namespace, the NIC moves the tap into it once QEMU holds it, and back out before a
  reboot;
- dnsmasq (DHCP only, no DNS) with a static host list: each guest gets its address,
  host name and the gateway as router, leased for ever;
- nftables tables rendered by :mod:`server.net.nftables` (security groups, 1:1 NAT,
  169.254.169.254 to the metadata proxy, anti-spoofing), replaced whole on each apply;
- associated public addresses as /32s on ``network_public_interface`` (so the node
  answers for them, as eucanetd does), if one is named;
- the metadata proxy (:mod:`server.nc.metaproxy`) on the gateway address.

``apply`` converges: ports, leases, rules and public addresses that the view does not
name are removed; the same view twice changes nothing.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import signal
import subprocess
import threading
import time
from typing import Any

from server.nc.metaproxy import MetadataProxy
from server.nc.netns import CommandError, ip, listen_in, run
from server.net.applier import dhcp_hosts
from server.net.nftables import removal, ruleset
from server.net.view import NodeView, mac_for_ip, tap_name
from server.util import atomic_write

log = logging.getLogger(__name__)

TAP_PREFIX = "vn"


class EdgeSettings:
    """A zone's networking settings (its ``[[zones]]`` keys)."""

    def __init__(self, zone: dict[str, Any]):
        self.zone = str(zone.get("name", "zone"))
        self.netns = str(zone.get("network_namespace", "") or "")
        self.bridge = str(zone.get("network_bridge", "") or "eucabr0")
        self.public_interface = str(zone.get("network_public_interface", "") or "")
        self.metadata_port = int(zone.get("network_metadata_port", 8775) or 8775)
        self.subnet = str(ipaddress.IPv4Network(str(zone.get("private_subnet") or "10.1.0.0/16"),
                                                strict=False))
        self.pool = [str(a) for a in _expand(zone.get("public_ips") or [])]


def _expand(items: list[str]) -> list[ipaddress.IPv4Address]:
    out: list[ipaddress.IPv4Address] = []
    for item in items:
        first, _, last = str(item).partition("-")
        a = ipaddress.IPv4Address(first.strip())
        b = ipaddress.IPv4Address(last.strip()) if last else a
        out.extend(ipaddress.IPv4Address(n) for n in range(int(a), int(b) + 1))
    return out


def edge_enabled(zone: dict[str, Any]) -> bool:
    """Whether a zone has guest networking on."""
    return str(zone.get("network", "") or "").lower() == "edge"


def _links(netns: str) -> dict[str, dict[str, Any]]:
    """Interfaces in a namespace, by name (``ip -j link``)."""
    out = ip(["-j", "link", "show"], netns)
    return {link["ifname"]: link for link in json.loads(out or "[]")}


class GuestNic:
    """The libvirt driver's side: a guest's tap, before and after QEMU holds it."""

    def __init__(self, settings: EdgeSettings):
        self.settings = settings

    def interface_xml(self, private_ip: str) -> str:
        """The ``<interface>`` element for a guest (a pre-made tap, virtio, Euca MAC)."""
        return (f"<interface type='ethernet'><mac address='{mac_for_ip(private_ip)}'/>"
                f"<target dev='{tap_name(private_ip)}' managed='no'/>"
                "<model type='virtio'/></interface>")

    def prepare(self, private_ip: str) -> None:
        """Have the guest's tap in libvirtd's namespace (this process's), ready for QEMU."""
        tap = tap_name(private_ip)
        ns = self.settings.netns
        if ns and tap in _links(ns):  # a reboot: QEMU opens it again out here
            ip(["link", "set", "dev", tap, "netns", str(os.getpid())], ns)
        if tap not in _links(""):
            ip(["tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr"])

    def plug(self, private_ip: str) -> None:
        """Move the tap (now held by QEMU) into the zone's namespace, onto the bridge."""
        tap = tap_name(private_ip)
        ns = self.settings.netns
        if ns and tap in _links(""):
            ip(["link", "set", "dev", tap, "netns", ns])
        links = _links(ns)
        if self.settings.bridge in links and tap in links:
            ip(["link", "set", "dev", tap, "master", self.settings.bridge, "up"], ns)

    def unplug(self, private_ip: str) -> None:
        """Delete the guest's tap wherever it is."""
        tap = tap_name(private_ip)
        for ns in {self.settings.netns, ""}:
            if tap in _links(ns):
                ip(["link", "del", "dev", tap], ns, check=False)


class EdgeApplier:
    """Programs one node's EDGE data plane from its view (see the module docstring)."""

    def __init__(self, node: str, zone: dict[str, Any], state_dir: str, cloud_url: str,
                 secret: str):
        self.node = node
        self.settings = EdgeSettings(zone)
        self.state_dir = state_dir
        os.makedirs(state_dir, exist_ok=True)
        self.cloud_url = cloud_url
        self.secret = secret
        self._lock = threading.Lock()
        self._view: NodeView | None = None
        self._dnsmasq: subprocess.Popen[bytes] | None = None
        self._proxy: MetadataProxy | None = None
        self._hosts_applied: list[str] | None = None

    # -- the interface ---------------------------------------------------------------
    def apply(self, view: NodeView) -> None:
        """Make bridge, taps, leases, rules, public addresses and proxy match ``view``."""
        with self._lock:
            self._view = view
            self._bridge(view)
            self._ports(view)
            self._dhcp(view)
            rules = ruleset(view, self.settings.metadata_port)
            run(["nft", "-f", "-"], self.settings.netns, stdin=rules)
            self._public_addresses(view)
            self._metadata_proxy(view)
            # What was programmed last, for the operator (and a sign that it is done).
            atomic_write(os.path.join(self.state_dir, "applied.nft"), rules.encode())

    def close(self) -> None:
        """Stop dnsmasq and the proxy; bridge, taps and rules stay for the running guests
        (a restarted cloud applies its view over them)."""
        with self._lock:
            self._stop_dnsmasq()
            if self._proxy is not None:
                self._proxy.close()
                self._proxy = None

    def remove(self) -> None:
        """Remove everything this zone put on the node (no guests may be left)."""
        self.close()
        ns = self.settings.netns
        run(["nft", "-f", "-"], ns, stdin=removal(self.settings.zone), check=False)
        for name in _links(ns):
            if name.startswith(TAP_PREFIX) or name == self.settings.bridge:
                ip(["link", "del", "dev", name], ns, check=False)
        for fname in ("leases", "dnsmasq.log", "applied.nft"):
            try:
                os.unlink(os.path.join(self.state_dir, fname))
            except FileNotFoundError:
                pass

    # -- the parts ---------------------------------------------------------------------
    def _bridge(self, view: NodeView) -> None:
        ns, bridge = self.settings.netns, self.settings.bridge
        links = _links(ns)
        if bridge not in links:
            ip(["link", "add", bridge, "type", "bridge"], ns)
        prefix = ipaddress.IPv4Network(view.subnet).prefixlen
        have = ip(["-4", "-o", "addr", "show", "dev", bridge], ns)
        if f" {view.gateway}/{prefix} " not in have:
            ip(["addr", "replace", f"{view.gateway}/{prefix}", "dev", bridge], ns)
        ip(["link", "set", "dev", bridge, "up"], ns)
        # Bridged IPv4 must pass the inet hooks, where the security groups are.
        run(["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"], ns, check=False)

    def _ports(self, view: NodeView) -> None:
        ns, bridge = self.settings.netns, self.settings.bridge
        wanted = {tap_name(g.private_ip) for g in view.guests}
        for name, link in _links(ns).items():
            if not name.startswith(TAP_PREFIX):
                continue
            if name not in wanted:
                # In a shared namespace (the host's) a port not on this zone's bridge
                # may be another zone's guest, or one that is still starting.
                if ns or link.get("master") == bridge:
                    ip(["link", "del", "dev", name], ns, check=False)
            elif link.get("master") != bridge or "UP" not in link.get("flags", []):
                ip(["link", "set", "dev", name, "master", bridge, "up"], ns)

    def _dhcp(self, view: NodeView) -> None:
        hosts = dhcp_hosts(view)
        running = self._dnsmasq is not None and self._dnsmasq.poll() is None
        if running and hosts == self._hosts_applied:
            return
        # Restarted rather than re-read: dnsmasq keeps the leases of removed hosts, and a
        # terminated guest's lease must go.  Guests keep their (infinite) leases meanwhile.
        self._stop_dnsmasq()
        leases_path = os.path.join(self.state_dir, "leases")
        macs = {g.mac for g in view.guests}
        kept = []
        if os.path.exists(leases_path):
            with open(leases_path) as fh:
                kept = [line for line in fh if len(line.split()) > 1 and line.split()[1] in macs]
        with open(leases_path, "w") as fh:
            fh.writelines(kept)
        if not hosts:
            self._hosts_applied = hosts
            return
        net = ipaddress.IPv4Network(view.subnet)
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                f"--interface={self.settings.bridge}", "--bind-interfaces",
                "--except-interface=lo",
                f"--dhcp-range={net.network_address},static,{net.netmask},infinite",
                f"--dhcp-leasefile={leases_path}", f"--dhcp-option=option:router,{view.gateway}",
                f"--pid-file={os.path.join(self.state_dir, 'dnsmasq.pid')}",
                "--log-facility=-",
                # On the command line, not in a hosts file: dnsmasq reads files after it
                # drops root, and the cloud's data directory is private to root.
                *(f"--dhcp-host={h}" for h in hosts)]
        if self.settings.netns:
            argv = ["ip", "netns", "exec", self.settings.netns, *argv]
        with open(os.path.join(self.state_dir, "dnsmasq.log"), "ab") as log_file:
            self._dnsmasq = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=log_file)
        self._hosts_applied = hosts

    def _stop_dnsmasq(self) -> None:
        if self._dnsmasq is not None:
            self._dnsmasq.terminate()
            try:
                self._dnsmasq.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._dnsmasq.kill()
                self._dnsmasq.wait()
            self._dnsmasq = None
            return
        # One left by a cloud that did not stop cleanly: its pid file names it.
        pid_path = os.path.join(self.state_dir, "dnsmasq.pid")
        try:
            with open(pid_path) as fh:
                pid = int(fh.read().strip() or 0)
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                mine = self.state_dir.encode() in fh.read()
        except (OSError, ValueError):
            return
        if mine:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.1)

    def _public_addresses(self, view: NodeView) -> None:
        dev = self.settings.public_interface
        if not dev:
            return
        ns = self.settings.netns
        wanted = {g.public_ip for g in view.guests if g.public_ip}
        pool = set(self.settings.pool) | wanted
        have = set()
        for line in ip(["-4", "-o", "addr", "show", "dev", dev], ns).splitlines():
            parts = line.split()
            if "inet" in parts:
                addr = parts[parts.index("inet") + 1]
                if addr.endswith("/32"):
                    have.add(addr[:-3])
        for addr in sorted((have & pool) - wanted):
            ip(["addr", "del", f"{addr}/32", "dev", dev], ns, check=False)
        for addr in sorted(wanted - have):
            ip(["addr", "add", f"{addr}/32", "dev", dev], ns)

    def _metadata_proxy(self, view: NodeView) -> None:
        if self._proxy is not None:
            return
        try:
            sock = listen_in(self.settings.netns, view.gateway, self.settings.metadata_port)
        except OSError as exc:
            raise CommandError(f"metadata proxy cannot listen on {view.gateway}:"
                               f"{self.settings.metadata_port}: {exc}") from exc
        self._proxy = MetadataProxy(sock, self.cloud_url, self.secret, self._resolve)

    def _resolve(self, address: str) -> str | None:
        view = self._view
        guest = view.guest_by_ip(address) if view is not None else None
        return guest.instance_id if guest is not None else None
