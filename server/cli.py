"""``eucalyptus-cloud``: run the whole cloud in one process, or one component of it.

``--components clc[,walrus,sc]``, ``cc`` or ``nc`` runs one controller per process, on
hosts of its own (``server/remote``); without it, everything runs in this process.

Exit status: 0 after a clean stop, 1 when the cloud cannot start (database unreachable,
a component failing at start-up), 2 for a bad configuration or command line, 3 when the
listen address cannot be bound (in use, not permitted, not an address of this host).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from server.cloud import Cloud
    from server.config import CloudConfig

#: Exit statuses (documented in the README).
EXIT_START_FAILED = 1
EXIT_CONFIG = 2
EXIT_LISTEN = 3


def fail(message: str, status: int) -> None:
    """One line on stderr, then exit.  Messages of several lines (a database driver's, with
    its hints and links) keep their first, which says what failed."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    click.echo(f"eucalyptus-cloud: error: {lines[0] if lines else message}", err=True)
    sys.exit(status)


def bind(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything is written, so that a busy port stops the
    start-up before the data directory is touched."""
    host = host.strip("[]")  # [::1]:8773
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(exc.errno, exc.strerror) from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: quick restarts
        # Bound, not yet listening: the server listens once the cloud is up, so a client
        # that waits for the port finds euca2ools.ini written.
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _bound_port(config: CloudConfig, key: str, sock: socket.socket) -> None:
    """Port 0 asks the system for a free port: the configuration (and so the URLs written
    into euca2ools.ini and printed) takes the port the socket got."""
    host, _, port = str(config.cloud[key]).rpartition(":")
    if port == "0":
        config.cloud[key] = f"{host}:{sock.getsockname()[1]}"


def bind_https(config: CloudConfig, explicit: bool) -> socket.socket | None:
    """The HTTPS socket, or None when the cloud serves no HTTPS.  When the default port
    (8443) is taken and nothing asked for it, the cloud runs on plain HTTP only (a warning);
    an HTTPS address the configuration names must be bound (exit 3 otherwise)."""
    address = config.https_host_port
    if address is None:
        return None
    try:
        return bind(*address)
    except OSError as exc:
        message = f"cannot listen on {address[0]}:{address[1]}: {exc.strerror or exc}"
        if explicit:
            fail(message, EXIT_LISTEN)
        click.echo(f"eucalyptus-cloud: warning: {message}; serving plain HTTP only", err=True)
        config.cloud["https_listen"] = ""
        return None


def https_server(config: CloudConfig, cloud: Cloud) -> Any:
    """The uvicorn server of the HTTPS endpoint: the same app, with the cloud's certificate
    (the cloud's start and stop run on the plain server's lifespan)."""
    from urllib.parse import urlsplit

    import uvicorn

    from server.protocol.zerocopy import ZeroCopyProtocol
    from server.tls import server_files

    # The generated certificate names the listen host and the host the written URLs give
    # (public_url's), so that clients verify the name they were told.
    names = [(config.https_host_port or ("127.0.0.1", 0))[0],
             urlsplit(config.https_url or "").hostname or ""]
    files = server_files(config.data_dir, config.cloud["tls_cert"], config.cloud["tls_key"],
                         [name for name in names if name])
    cloud.tls = files
    proxies = config.cloud["trusted_proxies"]
    protocol = ZeroCopyProtocol.configured(header_timeout=config.cloud["header_timeout_seconds"])
    tls_config = uvicorn.Config(
        cloud.app, log_level="warning", access_log=False, lifespan="off", http=protocol,
        loop="uvloop", timeout_keep_alive=60, server_header=False, date_header=False,
        proxy_headers=bool(proxies), forwarded_allow_ips=list(proxies),
        ssl_certfile=files.cert, ssl_keyfile=files.key)
    tls_config.load()  # a bad certificate or key is a start-up error, not a failed handshake
    # The cloud's own TLS settings (TLS 1.2 or later, the library's default ciphers), not
    # uvicorn's ("TLSv1" ciphers, versions left to the system's OpenSSL configuration).
    tls_config.ssl = files.context()
    return uvicorn.Server(tls_config)


async def serve_both(server: Any, sock: socket.socket, tls_server: Any,
                     tls_sock: socket.socket) -> None:
    """Serve plain HTTP and HTTPS on one loop; HTTPS opens once the cloud is up, and both
    stop together (a signal stops the HTTPS server, which passes it on)."""
    import asyncio

    # Connections queue on the HTTPS socket from now on, so that a client that finds
    # euca2ools.ini written (during the start-up) is answered once HTTPS serves.
    tls_sock.listen(2048)
    plain = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not plain.done():
        await asyncio.sleep(0.02)
    if plain.done():
        tls_sock.close()
        await plain
        return
    tls = asyncio.create_task(tls_server.serve(sockets=[tls_sock]))
    done, _ = await asyncio.wait({plain, tls}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = tls_server.should_exit = True
    await asyncio.gather(plain, tls, return_exceptions=True)
    for task in done:
        task.result()


def remote_settings(components: str | None, zone: str, node_name: str,
                    clusters: tuple[str, ...], nodes: tuple[str, ...], keys_dir: str,
                    poll_interval: float | None, internal_tls: bool) -> Any:
    """The multi-process settings of the command line; None for the all-in-one cloud.
    ValueError for a combination that makes no sense."""
    from server.remote.registration import RemoteSettings, parse_addresses, parse_components

    if components is None:
        if clusters or nodes or zone or node_name:
            raise ValueError("--cluster, --node, --zone and --node-name need --components")
        return None
    names = parse_components(components)
    settings = RemoteSettings(components=names, keys_dir=os.path.abspath(keys_dir) if keys_dir
                              else "", zone=zone, node_name=node_name,
                              clusters=parse_addresses(clusters, "cluster"),
                              nodes=parse_addresses(nodes, "node"), internal_tls=internal_tls)
    if poll_interval is not None:
        if poll_interval <= 0:
            raise ValueError("--poll-interval: must be > 0")
        settings.poll_interval = settings.clc_poll_interval = poll_interval
    if ("cc" in names or "nc" in names) and not settings.all_in_one and not zone:
        raise ValueError("--components cc|nc: --zone is required")
    if names == {"nc"} and not node_name:
        raise ValueError("--components nc: --node-name is required")
    return settings


class _Command(click.Command):
    """A command whose usage errors are one line and exit status 2, like every other
    start-up failure (click's own report spans three lines)."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """Parse the command line; a usage error stops the start with one line."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            fail(exc.format_message(), EXIT_CONFIG)
            raise  # not reached: fail exits


def check_data_dir(path: str) -> None:
    """Refuse a data directory the cloud could not write, before anything is written:
    it must be a writable directory, or not exist yet under one (the cloud makes it)."""
    target = os.path.abspath(path)
    probe = target
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        what = "not a directory" if probe == target else f"{probe} is not a directory"
        raise OSError(f"cloud.data_dir: cannot use {target}: {what}")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == target else f" ({probe})"
        raise OSError(f"cloud.data_dir: cannot use {target}: not writable{where}")


@click.command(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="FILE",
              help="TOML configuration file (default: the embedded single-zone cloud).")
@click.option("--data-dir", help="Data directory (overrides [cloud] data_dir).")
@click.option("--listen", help="HOST:PORT to listen on (default 127.0.0.1:8773).")
@click.option("--https-listen",
              help="HOST:PORT of the HTTPS endpoint, or 'off' (overrides [cloud] https_listen).")
@click.option("--log-level", default=None,
              type=click.Choice(["debug", "info", "warning", "error"]),
              help="Log level (overrides [cloud] log_level).")
@click.option("--components", default=None,
              help="Components this process runs: clc[,walrus,sc], cc or nc (default: all).")
@click.option("--zone", default="", help="The zone of a cc or nc process.")
@click.option("--node-name", default="", help="The node name of an nc process.")
@click.option("--cluster", "clusters", multiple=True, metavar="ZONE=HOST:PORT",
              help="Register a zone's CC with this CLC (repeatable).")
@click.option("--node", "nodes", multiple=True, metavar="NAME=HOST:PORT",
              help="Register a node with this CC (repeatable).")
@click.option("--keys-dir", default="",
              help="Directory of the components' keys (default DATA_DIR/keys).")
@click.option("--poll-interval", type=float, default=None,
              help="Seconds between a CC's polls of its nodes (default 6).")
@click.option("--internal-tls/--no-internal-tls", default=False,
              help="TLS on the links between components.")
@click.version_option(package_name="eucalyptus-py", prog_name="eucalyptus-cloud")
def main(config_path: str | None, data_dir: str | None, listen: str | None,
         https_listen: str | None, log_level: str | None, components: str | None = None,
         zone: str = "", node_name: str = "", clusters: tuple[str, ...] = (),
         nodes: tuple[str, ...] = (), keys_dir: str = "", poll_interval: float | None = None,
         internal_tls: bool = False) -> None:
    """Run a Eucalyptus cloud: EC2, IAM, STS, S3 (Walrus), EBS, CC and NCs in one process.

    Exit status: 0 after a clean stop, 1 when the cloud cannot start, 2 for a bad
    configuration, command line or data directory, 3 when the listen address cannot be
    bound (e.g. the port is in use).
    """
    from server.config import ConfigError, load

    try:
        config = load(config_path, data_dir=data_dir, listen=listen, https_listen=https_listen)
        host, port = config.host_port
    except (ConfigError, ValueError) as exc:
        fail(str(exc), EXIT_CONFIG)
    try:
        settings = remote_settings(components, zone, node_name, clusters, nodes, keys_dir,
                                   poll_interval, internal_tls)
    except ValueError as exc:
        fail(str(exc), EXIT_CONFIG)
    try:
        sock = bind(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_LISTEN)
    _bound_port(config, "listen", sock)
    try:
        check_data_dir(config.data_dir)
    except OSError as exc:
        sock.close()
        fail(str(exc), EXIT_CONFIG)
    if settings is not None and "clc" not in settings.components:  # a CC or an NC
        logging.basicConfig(level=(log_level or config.cloud["log_level"]).upper(),
                            format="%(asctime)s %(levelname)-7s %(name)s %(message)s")
        from server.remote.process import run

        try:
            run(config, settings, sock)
        except Exception as exc:  # e.g. an unknown hypervisor: one line, not a traceback
            logging.getLogger(__name__).debug("start-up failed", exc_info=True)
            fail(str(exc), EXIT_START_FAILED)
        return
    from server.config import CLOUD_KEYS

    tls_sock = bind_https(config, https_listen is not None
                          or config.cloud["https_listen"] != CLOUD_KEYS["https_listen"][1])
    if tls_sock is not None:
        _bound_port(config, "https_listen", tls_sock)
    level = (log_level or config.cloud["log_level"]).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    from server.cloud import Cloud

    fresh = not os.path.exists(config.data_dir)
    try:
        cloud = Cloud(config)
    except Exception as exc:  # e.g. database unreachable: one line, not a traceback
        sock.close()
        if fresh:  # a data dir made by this failed start, still empty: not left behind
            with contextlib.suppress(OSError):
                os.rmdir(config.data_dir)
        if isinstance(exc, OSError) and exc.filename and \
                os.path.abspath(str(exc.filename)).startswith(config.data_dir):
            fail(f"cloud.data_dir: cannot use {config.data_dir}: {exc.strerror}", EXIT_CONFIG)
        fail(str(exc), EXIT_START_FAILED)
    if settings is not None:
        from server.remote.registration import configure

        configure(cloud, settings)
    from server.gctune import freeze_long_lived

    freeze_long_lived()
    tls_server = None
    if tls_sock is not None:
        try:
            tls_server = https_server(config, cloud)
        except (OSError, ValueError) as exc:
            sock.close()
            fail(f"cannot serve HTTPS: {exc}", EXIT_CONFIG)
    click.echo(f"eucalyptus-cloud: serving {config.public_url} "
               + (f"and {config.https_url} " if tls_server else "")
               + f"(data in {config.data_dir}; credentials in {cloud.client_config_path})",
               err=True)
    import uvicorn

    from server.protocol.zerocopy import ZeroCopyProtocol

    # X-Forwarded-For/-Proto are believed only from the proxies the configuration names
    # (uvicorn would believe any local process): the metadata service and aws:SourceIp
    # conditions trust the client address.
    proxies = config.cloud["trusted_proxies"]
    protocol = ZeroCopyProtocol.configured(header_timeout=config.cloud["header_timeout_seconds"])
    server = uvicorn.Server(uvicorn.Config(
        cloud.app, log_level=level.lower() if level != "INFO" else "warning", access_log=False,
        lifespan="on", http=protocol, loop="uvloop", timeout_keep_alive=60,
        server_header=False, date_header=False,
        proxy_headers=bool(proxies), forwarded_allow_ips=list(proxies)))
    # uvicorn stops gracefully on SIGTERM, then raises the signal again under the handler it
    # found: make that a KeyboardInterrupt too, so SIGTERM exits 0 like Ctrl-C (README).
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if tls_server is None or tls_sock is None:
            server.run(sockets=[sock])
        else:
            from uvicorn._compat import asyncio_run

            asyncio_run(serve_both(server, sock, tls_server, tls_sock),
                        loop_factory=server.config.get_loop_factory())
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C or SIGTERM it handled
        pass
    if not server.started:  # the lifespan start-up failed (logged above)
        sys.exit(EXIT_START_FAILED)
