"""The DNS service (Eucalyptus' ``dns`` component): answers for the cloud's domain.

When ``[cloud] dns_port`` is set, the cloud runs Debian's dnsmasq on 127.0.0.1:PORT as
an authoritative-only server: it answers A (and PTR) queries for the balancers' DNS names
(each of the balancer's addresses), and the instances' private and public DNS names, from
a hosts file the cloud rewrites when they change (dnsmasq re-reads it on SIGHUP).  Every
other name is NXDOMAIN; nothing is forwarded anywhere (``--no-resolv``, ``--local=/#/``).
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
import shutil
import signal
import subprocess
from typing import TYPE_CHECKING, Any

from server.net.view import ON_NETWORK
from server.util import atomic_write

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

#: How often (cloud seconds) the names are compared with what dnsmasq has.
REFRESH_EVERY = 2.0


def records(cloud: Cloud) -> list[tuple[str, str]]:
    """``(address, name)`` of every name the service answers, sorted."""
    from server.clc.render import dns_name

    domain = str(cloud.config.cloud["dns_domain"])
    out: set[tuple[str, str]] = set()
    elb: Any = cloud.components.get("elb")
    if elb is not None:
        for lb in elb.balancers.values():
            for address in elb.addresses(lb):
                out.add((address, lb.dns_name))
        for users in elb.address_users:  # application / network balancers (elbv2)
            out.update(users())
    for inst in cloud.clc.instances.values():
        if inst.state not in ON_NETWORK:
            continue
        for ip in (inst.private_ip, inst.public_ip):
            if ip:
                out.add((ip, dns_name(ip, domain)))
    return sorted(out)


class DnsService:
    """Runs dnsmasq for the cloud's names and keeps its hosts file current."""

    def __init__(self, cloud: Cloud, port: int):
        self.cloud = cloud
        self.port = port
        self.dir = os.path.join(cloud.data_dir, "dns")
        self.hosts = os.path.join(self.dir, "hosts")
        self.proc: subprocess.Popen[bytes] | None = None
        self.binary = ""
        self._written: str | None = None
        self._timer: Any = None
        self._scheduled = False

    def start(self) -> None:
        """Write the names and start dnsmasq; keep the names current."""
        self.binary = shutil.which("dnsmasq") or ""
        if not self.binary:
            log.warning("the DNS service does not run: dnsmasq is not installed")
            return
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        # dnsmasq re-reads the file after dropping its privileges: it must be readable.
        os.chmod(self.dir, 0o755)
        self.refresh(signal_dnsmasq=False)
        self._spawn()
        self.cloud.clc.change_listeners.append(self._changed)
        self._timer = self.cloud.clock.call_later(REFRESH_EVERY, self._tick)

    def _spawn(self) -> None:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        log_file = os.open(os.path.join(self.dir, "dnsmasq.log"),
                           os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [self.binary, "--keep-in-foreground", "--port", str(self.port),
                 "--listen-address", "127.0.0.1", "--bind-interfaces", "--no-resolv",
                 "--no-hosts", "--no-poll", "--addn-hosts", self.hosts, "--local=/#/",
                 "--cache-size=0", f"--user={user}", f"--group={group}",
                 "--pid-file=", "--log-facility=-"],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                start_new_session=True)
        finally:
            os.close(log_file)
        atomic_write(os.path.join(self.dir, "dnsmasq.pid"), str(self.proc.pid).encode(),
                     mode=0o644)
        log.info("DNS service on 127.0.0.1:%d (dnsmasq %d)", self.port, self.proc.pid)

    def _changed(self, record: Any) -> None:
        if record.KIND in ("instance", "address") and not self._scheduled:
            self._scheduled = True
            self.cloud.clock.call_later(0.0, self.refresh)

    def _tick(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            # Killed, or the port was taken: say so (its log says why) and start again.
            log.error("dnsmasq exited with %s (see %s/dnsmasq.log): restarting",
                      self.proc.returncode, self.dir)
            self._spawn()
        try:
            self.refresh()
        except Exception:
            log.exception("DNS refresh failed")
        self._timer = self.cloud.clock.call_later(REFRESH_EVERY, self._tick)

    def refresh(self, signal_dnsmasq: bool = True) -> None:
        """Rewrite the hosts file if the names changed, and have dnsmasq re-read it."""
        self._scheduled = False
        text = "".join(f"{addr} {name}\n" for addr, name in records(self.cloud))
        if text == self._written:
            return
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        atomic_write(self.hosts, text.encode(), mode=0o644)
        self._written = text
        if signal_dnsmasq and self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        """Stop dnsmasq."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with contextlib.suppress(ValueError):
            self.cloud.clc.change_listeners.remove(self._changed)
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def setup(cloud: Cloud) -> None:
    """Run the DNS service with the cloud when ``dns_port`` is set."""
    port = int(cloud.config.cloud.get("dns_port", 0) or 0)
    if not port:
        return
    dns = DnsService(cloud, port)
    cloud.components["dns"] = dns
    cloud.start_hooks.append(dns.start)
    cloud.stop_hooks.append(dns.stop)
