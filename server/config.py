"""The cloud's configuration: a TOML file, validated, with documented defaults.

Every key is declared once below with its type and default; an unknown key or a bad
value is a :class:`ConfigError` whose message names the key.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any


class ConfigError(Exception):
    """A configuration problem; the message names the key."""


#: [cloud] keys: name -> (type, default, description)
CLOUD_KEYS: dict[str, tuple[type, Any, str]] = {
    "data_dir": (str, "./data", "directory for the database, objects, volumes and euca2ools.ini"),
    "listen": (str, "127.0.0.1:8773", "HOST:PORT the HTTP server listens on"),
    "https_listen": (str, "127.0.0.1:8443",
                     "HOST:PORT of the HTTPS endpoint (\"\" = none); plain HTTP stays on listen"),
    "tls_cert": (str, "", "PEM certificate (chain) of the HTTPS endpoint (default: generated)"),
    "tls_key": (str, "", "PEM private key of tls_cert"),
    "tls_ca": (str, "", "CA clients verify tls_cert against (default: tls_cert itself)"),
    "console_session_seconds": (float, 3600.0,
                                "how long a web console log-in lasts (cloud clock)"),
    "database": (str, "", "SQLAlchemy URL; default sqlite:///DATA_DIR/cloud.db"),
    "public_url": (str, "", "base URL clients use (default http://LISTEN)"),
    "region": (str, "localhost", "region name reported by DescribeRegions"),
    "terminated_retention_seconds": (float, 3600.0,
                                     "how long terminated instances stay in Describe"),
    "pending_timeout_seconds": (float, 3600.0,
                                "an instance still pending after this long is terminated"),
    "clock_speed": (float, 1.0, "accelerate the cloud's clock (testing, trace replay)"),
    "dns_domain": (str, "eucalyptus.internal", "domain of instance host names"),
    "dns_port": (int, 0, "port of the DNS service on 127.0.0.1 answering for dns_domain "
                         "(0 = no DNS service)"),
    "max_instances_per_account": (int, 0, "0 = unlimited"),
    "metadata_secret": (str, "", "shared secret for the metadata proxy's signed headers"),
    "log_level": (str, "info", "debug | info | warning | error"),
    "trusted_proxies": (list, [], "addresses/CIDRs of proxies whose X-Forwarded-* are believed"),
    "header_timeout_seconds": (float, 30.0,
                               "close a connection whose request line and headers take longer"),
    "walrus_lifecycle_day_seconds": (float, 86400.0,
                                     "length of a day in Walrus lifecycle rules (testing)"),
    "elb_netns": (str, "", "network namespace the load balancers' HAProxy run in "
                           "(\"\" = the host's)"),
    "elb_subnet": (str, "", "loopback subnet of the load balancers' addresses "
                            "(default 127.N.0.0/16 chosen from the data dir)"),
    "elb_haproxy": (str, "haproxy", "the HAProxy binary of the load balancers"),
    "elb_log_minute_seconds": (float, 60.0,
                               "length of a minute of ELB access-log intervals (testing)"),
}

#: The values of [cloud] log_level (and of --log-level).
LOG_LEVELS = ("debug", "info", "warning", "error")

def _check_database_url(url: str) -> None:
    """A database URL SQLAlchemy can parse, of a dialect it has: checked with the rest of
    the configuration, before the data dir is touched."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(f"cloud.database: {exc}") from None


#: [[zones]] keys: name -> (type, default, description)
ZONE_KEYS: dict[str, tuple[type, Any, str]] = {
    "name": (str, None, "zone (cluster) name"),
    "scheduler": (str, "ROUNDROBIN", "GREEDY | ROUNDROBIN | POWERSAVE"),
    "hypervisor": (str, "virtual", "virtual | libvirt"),
    "libvirt_uri": (str, "test:///default", "libvirt connection URI (libvirt hypervisor)"),
    "nodes": (int, 4, "number of nodes (all alike)"),
    "node_cores": (int, 8, "cores per node"),
    "node_memory_mb": (int, 16384, "memory per node, MB"),
    "node_disk_gb": (int, 200, "instance disk per node, GB"),
    "boot_seconds": (float, 1.0, "virtual hypervisor: time from staging to running"),
    "staging_seconds": (float, 0.0, "virtual hypervisor: image staging time"),
    "teardown_seconds": (float, 0.5, "virtual hypervisor: time to tear an instance down"),
    "power_idle_seconds": (float, 300.0, "POWERSAVE: idle time before a node powers down"),
    "power_wake_seconds": (float, 60.0, "POWERSAVE: time a sleeping node takes to wake"),
    "private_subnet": (str, "", "instances' private addresses (default 10.N.0.0/16)"),
    "public_ips": (list, None, "public address pool: addresses or FIRST-LAST ranges"),
    "storage_backend": (str, "file", "EBS backend: file | virtual"),
    "max_volume_gb": (int, 100, "largest volume, GB"),
    "max_total_volume_gb": (int, 500, "total volume capacity of the zone, GB"),
    "poll_interval": (float, 0.0, "CC polls NCs every N s (0 = NCs report at once)"),
    "network": (str, "", "guest networking: \"\" (records only) | edge (libvirt: bridge, "
                "DHCP, NAT, enforced security groups, metadata)"),
    "network_bridge": (str, "eucabr0", "edge: the zone's bridge on each node"),
    "network_namespace": (str, "", "edge: network namespace of bridge, taps, dnsmasq and "
                          "rules (\"\" = the node's own)"),
    "network_public_interface": (str, "", "edge: interface given the public /32s (\"\" = none)"),
    "network_metadata_port": (int, 8775, "edge: port of the node's metadata proxy"),
}

_SCHEDULERS = ("GREEDY", "ROUNDROBIN", "POWERSAVE")
_HYPERVISORS = ("virtual", "libvirt")


@dataclass
class ZoneConfig:
    """One zone: a cluster controller with its nodes."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def public_addresses(self) -> list[str]:
        """The public pool expanded to single addresses."""
        out: list[str] = []
        for item in self.values["public_ips"]:
            first, _, last = item.partition("-")
            a = ipaddress.IPv4Address(first.strip())
            b = ipaddress.IPv4Address(last.strip()) if last else a
            out.extend(str(ipaddress.IPv4Address(n)) for n in range(int(a), int(b) + 1))
        return out


@dataclass
class CloudConfig:
    """The whole configuration."""

    cloud: dict[str, Any]
    zones: list[ZoneConfig] = field(default_factory=list)

    @property
    def data_dir(self) -> str:
        """The data directory (absolute)."""
        return os.path.abspath(str(self.cloud["data_dir"]))

    @property
    def database_url(self) -> str:
        """The database URL (SQLite in the data dir by default)."""
        return str(self.cloud["database"]) or f"sqlite:///{os.path.join(self.data_dir, 'cloud.db')}"

    @property
    def host_port(self) -> tuple[str, int]:
        """The listen address split into host and port."""
        host, _, port = self.cloud["listen"].rpartition(":")
        return host or "127.0.0.1", int(port)

    @property
    def https_host_port(self) -> tuple[str, int] | None:
        """The HTTPS listen address, or None when the cloud serves no HTTPS."""
        if not self.cloud["https_listen"]:
            return None
        host, _, port = self.cloud["https_listen"].rpartition(":")
        return host or "127.0.0.1", int(port)

    @property
    def https_url(self) -> str | None:
        """The HTTPS base URL clients use (None without HTTPS): ``public_url`` when it is
        an https one, else the HTTPS port at ``public_url``'s host (the name clients know
        the cloud by), else at the listen address."""
        if self.cloud["public_url"].startswith("https://"):
            return str(self.cloud["public_url"]).rstrip("/")
        address = self.https_host_port
        if address is None:
            return None
        host, port = address
        from urllib.parse import urlsplit

        public = urlsplit(self.cloud["public_url"]).hostname if self.cloud["public_url"] \
            else None
        if public:
            host = public
        elif host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"https://{host}:{port}"

    @property
    def public_url(self) -> str:
        """The URL clients reach the cloud at."""
        if self.cloud["public_url"]:
            return str(self.cloud["public_url"]).rstrip("/")
        host, port = self.host_port
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{port}"


def _check(section: str, key: str, kind: type, value: Any) -> Any:
    where = f"{section}.{key}"
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {type(value).__name__} "
                          f"({value!r})")
    return value


def parse(doc: dict[str, Any], *, data_dir: str | None = None,
          listen: str | None = None, https_listen: str | None = None) -> CloudConfig:
    """Validate a parsed TOML document; command-line values override the file's."""
    for section in doc:
        if section not in ("cloud", "zones"):
            raise ConfigError(f"{section}: unknown section (expected [cloud] and [[zones]])")
    raw_cloud = doc.get("cloud", {})
    if not isinstance(raw_cloud, dict):
        raise ConfigError("cloud: must be a table")
    cloud: dict[str, Any] = {}
    for key, value in raw_cloud.items():
        if key not in CLOUD_KEYS:
            raise ConfigError(f"cloud.{key}: unknown key")
        cloud[key] = _check("cloud", key, CLOUD_KEYS[key][0], value)
    for key, (_, default, _) in CLOUD_KEYS.items():
        cloud.setdefault(key, default)
    if data_dir:
        cloud["data_dir"] = data_dir
    if listen:
        cloud["listen"] = listen
    if https_listen is not None:
        cloud["https_listen"] = "" if https_listen in ("", "off", "none") else https_listen
    if cloud["https_listen"]:
        host, sep, port = cloud["https_listen"].rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ConfigError("cloud.https_listen: expected HOST:PORT or \"\", got "
                              f"{cloud['https_listen']!r}")
    if bool(cloud["tls_cert"]) != bool(cloud["tls_key"]):
        raise ConfigError("cloud.tls_cert: tls_cert and tls_key go together")
    for key in ("tls_cert", "tls_key", "tls_ca"):
        if cloud[key] and not os.path.isfile(cloud[key]):
            raise ConfigError(f"cloud.{key}: {cloud[key]}: no such file")
    host, sep, port = cloud["listen"].rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"cloud.listen: expected HOST:PORT, got {cloud['listen']!r}")
    if cloud["terminated_retention_seconds"] < 0:
        raise ConfigError("cloud.terminated_retention_seconds: must be >= 0")
    if cloud["clock_speed"] <= 0:
        raise ConfigError("cloud.clock_speed: must be > 0")
    if cloud["database"]:
        _check_database_url(str(cloud["database"]))
    if str(cloud["log_level"]).lower() not in LOG_LEVELS:
        raise ConfigError(f"cloud.log_level: expected one of {', '.join(LOG_LEVELS)}, "
                          f"got {cloud['log_level']!r}")
    if cloud["walrus_lifecycle_day_seconds"] <= 0:
        raise ConfigError("cloud.walrus_lifecycle_day_seconds: must be > 0")
    if cloud["console_session_seconds"] <= 0:
        raise ConfigError("cloud.console_session_seconds: must be > 0")
    if cloud["header_timeout_seconds"] <= 0:
        raise ConfigError("cloud.header_timeout_seconds: must be > 0")
    proxies = []
    for entry in cloud["trusted_proxies"]:
        try:
            if not isinstance(entry, str):
                raise ValueError("entries must be strings")
            proxies.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError as exc:
            raise ConfigError(f"cloud.trusted_proxies: {exc}") from None
    cloud["trusted_proxies"] = proxies

    raw_zones = doc.get("zones", [{"name": "zone-1"}])
    if not isinstance(raw_zones, list) or not raw_zones:
        raise ConfigError("zones: expected one or more [[zones]] tables")
    zones: list[ZoneConfig] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_zones):
        if not isinstance(raw, dict):
            raise ConfigError(f"zones[{n}]: must be a table")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in ZONE_KEYS:
                raise ConfigError(f"zones[{n}].{key}: unknown key")
            values[key] = _check(f"zones[{n}]", key, ZONE_KEYS[key][0], value)
        for key, (_, default, _) in ZONE_KEYS.items():
            values.setdefault(key, default)
        name = values["name"]
        if not name:
            raise ConfigError(f"zones[{n}].name: required")
        if name in seen:
            raise ConfigError(f"zones[{n}].name: duplicate zone {name!r}")
        seen.add(name)
        values["scheduler"] = values["scheduler"].upper()
        if values["scheduler"] not in _SCHEDULERS:
            raise ConfigError(f"zones[{n}].scheduler: expected one of {', '.join(_SCHEDULERS)}, "
                              f"got {values['scheduler']!r}")
        if values["hypervisor"] not in _HYPERVISORS:
            raise ConfigError(f"zones[{n}].hypervisor: expected one of "
                              f"{', '.join(_HYPERVISORS)}, got {values['hypervisor']!r}")
        for key in ("nodes", "node_cores", "node_memory_mb", "node_disk_gb"):
            if values[key] < (0 if key == "nodes" else 1):
                raise ConfigError(f"zones[{n}].{key}: must be positive")
        for key in ("boot_seconds", "staging_seconds", "teardown_seconds", "power_idle_seconds",
                    "power_wake_seconds", "poll_interval"):
            if values[key] < 0:
                raise ConfigError(f"zones[{n}].{key}: must be >= 0")
        if values["network"] not in ("", "edge"):
            raise ConfigError(f"zones[{n}].network: expected \"\" or edge, "
                              f"got {values['network']!r}")
        if values["storage_backend"] not in ("file", "virtual"):
            raise ConfigError(f"zones[{n}].storage_backend: expected file or virtual")
        subnet = values["private_subnet"] or f"10.{n + 1}.0.0/16"
        try:
            values["private_subnet"] = str(ipaddress.IPv4Network(subnet, strict=False))
        except ValueError as exc:
            raise ConfigError(f"zones[{n}].private_subnet: {exc}") from None
        if values["public_ips"] is None:
            values["public_ips"] = [f"198.51.100.{10 + 60 * n}-198.51.100.{69 + 60 * n}"
                                    if n < 4 else f"203.0.113.{n}"]
        zone = ZoneConfig(values)
        try:
            if not all(isinstance(x, str) for x in values["public_ips"]):
                raise ValueError("entries must be strings")
            zone.public_addresses()
        except ValueError as exc:
            raise ConfigError(f"zones[{n}].public_ips: {exc}") from None
        zones.append(zone)
    return CloudConfig(cloud, zones)


def load(path: str | None, *, data_dir: str | None = None, listen: str | None = None,
         https_listen: str | None = None) -> CloudConfig:
    """Read and validate a TOML config file (or the embedded default when ``path`` is None)."""
    doc: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as fh:
                doc = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"{path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse(doc, data_dir=data_dir, listen=listen, https_listen=https_listen)
