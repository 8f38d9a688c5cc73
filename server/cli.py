"""``eucalyptus-cloud``: run the whole cloud in one process."""

from __future__ import annotations

import logging
import sys

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML configuration file (default: the embedded single-zone cloud).")
@click.option("--data-dir", help="Data directory (overrides [cloud] data_dir).")
@click.option("--listen", help="HOST:PORT to listen on (default 127.0.0.1:8773).")
@click.option("--log-level", default=None,
              type=click.Choice(["debug", "info", "warning", "error"]),
              help="Log level (overrides [cloud] log_level).")
@click.version_option(package_name="eucalyptus-py", prog_name="eucalyptus-cloud")
def main(config_path: str | None, data_dir: str | None, listen: str | None,
         log_level: str | None) -> None:
    """Run a Eucalyptus cloud: EC2, IAM, STS, S3 (Walrus), EBS, CC and NCs in one process."""
    from server.config import ConfigError, load

    try:
        config = load(config_path, data_dir=data_dir, listen=listen)
    except ConfigError as exc:
        click.echo(f"eucalyptus-cloud: error: {exc}", err=True)
        sys.exit(2)
    level = (log_level or config.cloud["log_level"]).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    from server.cloud import Cloud

    try:
        cloud = Cloud(config)
    except Exception as exc:  # e.g. database unreachable: one line, not a traceback
        click.echo(f"eucalyptus-cloud: error: {exc}", err=True)
        sys.exit(1)
    host, port = config.host_port
    click.echo(f"eucalyptus-cloud: serving {config.public_url} "
               f"(data in {config.data_dir}; credentials in {cloud.client_config_path})",
               err=True)
    import uvicorn

    from server.protocol.zerocopy import ZeroCopyProtocol

    # X-Forwarded-For/-Proto are believed only from the proxies the configuration names
    # (uvicorn would believe any local process): the metadata service and aws:SourceIp
    # conditions trust the client address.
    proxies = config.cloud["trusted_proxies"]
    protocol = ZeroCopyProtocol.configured(header_timeout=config.cloud["header_timeout_seconds"])
    uvicorn.run(cloud.app, host=host, port=port, log_level=level.lower() if level != "INFO"
                else "warning", access_log=False, lifespan="on", http=protocol,
                loop="uvloop", timeout_keep_alive=60, server_header=False, date_header=False,
                proxy_headers=bool(proxies), forwarded_allow_ips=list(proxies))
