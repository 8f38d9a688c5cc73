"""Lifecycle expiration runs on the cloud's clock: rules by prefix, days and date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.walrus.lifecycle import expire


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


def test_complete_refuses_a_replaced_part(walrus: Any) -> None:
    """A part re-uploaded while CompleteMultipartUpload runs fails the completion, so the
    object never points at the blob the replacement deletes."""
    from server.walrus import errors as e

    store = walrus.store
    walrus.create_system_bucket("race")
    bucket = store.bucket("race")
    upload_id = store.create_upload("race", "k", {"owner_id": bucket["account_id"],
                                                  "content_type": "", "headers": "{}",
                                                  "meta": "{}", "acl": "{}"})
    first = walrus.provider.writer()
    first.write(b"one")
    store.put_part(upload_id, 1, first.commit(), 3, first.md5.hexdigest(), None)
    seen = {p["part_number"]: p["blob"] for p in store.list_parts(upload_id)}
    second = walrus.provider.writer()
    second.write(b"two")
    store.put_part(upload_id, 1, second.commit(), 3, second.md5.hexdigest(), None)
    fields = {"owner_id": bucket["account_id"], "content_type": "", "headers": "{}",
              "meta": "{}", "acl": "{}", "size": 3, "etag": "x-1",
              "blobs": json.dumps([[seen[1], 3]]), "parts": "[3]"}
    with pytest.raises(e.InvalidPart):
        store.finish_upload(store.upload("race", "k", upload_id), bucket, fields, seen)
    with pytest.raises(e.NoSuchKey):
        store.head("race", "k")


def test_noncurrent_versions_markers_and_uploads(walrus: Any, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"v")
    walrus.create_system_bucket("lc-nc")
    store = walrus.store
    store.update_bucket("lc-nc", versioning="Enabled")
    for _ in range(3):
        walrus.put_object_from_file("lc-nc", "doc", str(src))
    walrus.put_object_from_file("lc-nc", "gone", str(src))
    walrus.delete_object("lc-nc", "gone")  # a marker over one version
    bucket = store.bucket("lc-nc")
    upload_id = store.create_upload("lc-nc", "big", {"owner_id": bucket["account_id"],
                                                     "content_type": "", "headers": "{}",
                                                     "meta": "{}", "acl": "{}"})
    rules = [{"id": "nc", "status": "Enabled", "prefix": "", "filter": True, "days": None,
              "date": None, "delete_markers": True, "noncurrent_days": 1, "abort_days": 2}]
    store.update_bucket("lc-nc", lifecycle=json.dumps(rules))
    now = walrus.cloud.clock.now()
    assert expire(store, now) == 0
    # Three days on: the two old "doc" versions and the version under the marker go, the
    # marker (now alone) goes, and so does the upload.
    assert expire(store, now + 3 * 86400) == 5
    left = store.scan_versions("lc-nc", "", "", True, None, 100)
    assert [(v["key"], v["is_latest"]) for v in left] == [("doc", True)]
    assert store.list_uploads("lc-nc", "") == []
    del upload_id
