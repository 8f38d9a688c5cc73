"""Configuration: every key validated; bad configs are one line and exit status 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import ConfigError, parse

BIN = Path(sys.executable).parent / "eucalyptus-cloud"


def test_defaults() -> None:
    """No config: one zone-1 of 4 virtual nodes (8 cores, 16384 MB, 200 GB), ROUNDROBIN."""
    cfg = parse({})
    (zone,) = cfg.zones
    assert (zone.name, zone.nodes, zone.node_cores, zone.node_memory_mb, zone.node_disk_gb,
            zone.scheduler, zone.hypervisor) == ("zone-1", 4, 8, 16384, 200, "ROUNDROBIN",
                                                 "virtual")
    assert cfg.cloud["listen"] == "127.0.0.1:8773"
    assert cfg.cloud["terminated_retention_seconds"] == 3600


@pytest.mark.parametrize("doc,key", [
    ({"cloud": {"listen": "nope"}}, "cloud.listen"),
    ({"cloud": {"bogus": 1}}, "cloud.bogus"),
    ({"zones": [{"name": "a", "scheduler": "FASTEST"}]}, "zones[0].scheduler"),
    ({"zones": [{"name": "a", "hypervisor": "xen"}]}, "zones[0].hypervisor"),
    ({"zones": [{"name": "a", "nodes": "two"}]}, "zones[0].nodes"),
    ({"zones": [{"name": "a"}, {"name": "a"}]}, "zones[1].name"),
    ({"zones": [{"name": "a", "private_subnet": "10.0.0.0/33"}]}, "zones[0].private_subnet"),
    ({"zones": [{"name": "a", "public_ips": ["1.2.3.x"]}]}, "zones[0].public_ips"),
    ({"zones": [{"name": "a", "boot_seconds": -1}]}, "zones[0].boot_seconds"),
    ({"extra": {}}, "extra"),
])
def test_bad_values_name_the_key(doc: dict, key: str) -> None:
    """Each bad value's error names its key."""
    with pytest.raises(ConfigError) as err:
        parse(doc)
    assert str(err.value).startswith(key)


def test_full_example_parses() -> None:
    """The issue's example config."""
    cfg = parse({"cloud": {"data_dir": "/tmp/x", "listen": "127.0.0.1:9000",
                           "database": "sqlite:////tmp/x/db"},
                 "zones": [{"name": "zone-a", "scheduler": "GREEDY", "hypervisor": "virtual",
                            "libvirt_uri": "test:///default", "nodes": 2, "node_cores": 4,
                            "node_memory_mb": 4096, "node_disk_gb": 100, "boot_seconds": 1.0,
                            "power_idle_seconds": 300, "power_wake_seconds": 60,
                            "private_subnet": "10.1.0.0/16",
                            "public_ips": ["198.51.100.10-198.51.100.200"]}]})
    assert len(cfg.zones[0].public_addresses()) == 191


def test_cli_bad_config_exits_2(tmp_path: Path) -> None:
    """The server refuses a bad file with one line on stderr and status 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[[zones]]\nname = "z"\nscheduler = "NOPE"\n')
    proc = subprocess.run([str(BIN), "--config", str(bad), "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "zones[0].scheduler" in lines[0]
    broken = tmp_path / "broken.toml"
    broken.write_text("[cloud\n")
    proc = subprocess.run([str(BIN), "--config", str(broken)], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 2 and "invalid TOML" in proc.stderr


def test_cli_port_in_use_exits_3_before_writing(tmp_path: Path) -> None:
    """A busy listen port stops the start-up with one line and status 3, before the data
    directory gets a database, keys or a euca2ools.ini."""
    data = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run([str(BIN), "--listen", f"127.0.0.1:{port}", "--data-dir", str(data)],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("eucalyptus-cloud: error: cannot listen on 127.0.0.1:")
    assert "in use" in lines[0]
    assert "serving" not in proc.stderr and proc.stdout == ""
    assert not data.exists() or not any(data.iterdir())
