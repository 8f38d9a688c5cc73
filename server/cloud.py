"""The composition root: one cloud = config + clock + store + identity + components.

``Cloud`` builds every component for the configured zones and registers their
services with the HTTP app.  Optional components (Walrus, the storage controller)
register themselves through a ``setup(cloud)`` function in their package.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

from server.app import CloudApp
from server.auth.identity import ADMIN_ACCOUNT, Identity
from server.auth.secrets import SecretBox, private_data_dir
from server.cc.cluster import ClusterController
from server.clock import RealClock
from server.config import CloudConfig
from server.db.store import Store, make_engine, migrate
from server.nc.hypervisor import make_driver
from server.nc.node import NodeController
from server.tls import TLSFiles
from server.util import atomic_write

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
    "bootstrap": "/services/Empyrean",
    "properties": "/services/Properties",
}

#: Optional components, set up when their package provides ``setup(cloud)``.
COMPONENTS = ("server.walrus.service", "server.sc.service", "server.metadata",
              "server.autoscaling.service", "server.cloudwatch.service",
              "server.autoscaling.cloudwatch",  # joins the two before it
              "server.console.web", "server.ldap.sync", "server.elb.service")


class Cloud:
    """Everything one cloud process runs."""

    def __init__(self, config: CloudConfig):
        self.config = config
        #: The HTTPS endpoint's certificate files (set by the server when it serves HTTPS).
        self.tls: TLSFiles | None = None
        self.data_dir = config.data_dir
        private_data_dir(self.data_dir)  # 0700, and every file the cloud writes 0600
        #: Seals secrets at rest (access keys, the metadata secret, Walrus' master key).
        self.secrets = SecretBox.for_data_dir(self.data_dir)
        self.clock = RealClock(speed=config.cloud["clock_speed"])
        self.engine = make_engine(config.database_url)
        migrate(self.engine)
        self.store = Store(self.engine, self.secrets)
        self.identity = Identity(self.store, self.clock.now)
        self.store.seal_plain_records()  # a data dir from before secrets were sealed
        self.app = CloudApp(self)
        self.clusters: dict[str, ClusterController] = {}
        self.components: dict[str, Any] = {}
        self.stop_hooks: list[Callable[[], Any]] = []
        self.start_hooks: list[Callable[[], Any]] = []
        from server.auth.iam import IAMService
        from server.auth.tokens import STSService
        from server.clc.controller import CloudController
        from server.clc.ec2 import EC2Service

        self.clc = CloudController(self)
        self.ec2 = EC2Service(self)  # components add actions to self.ec2.actions
        self.app.register(self.ec2)
        self.app.register(IAMService(self))
        self.app.register(STSService(self))
        for module in COMPONENTS:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name and module.startswith(exc.name):
                    continue  # component not installed
                log.error("component %s cannot load (%s); the cloud runs without it", module, exc)
                continue
            setup = getattr(mod, "setup", None)
            if setup is not None:
                setup(self)
        self.app.know_unserved(SERVICE_PATHS)

    @property
    def url(self) -> str:
        """The base URL clients use."""
        return self.config.public_url

    def service_url(self, name: str) -> str:
        """The URL of one service."""
        return self.url + self.app.endpoints.get(name, SERVICE_PATHS.get(name, "/"))

    # -- life cycle ------------------------------------------------------------------
    def build_clusters(self) -> None:
        """One CC per zone, with its NCs and their hypervisor drivers."""
        for zone in self.config.zones:
            nodes = []
            for n in range(zone.nodes):
                name = f"{zone.name}-node-{n + 1:02d}"
                # image_store: how a libvirt driver fetches eki/eri/emi bytes from Walrus
                # (server/nc/images.py, registered by server.metadata's setup; None without it).
                driver = make_driver(zone.hypervisor, name, zone.values | {
                    "data_dir": self.data_dir,
                    "image_store": self.components.get("image_store")}, self.clock)
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
        cert = self.components.get("certificate_path")
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
