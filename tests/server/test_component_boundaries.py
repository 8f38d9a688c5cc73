"""Component boundaries (reference eucalyptus.md §1.3): who may import whom, and the
typed ports the composition root wires.

The storage controller is a component of its own: it must not import the CLC (whose
records, handlers and helpers it used to reach into); the ports name only the messages
they carry.  A cloud built from a configuration hands each component the others'
ports as typed attributes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cloud import Cloud
from server.config import load

SERVER = Path(__file__).resolve().parents[2] / "server"


def _imports(package: str) -> dict[str, set[str]]:
    """Module file -> the server modules it imports (at any level, typing-only included)."""
    out: dict[str, set[str]] = {}
    for path in sorted((SERVER / package).glob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        out[path.name] = {n for n in names if n.startswith("server")}
    return out


def test_storage_controller_does_not_import_the_clc() -> None:
    for module, names in _imports("sc").items():
        assert not {n for n in names if n.startswith(("server.clc", "server.cloud"))}, module


def test_ports_name_only_messages() -> None:
    allowed = ("server.sc.model", "server.auth.identity", "server.db.record",
               "server.walrus.bundle", "server.nc.types", "server.nc.sensors")
    for module, names in _imports("ports").items():
        assert all(n.startswith(allowed) for n in names), (module, names)


def test_ebs_api_lives_in_the_clc() -> None:
    sc_files = {p.name for p in (SERVER / "sc").glob("*.py")}
    assert not sc_files & {"volumes.py", "snapshots.py", "ebs.py"}



def test_ebs_actions_are_the_clcs(cloud: Cloud) -> None:
    for name in ("CreateVolume", "AttachVolume", "DescribeVolumes", "CreateSnapshot",
                 "DescribeSnapshots", "CreateImage"):
        handler = cloud.ec2.actions[name]
        assert getattr(handler, "handler", handler).__module__.startswith("server.clc."), name


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    """An in-process cloud of the default configuration (nothing served)."""
    c = Cloud(load(None, data_dir=str(tmp_path)))
    yield c
    c.engine.dispose()


def test_composition_root_wires_typed_ports(cloud: Cloud) -> None:
    from server.clc.ebs import BlockStorage
    from server.nc.images import ImageStore
    from server.sc.controller import StorageController
    from server.walrus.service import Walrus

    assert isinstance(cloud.walrus, Walrus)
    assert isinstance(cloud.ebs, BlockStorage)
    assert cloud.ebs.clc is cloud.clc and cloud.ebs.clusters is cloud.clusters
    assert set(cloud.ebs.zones) == {z.name for z in cloud.config.zones}
    assert all(isinstance(sc, StorageController) for sc in cloud.ebs.zones.values())
    assert isinstance(cloud.image_source, ImageStore)
    assert cloud.image_source.walrus is cloud.walrus
    assert cloud.certificate_path and Path(cloud.certificate_path).exists()
