"""``eucalyptus-cloud --components cc`` and ``--components nc``: one component per process.

A CC process serves the Cluster port of one zone and polls its registered nodes; an NC
process serves the Node port of one node over its hypervisor driver.  Both answer only
signed requests (the CLC may call a CC; only CCs may call an NC) and keep their state
in their data directory.  The zone's ``[[zones]]`` table of the configuration gives the
CC its scheduler and the NC its driver settings, as in the all-in-one cloud.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from server.config import CloudConfig, ZoneConfig, parse
from server.remote.registration import (
    CLC_ID,
    RemoteSettings,
    cc_id,
    ensure_ca,
    nc_id,
    tls_files,
)
from server.remote.signing import Keyring

log = logging.getLogger(__name__)


def zone_config(config: CloudConfig, zone: str) -> ZoneConfig:
    """The zone's table, or the defaults for a zone the file does not list."""
    for z in config.zones:
        if z.name == zone:
            return z
    return parse({"zones": [{"name": zone}]}).zones[0]


def _uvicorn(app: Any, config: CloudConfig, settings: RemoteSettings, component: str) -> Any:
    import uvicorn

    host = config.host_port[0]
    extra: dict[str, Any] = {}
    if settings.internal_tls:
        files = tls_files(settings.keys_dir, component, [host])
        extra = {"ssl_certfile": files.cert, "ssl_keyfile": files.key}
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                         lifespan="off", timeout_keep_alive=60,
                                         server_header=False, date_header=False, **extra))


async def run_cc(config: CloudConfig, settings: RemoteSettings, sock: socket.socket) -> None:
    """Serve one zone's Cluster Controller until stopped."""
    from server.cc.cluster import ClusterController
    from server.clock import RealClock
    from server.remote.cluster_server import ClusterService
    from server.remote.http import InternalServer

    loop = asyncio.get_running_loop()
    zone = zone_config(config, settings.zone)
    clock = RealClock(loop)
    cc = ClusterController(zone.name, clock, [], policy=zone.scheduler,
                           power_idle_seconds=zone.power_idle_seconds,
                           power_wake_seconds=zone.power_wake_seconds)
    keyring = Keyring(settings.keys_dir, cc_id(zone.name), accept=(CLC_ID,))
    service = ClusterService(cc, keyring, config.data_dir, loop,
                             poll_interval=settings.poll_interval,
                             tls_verify=settings.tls_verify())
    service.restore()
    for name, address in settings.nodes.items():
        if name not in cc.by_name:
            service.register_node(name, settings.url(address))
    server = _uvicorn(InternalServer(keyring, service.routes()), config, settings,
                      cc_id(zone.name))
    service.poller.start()
    log.info("CC of %s serving on %s:%s", zone.name, *config.host_port)
    try:
        await server.serve(sockets=[sock])
    finally:
        service.poller.stop()


async def run_nc(config: CloudConfig, settings: RemoteSettings, sock: socket.socket) -> None:
    """Serve one Node Controller until stopped."""
    from server.clock import RealClock
    from server.nc.hypervisor import make_driver
    from server.nc.node import NodeController
    from server.remote.http import InternalServer
    from server.remote.node_server import NodeService

    loop = asyncio.get_running_loop()
    zone = zone_config(config, settings.zone)
    clock = RealClock(loop)
    name = settings.node_name
    driver = make_driver(zone.hypervisor, name, zone.values | {
        "data_dir": config.data_dir, "image_store": None}, clock)
    nc = NodeController(name, clock, driver, lambda event: None)
    service = NodeService(nc, config.data_dir)
    service.restore()
    keyring = Keyring(settings.keys_dir, nc_id(name), accept=("cc-",))
    server = _uvicorn(InternalServer(keyring, service.routes(), service.batch_hooks()), config,
                      settings, nc_id(name))
    log.info("NC %s serving on %s:%s", name, *config.host_port)
    await server.serve(sockets=[sock])


def run(config: CloudConfig, settings: RemoteSettings, sock: socket.socket) -> None:
    """Run a CC or NC process (the CLI's entry for ``--components cc|nc``)."""
    os.makedirs(config.data_dir, mode=0o700, exist_ok=True)
    if not settings.keys_dir:
        settings.keys_dir = os.path.join(config.data_dir, "keys")
    if settings.internal_tls:
        ensure_ca(settings.keys_dir)
    main = run_cc if "cc" in settings.components else run_nc
    try:
        asyncio.run(main(config, settings, sock))
    except KeyboardInterrupt:
        pass
