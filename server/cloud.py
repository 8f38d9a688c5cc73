"""The composition root: one cloud = config + clock + store + identity + components.

``Cloud`` builds the core components in dependency order, handing each the ports of
those it calls (``server/ports/``): the CLC, Walrus (the ObjectStore), each zone's
Storage Controller (a BlockStore, given Walrus for snapshots), the CLC's EBS over the
SCs, the ImageSource the node drivers fetch images from, and, at start, one CC per zone
with its NCs.  The other components (metadata, Auto Scaling, CloudWatch, the console,
LDAP sync) register themselves through a ``setup(cloud)`` function in their package,
in the order of :data:`COMPONENTS`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypedDict

from server.app import CloudApp
from server.auth.identity import ADMIN_ACCOUNT, Identity
from server.auth.secrets import SecretBox, private_data_dir
from server.cc.cluster import ClusterController
from server.clock import Clock, RealClock
from server.config import CloudConfig
from server.db.store import Store, make_engine, migrate
from server.nc.hypervisor import make_driver
from server.nc.node import NodeController
from server.ports.cluster import Cluster
from server.tls import TLSFiles
from server.util import atomic_write

if TYPE_CHECKING:
    from server.auth.quotas import CreatorLedger
    from server.autoscaling.controller import (
        AlarmPort,
        AutoScaling,
        LoadBalancerPort,
        ScalingPolicies,
    )
    from server.cc.monitor import NodeHealthMonitor
    from server.clc.bundletasks import BundleTasks
    from server.clc.ebs import BlockStorage
    from server.clc.launchtemplates import LaunchTemplate
    from server.cloudwatch.service import CloudWatch
    from server.console.signups import Signups
    from server.console.web import Console
    from server.dns.service import DnsService
    from server.elb.component import ELB
    from server.elb.telemetry import Telemetry
    from server.elbv2.component import ELBv2
    from server.empyrean.properties import Properties
    from server.empyrean.registry import ServiceRegistry
    from server.ldap.sync import LdapSync
    from server.net.service import NetworkService
    from server.ports.images import ImageSource
    from server.protocol.query import Handler
    from server.remote.registration import RemoteSettings
    from server.remote.signing import Keyring
    from server.walrus.service import Walrus

log = logging.getLogger(__name__)

#: Service name -> path, as Eucalyptus serves them.  euca2ools.ini lists those of them this
#: cloud serves (registered with the app); the others answer "not implemented".
SERVICE_PATHS: dict[str, str] = {
    "ec2": "/services/compute",
    "s3": "/services/objectstorage",
    "iam": "/services/Euare",
    "sts": "/services/Tokens",
    "autoscaling": "/services/AutoScaling",
    "monitoring": "/services/CloudWatch",
    "elasticloadbalancing": "/services/LoadBalancing",
    "cloudformation": "/services/CloudFormation",
    "swf": "/services/SimpleWorkflow",
    "sqs": "/services/SimpleQueue",
    "imaging": "/services/Imaging",
    "bootstrap": "/services/Empyrean",
    "properties": "/services/Properties",
}

#: Further components, set up in this order when their package provides ``setup(cloud)``
#: (Walrus, the SCs and the EBS API are core: ``Cloud`` builds them itself).
COMPONENTS = ("server.metadata",
              "server.autoscaling.service", "server.cloudwatch.service",
              "server.autoscaling.cloudwatch",  # joins the two before it
              "server.console.web", "server.ldap.sync", "server.elb.service",
              "server.dns.service",  # after ELB: it answers the balancers' names
              "server.elbv2.service",  # on the classic ELB's data plane: after it
              "server.net.service",  # guest networking: after the metadata service
              "server.empyrean.service")  # last: it lists the components before it


class Components(TypedDict, total=False):
    """What the ``setup(cloud)`` of :data:`COMPONENTS` register, by name and type (a
    component that is not installed leaves its keys out)."""

    autoscaling: AutoScaling
    #: Auto Scaling's hook for alarm actions (CloudWatch calls it).
    scaling_policies: ScalingPolicies
    #: The ports Auto Scaling uses when their components run: CloudWatch's alarms, ELB.
    autoscaling_alarms: AlarmPort
    autoscaling_load_balancers: LoadBalancerPort
    cloudwatch: CloudWatch
    console: Console
    signups: Signups
    ldap: LdapSync
    #: Where the other components run, when this process is one of several (server.remote).
    remote: RemoteSettings
    remote_keyring: Keyring
    remote_started: bool
    #: The Empyrean service registry and the cloud properties (euserv-*, euctl).
    service_registry: ServiceRegistry
    properties: Properties
    #: Elastic Load Balancing and its metrics / access logs.
    elb: ELB
    elb_telemetry: Telemetry
    #: The DNS service of the cloud's domain (when dns_port is set).
    dns: DnsService
    #: Application / Network Load Balancers (elbv2) and Auto Scaling's TargetGroupARNs.
    elbv2: ELBv2
    autoscaling_target_groups: LoadBalancerPort
    #: Guest networking (EDGE): computes and pushes each node's network view.
    network: NetworkService
    node_monitor: NodeHealthMonitor
    quota_ledger: CreatorLedger
    bundle_tasks: BundleTasks
    launch_templates: dict[str, LaunchTemplate]
    #: EC2 actions other components add to the CLC's table.
    ec2_actions: dict[str, Handler]
    # Compatibility aliases of the core components' typed attributes (read-only).
    walrus: Walrus | None
    sc: BlockStorage
    image_store: ImageSource
    certificate_path: str | None
    certificate_key_path: str | None


class Cloud:
    """Everything one cloud process runs."""

    def __init__(self, config: CloudConfig, clock: Clock | None = None):
        """Build the cloud ``config`` describes.

        ``clock`` is the time every component runs on: by default the wall clock on the
        asyncio loop (at the configured ``clock_speed``); the simulator passes a virtual
        one, and then the whole cloud runs in simulated time.
        """
        self.config = config
        #: The HTTPS endpoint's certificate files (set by the server when it serves HTTPS).
        self.tls: TLSFiles | None = None
        self.data_dir = config.data_dir
        private_data_dir(self.data_dir)  # 0700, and every file the cloud writes 0600
        #: Seals secrets at rest (access keys, the metadata secret, Walrus' master key).
        self.secrets = SecretBox.for_data_dir(self.data_dir)
        self.clock: Clock = clock if clock is not None else RealClock(
            speed=config.cloud["clock_speed"])
        self.engine = make_engine(config.database_url)
        migrate(self.engine)
        self.store = Store(self.engine, self.secrets)
        self.identity = Identity(self.store, self.clock.now)
        self.store.seal_plain_records()  # a data dir from before secrets were sealed
        self.app = CloudApp(self)
        #: Zone -> its CC (built at start, :meth:`build_clusters`).
        self.clusters: dict[str, Cluster] = {}
        #: Components registered by name by the ``setup(cloud)`` of :data:`COMPONENTS`,
        #: typed per key (the core components below are typed attributes instead).
        self.components: Components = {}
        self.stop_hooks: list[Callable[[], Any]] = []
        self.start_hooks: list[Callable[[], Any]] = []
        from server.auth.iam import IAMService
        from server.auth.tokens import STSService
        from server.clc.controller import CloudController
        from server.clc.ec2 import EC2Service
        from server.clc.passwords import Passwords

        self.clc = CloudController(config, self.clock, self.store, self.identity, self.clusters)
        #: Windows instances' administrator passwords, made when they first run.
        self.passwords = Passwords(self.clc)
        self.ec2 = EC2Service(self)  # components add actions to self.ec2.actions
        self.app.register(self.ec2)
        self.app.register(IAMService(self))
        self.app.register(STSService(self))
        self._build_storage()
        for module in COMPONENTS:
            mod = _optional(module)
            setup = getattr(mod, "setup", None)
            if setup is not None:
                setup(self)
        self.app.know_unserved(SERVICE_PATHS)

    def _build_storage(self) -> None:
        """Walrus, then each zone's SC (given Walrus for snapshots), then the CLC's EBS
        over the SCs, then the image source the node drivers use (images in Walrus)."""
        from server.clc.ebs import BlockStorage
        from server.nc.images import ImageStore
        from server.sc.service import storage_controllers

        #: Walrus (the ObjectStore), None if this installation has no Walrus package.
        self.walrus: Walrus | None = None
        #: The cloud certificate and key (made with Walrus, which signs bundles with them).
        self.certificate_path: str | None = None
        self.certificate_key_path: str | None = None
        walrus_service = _optional("server.walrus.service")
        if walrus_service is not None:
            walrus_service.setup(self)
        # The SCs upload snapshots to Walrus and persist their records through the CLC's
        # EBS, which reaches them through the BlockStore port.
        self.ebs: BlockStorage = BlockStorage(self.clc, self.clock, self.store, self.clusters)
        self.ebs.zones.update(storage_controllers(self.config, self.clock, self.walrus,
                                                  save=self.ebs.save, forget=self.ebs.forget))
        self.clc.resource_lookups.append(self.ebs.lookup)
        self.clc.instance_listeners.append(self.ebs.on_instance_state)
        self.ebs.load()
        # Recovery schedules work on the clock, which runs once the loop does.
        self.start_hooks.append(self.ebs.recover)
        #: Where the node drivers fetch eki/eri/emi bytes (the CLC's images, in Walrus).
        self.image_source: ImageSource = ImageStore(self.clc, self.walrus)
        # Compatibility aliases for code written against the old string-keyed registry
        # (read-only use; the typed attributes above are the interface).
        self.components.update({"walrus": self.walrus, "sc": self.ebs,
                                "image_store": self.image_source,
                                "certificate_path": self.certificate_path,
                                "certificate_key_path": self.certificate_key_path})

    @property
    def url(self) -> str:
        """The base URL clients use."""
        return self.config.public_url

    def service_url(self, name: str, secure: bool = False) -> str:
        """The URL of one service (``secure``: at the HTTPS endpoint when there is one, for
        a caller that came over HTTPS and must not be sent to plain HTTP)."""
        base = self.https_url if secure and self.https_url else self.url
        return base + self.app.endpoints.get(name, SERVICE_PATHS.get(name, "/"))

    # -- life cycle ------------------------------------------------------------------
    def build_clusters(self) -> None:
        """One CC per zone, with its NCs and their hypervisor drivers."""
        from server.remote.registration import attach_remote_clusters

        if attach_remote_clusters(self):  # --components clc: the zones' CCs run elsewhere
            return
        for zone in self.config.zones:
            nodes = []
            for n in range(zone.nodes):
                name = f"{zone.name}-node-{n + 1:02d}"
                # image_store: how a libvirt driver fetches eki/eri/emi bytes (ImageSource).
                driver = make_driver(zone.hypervisor, name, zone.values | {
                    "data_dir": self.data_dir, "image_store": self.image_source}, self.clock)
                nodes.append(NodeController(name, self.clock, driver, lambda e: None,
                                            capacity=None))
            cc = ClusterController(
                zone.name, self.clock, nodes, policy=zone.scheduler,
                power_idle_seconds=zone.power_idle_seconds,
                power_wake_seconds=zone.power_wake_seconds,
                poll_interval=zone.poll_interval or None)
            self.clusters[zone.name] = cc

    async def start(self) -> None:
        """Start every component on the running loop; bootstrap a new cloud."""
        if isinstance(self.clock, RealClock):  # a virtual clock is driven by its simulation
            self.clock._loop = asyncio.get_running_loop()
        self.build_clusters()
        self.clc.start()
        for hook in self.start_hooks:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        self.write_client_config()
        self.store.flush()
        log.info("cloud up at %s; client configuration in %s", self.url, self.client_config_path)

    async def stop(self) -> None:
        """Flush state and stop components."""
        for hook in self.stop_hooks:
            try:
                result = hook()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("stop hook failed")
        self.store.flush()
        self.engine.dispose()

    # -- client configuration ----------------------------------------------------------
    @property
    def client_config_path(self) -> str:
        """Where the admin's euca2ools.ini is written."""
        return os.path.join(self.data_dir, "euca2ools.ini")

    @property
    def https_url(self) -> str | None:
        """The HTTPS base URL, when the cloud serves HTTPS."""
        return self.config.https_url if self.tls is not None else None

    @property
    def ca_path(self) -> str | None:
        """The certificate clients verify the HTTPS endpoint against."""
        if self.tls is None:
            return None
        return os.path.abspath(self.config.cloud["tls_ca"]) if self.config.cloud["tls_ca"] \
            else self.tls.ca

    def client_config(self, account_id: str, user: str, key_id: str, secret: str,
                      ca_bundle: str | None = None) -> str:
        """A euca2ools.ini for one user, with every service URL of this cloud: HTTPS URLs
        verified against the cloud's CA (``ca_bundle`` names where the user keeps it)
        when the cloud serves HTTPS."""
        region = self.config.cloud["region"]
        base = self.https_url or self.url
        lines = ["[global]", f"default-region = {region}", "", f"[region {region}]"]
        for name, path in self.app.endpoints.items():  # only what is served
            lines.append(f"{name}-url = {base}{path}")
        if self.https_url:
            lines += ["verify-ssl = true", f"ca-bundle = {ca_bundle or self.ca_path}"]
        cert = self.certificate_path
        if cert:
            lines.append(f"certificate = {cert}")
        lines += [f"user = {account_id}:{user}", "", f"[user {account_id}:{user}]",
                  f"key-id = {key_id}", f"secret-key = {secret}", f"account-id = {account_id}", ""]
        return "\n".join(lines)

    def write_client_config(self) -> None:
        """(Re)write DATA_DIR/euca2ools.ini for the cloud admin."""
        account = self.identity.account(ADMIN_ACCOUNT)
        keys = self.identity.list_access_keys(account.id, "admin")
        key = keys[0] if keys else self.identity.create_access_key(account.id, "admin")
        text = self.client_config(account.id, "admin", key.key_id, key.secret)
        atomic_write(self.client_config_path, text.encode(), mode=0o600)


def _optional(module: str) -> ModuleType | None:
    """Import a component's module; None when the component is not installed (or cannot
    load: the cloud runs without it)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None  # component not installed
        log.error("component %s cannot load (%s); the cloud runs without it", module, exc)
        return None
