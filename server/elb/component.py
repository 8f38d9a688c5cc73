"""The ELB component: balancer records, their data plane, health, and the ports other
components use (Auto Scaling registers its members through :class:`GroupMembers`).

Each balancer listens on an address of its own, taken from a loopback subnet
(``elb_subnet``; by default a 127.N.0.0/16 chosen from the data directory), so two
balancers both serve port 80.  Its DNS name resolves to that address in the cloud's
hosts view, ``DATA_DIR/elb/hosts``.

Instance health: where the data plane reaches the instances (a libvirt zone with
networking, or balancers run in a network namespace, ``elb_netns``) it is HAProxy's
health check; on virtual-hypervisor zones without a namespace it is the instances'
modelled state (running = InService).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server.elb.haproxy import HAProxyPlane
from server.elb.model import LoadBalancer
from server.elb.security import ingress
from server.elb.ssl_policies import negotiation
from server.elb.store import BalancerStore
from server.ports.loadbalancer import (
    Backend,
    BalancerSpec,
    Frontend,
    LoadBalancerPort,
)
from server.util import atomic_write

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

#: How often (cloud seconds) balancers are brought in line with their instances.
SYNC_EVERY = 2.0
#: Hosted zone of the balancers' DNS names (AWS's is per region).
HOSTED_ZONE_ID = "Z2EUCALYPTUSELB"

IN_SERVICE = ("InService", "N/A", "N/A")


class ELB:
    """Every account's balancers and the data plane that runs them."""

    def __init__(self, cloud: Cloud, plane: LoadBalancerPort | None = None):
        self.cloud = cloud
        cfg = cloud.config.cloud
        self.netns = str(cfg.get("elb_netns", ""))
        self.plane: LoadBalancerPort = plane or HAProxyPlane(
            cloud.data_dir, self.netns, str(cfg.get("elb_haproxy", "haproxy")))
        self.store = BalancerStore(cloud.engine)
        self.balancers: dict[tuple[str, str], LoadBalancer] = {
            (lb.account_id, lb.name): lb for lb in self.store.load()}
        subnet = str(cfg.get("elb_subnet", "")) or \
            f"127.{64 + int(hashlib.sha256(cloud.data_dir.encode()).hexdigest(), 16) % 64}" \
            ".0.0/16"
        self.subnet = ipaddress.IPv4Network(subnet, strict=False)
        self._applied: dict[str, BalancerSpec] = {}
        #: Instances being drained: key -> {instance id: deadline (cloud clock)}.
        self.draining: dict[str, dict[str, float]] = {}
        self._timer: Any = None
        self._running = False
        self._resync_scheduled = False
        #: Other balancers drawing on the same address pool and hosts view (elbv2's):
        #: each callable lists their (address, DNS name) pairs.
        self.address_users: list[Callable[[], list[tuple[str, str]]]] = []

    # -- records --------------------------------------------------------------------------
    @staticmethod
    def key(lb: LoadBalancer) -> str:
        """The data plane's identity of a balancer."""
        return f"{lb.account_id}-{lb.name}"

    def owned(self, account_id: str) -> list[LoadBalancer]:
        """An account's balancers by name."""
        return sorted((lb for (a, _), lb in self.balancers.items() if a == account_id),
                      key=lambda lb: lb.name)

    def allocate_address(self) -> str:
        """The lowest free address of the subnet."""
        used = {lb.address for lb in self.balancers.values()}
        used.update(address for users in self.address_users for address, _ in users())
        for host in self.subnet.hosts():
            if str(host) not in used:
                return str(host)
        raise RuntimeError("the balancer address pool is exhausted")

    def dns_name(self, account_id: str, name: str) -> str:
        """``NAME-NNNNNNNNNN.REGION.elb.DOMAIN`` (AWS's shape)."""
        digits = int(hashlib.sha256(f"{account_id}/{name}".encode()).hexdigest(), 16) % 10**10
        cfg = self.cloud.config.cloud
        return f"{name}-{digits:010d}.{cfg['region']}.elb.{cfg['dns_domain']}".lower()

    def save(self, lb: LoadBalancer) -> None:
        """Write the record and bring its data plane in line."""
        self.balancers[(lb.account_id, lb.name)] = lb
        self.store.save(lb)
        self.sync(lb)
        self._write_hosts()

    def delete(self, lb: LoadBalancer) -> None:
        """Forget a balancer and stop its HAProxy."""
        self.balancers.pop((lb.account_id, lb.name), None)
        self.store.delete(lb)
        key = self.key(lb)
        self._applied.pop(key, None)
        self.draining.pop(key, None)
        self.plane.remove(key)
        self._write_hosts()

    @staticmethod
    def addresses(lb: LoadBalancer) -> list[str]:
        """The addresses the balancer's DNS name resolves to."""
        return [lb.address]
    def refresh_hosts(self) -> None:
        """Rewrite the hosts view (another kind of balancer came or went)."""
        self._write_hosts()

    def _write_hosts(self) -> None:
        pairs = [(lb.address, lb.dns_name) for lb in self.balancers.values()]
        pairs += [pair for users in self.address_users for pair in users()]
        lines = [f"{address} {dns}" for address, dns in sorted(pairs)]
        try:
            atomic_write(f"{self.cloud.data_dir}/elb/hosts", ("\n".join(lines) + "\n").encode(),
                         mode=0o600)
        except OSError:
            log.exception("cannot write the balancers' hosts file")
        dns: Any = self.cloud.components.get("dns")
        if dns is not None:
            dns.refresh()

    # -- instances ------------------------------------------------------------------------
    def instance(self, instance_id: str) -> Any:
        """The CLC's record of an instance, or None."""
        return self.cloud.clc.instances.get(instance_id)

    def zone_hypervisor(self, zone: str) -> str:
        """The hypervisor of a zone ("virtual" when unknown)."""
        for z in self.cloud.config.zones:
            if z.name == zone:
                return str(z.hypervisor)
        return "virtual"

    def data_plane_health(self, inst: Any) -> bool:
        """True when HAProxy's checks decide the instance's health (it can reach it)."""
        if self.plane.available():
            return False
        return bool(self.netns) or self.zone_hypervisor(inst.zone) == "libvirt"

    def spec(self, lb: LoadBalancer) -> BalancerSpec:
        """The data plane's description of a balancer now."""
        counts: dict[str, int] = {}
        live = []
        for iid in lb.instances:
            inst = self.instance(iid)
            if inst is None or inst.state != "running" or not inst.private_ip or \
                    inst.zone not in lb.zones:
                continue
            live.append(inst)
            counts[inst.zone] = counts.get(inst.zone, 0) + 1
        backends = []
        for inst in live:
            # Without cross-zone balancing each zone takes an equal share of the traffic.
            weight = 1 if lb.cross_zone else max(1, round(60 / counts[inst.zone]))
            backends.append(Backend(inst.id, inst.private_ip, weight))
        frontends = []
        for li in lb.listeners:
            stick, cookie, seconds = "", "", 0
            ssl_policy = None
            for pname in li.policies:
                pol = lb.policy(pname)
                if pol is None:
                    continue
                if pol.type_name == "LBCookieStickinessPolicyType":
                    stick = "lb"
                    seconds = int(pol.value("CookieExpirationPeriod", "0") or 0)
                elif pol.type_name == "AppCookieStickinessPolicyType":
                    stick, cookie = "app", pol.value("CookieName")
                elif pol.type_name == "SSLNegotiationPolicyType":
                    ssl_policy = pol
            proxy = any((p := lb.policy(n)) is not None and
                        p.type_name == "ProxyProtocolPolicyType" and
                        p.value("ProxyProtocol", "true").lower() == "true"
                        for n in lb.backend_policies.get(str(li.instance_port), []))
            pem = self.certificate_pem(lb.account_id, li.certificate) if li.certificate \
                else ""
            tls = negotiation(ssl_policy) if li.protocol in ("HTTPS", "SSL") else None
            frontends.append(Frontend(
                li.protocol, li.port, li.instance_protocol, li.instance_port, pem, stick,
                cookie, seconds, proxy,
                tls_min=tls.tls_min if tls else "", tls_max=tls.tls_max if tls else "",
                ciphers=tls.ciphers if tls else "",
                prefer_client_ciphers=bool(tls and tls.prefer_client_ciphers)))
        hc = lb.health_check
        access = lb.attributes["AccessLog"]
        return BalancerSpec(
            self.key(lb), lb.name, lb.address, tuple(frontends), tuple(backends),
            hc["Target"], int(hc["Interval"]), int(hc["Timeout"]),
            int(hc["HealthyThreshold"]), int(hc["UnhealthyThreshold"]), lb.idle_timeout,
            lb.draining, bool(access["Enabled"]), ingress(self.cloud.clc, lb))

    def certificate_pem(self, account_id: str, arn: str) -> str:
        """The PEM (certificate, chain, key) of an IAM server certificate by ARN."""
        cert = self.find_certificate(account_id, arn)
        if cert is None:
            return ""
        return "\n".join(p.strip() for p in (cert.body, cert.chain, cert.private_key)
                         if p) + "\n"

    def find_certificate(self, account_id: str, arn: str) -> Any:
        """The IAM server certificate of the account with this ARN, or None."""
        for (acct, _), cert in self.cloud.identity.certs.server.items():
            if acct == account_id and cert.arn() == arn:
                return cert
        return None

    def sync(self, lb: LoadBalancer) -> None:
        """Hand the balancer's current description to the data plane if it changed."""
        if not lb.listeners:
            if self.key(lb) in self._applied:
                self._applied.pop(self.key(lb))
                self.plane.remove(self.key(lb))
            return
        spec = self.spec(lb)
        if self._applied.get(spec.key) == spec:
            return
        try:
            self.plane.apply(spec)
            self._applied[spec.key] = spec
        except Exception:
            log.exception("balancer %s: the data plane refused its configuration", lb.name)

    # -- health ---------------------------------------------------------------------------
    def health(self, lb: LoadBalancer, ids: list[str] | None = None) -> list[dict[str, str]]:
        """``InstanceStates`` of the balancer's (or the given) instances."""
        # The data plane first drops what left the running state: an instance reported
        # OutOfService no longer takes requests (not only after the next sync tick).
        self.sync(lb)
        states = self.plane.backend_states(self.key(lb)) if not self.plane.available() \
            else {}
        out = []
        for iid in ids if ids is not None else lb.instances:
            state, reason, text = self._one(lb, iid, states)
            out.append({"InstanceId": iid, "State": state, "ReasonCode": reason,
                        "Description": text})
        return out

    def _one(self, lb: LoadBalancer, iid: str, states: dict[str, Any]) -> tuple[str, str, str]:
        inst = self.instance(iid)
        if iid not in lb.instances:
            return ("Unknown", "ELB", "Instance is not registered with the LoadBalancer.")
        if inst is None or inst.state in ("terminated", "shutting-down"):
            return ("OutOfService", "Instance",
                    "Instance is in terminated state.")
        if inst.state != "running":
            return ("OutOfService", "Instance", f"Instance is in {inst.state} state.")
        if inst.zone not in lb.zones:
            return ("OutOfService", "ELB", "Instance is in an EC2 Availability Zone for "
                    "which LoadBalancer is not configured to route traffic to.")
        if not lb.listeners:
            return ("OutOfService", "ELB", "The LoadBalancer has no listeners.")
        if not self.data_plane_health(inst):
            return IN_SERVICE
        st = states.get(iid)
        if st is None or st.up is None:
            return ("OutOfService", "ELB", "Instance registration is still in progress.")
        if st.up:
            return IN_SERVICE
        return ("OutOfService", "Instance", "Instance has failed at least the "
                "UnhealthyThreshold number of health checks consecutively.")

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start (or adopt) every balancer's data plane; keep them in line on a timer."""
        self._running = True
        why = self.plane.available()
        if why and self.balancers:
            log.warning("load balancers do not balance traffic: %s", why)
        for lb in list(self.balancers.values()):
            self.sync(lb)
        self._write_hosts()
        self._timer = self.cloud.clock.call_later(SYNC_EVERY, self._tick)
        if self._changed not in self.cloud.clc.change_listeners:
            self.cloud.clc.change_listeners.append(self._changed)

    def _changed(self, record: Any) -> None:
        """A security group, instance or address changed: balancers with groups take the
        new sources at once (not only at the next tick)."""
        if not self._running or self._resync_scheduled or \
                record.KIND not in ("security_group", "instance", "address"):
            return
        if any(lb.security_groups for lb in self.balancers.values()):
            self._resync_scheduled = True
            self.cloud.clock.call_later(0.0, self._resync)

    def _resync(self) -> None:
        self._resync_scheduled = False
        if not self._running:
            return
        for lb in list(self.balancers.values()):
            if lb.security_groups:
                self.sync(lb)

    def stop(self) -> None:
        """Stop the timers and the balancers' processes."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.plane.stop()
        self._applied.clear()

    def _tick(self) -> None:
        if not self._running:
            return
        try:
            for lb in list(self.balancers.values()):
                self.sync(lb)
            telemetry = self.cloud.components.get("elb_telemetry")
            if telemetry is not None:
                telemetry.tick()
        except Exception:
            log.exception("ELB sync failed")
        self._timer = self.cloud.clock.call_later(SYNC_EVERY, self._tick)


class GroupMembers:
    """Auto Scaling's LoadBalancerPort: group members registered with balancers."""

    def __init__(self, elb: ELB):
        self.elb = elb

    def _each(self, account_id: str, names: list[str]) -> list[LoadBalancer]:
        return [lb for n in names if (lb := self.elb.balancers.get((account_id, n)))]

    def register(self, account_id: str, load_balancers: list[str],
                 instance_ids: list[str]) -> None:
        """Register instances with the group's balancers."""
        for lb in self._each(account_id, load_balancers):
            new = [i for i in instance_ids if i not in lb.instances]
            if new:
                lb.instances.extend(new)
                self.elb.save(lb)

    def deregister(self, account_id: str, load_balancers: list[str],
                   instance_ids: list[str]) -> None:
        """Deregister instances from the group's balancers."""
        for lb in self._each(account_id, load_balancers):
            if any(i in lb.instances for i in instance_ids):
                lb.instances = [i for i in lb.instances if i not in instance_ids]
                self.elb.save(lb)

    def health(self, account_id: str, load_balancers: list[str],
               instance_ids: list[str]) -> dict[str, bool]:
        """Unhealthy in any balancer (for a reason of the instance) = unhealthy."""
        out: dict[str, bool] = {}
        for lb in self._each(account_id, load_balancers):
            for st in self.elb.health(lb, [i for i in instance_ids if i in lb.instances]):
                bad = st["State"] == "OutOfService" and st["ReasonCode"] == "Instance"
                out[st["InstanceId"]] = out.get(st["InstanceId"], True) and not bad
        return out
