"""Lifecycle expiration runs on the cloud's clock: rules by prefix, days and date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.walrus.cors import expire


@pytest.fixture(scope="module")
def walrus(tmp_path_factory: Any) -> Any:
    from server.cloud import Cloud
    from server.config import load

    cloud = Cloud(load(None, data_dir=str(tmp_path_factory.mktemp("lc"))))
    yield cloud.components["walrus"]
    cloud.engine.dispose()


def test_expiration_rules(walrus: Any, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x")
    walrus.create_system_bucket("lc-days")
    for key in ("tmp/a", "tmp/b", "keep/c"):
        walrus.put_object_from_file("lc-days", key, str(src))
    rules = [{"id": "tmp", "status": "Enabled", "prefix": "tmp/", "filter": True, "days": 1,
              "date": None},
             {"id": "off", "status": "Disabled", "prefix": "keep/", "filter": True, "days": 1,
              "date": None}]
    walrus.store.update_bucket("lc-days", lifecycle=json.dumps(rules))
    now = walrus.cloud.clock.now()
    assert expire(walrus.store, now) == 0  # nothing is a day old yet
    assert expire(walrus.store, now + 2 * 86400) == 2
    assert walrus.object_size("lc-days", "keep/c") == 1
    with pytest.raises(Exception, match="key"):
        walrus.object_size("lc-days", "tmp/a")


def test_expiration_date_in_versioned_bucket(walrus: Any, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"y")
    walrus.create_system_bucket("lc-date")
    walrus.store.update_bucket("lc-date", versioning="Enabled")
    walrus.put_object_from_file("lc-date", "old", str(src))
    rules = [{"id": "d", "status": "Enabled", "prefix": "", "filter": False, "days": None,
              "date": "2000-01-01T00:00:00Z"}]
    walrus.store.update_bucket("lc-date", lifecycle=json.dumps(rules))
    assert expire(walrus.store, walrus.cloud.clock.now()) == 1
    versions = walrus.store.scan_versions("lc-date", "", "", True, None, 10)
    assert [v["delete_marker"] for v in versions] == [True, False]  # a marker, data kept
