"""A record the database refuses is dropped alone: the writes beside it and every later
flush still land (a refused write kept for retrying failed every request after it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cloudproc import postgres_url

from server.db.store import Store, make_engine, migrate


def _store(url: str) -> Store:
    engine = make_engine(url)
    migrate(engine)
    return Store(engine)


def test_a_refused_record_does_not_block_the_others(tmp_path: Path) -> None:
    store = _store(f"sqlite:///{tmp_path / 'cloud.db'}")
    store.put("key_pair", "111:good", "111", {"n": 1})
    store.put("key_pair", "111:bad", None, {"n": 2})  # type: ignore[arg-type]
    store.delete("key_pair", "111:never")
    store.flush()
    assert not store.dirty
    store.put("key_pair", "111:later", "111", {"n": 3})
    store.flush()
    assert {rid for rid, _, _ in store.load("key_pair")} == {"111:good", "111:later"}


def test_long_record_keys_on_postgresql() -> None:
    """A key pair's record key is ``account:name`` with names up to 255 characters."""
    url = postgres_url()
    if url is None:
        pytest.skip("CI_PG_DSN names no PostgreSQL server")
    store = _store(url)
    long_id = "123456789012:" + "k" * 255
    store.put("key_pair", long_id, "123456789012", {"n": 1})
    store.flush()
    assert [rid for rid, _, _ in store.load("key_pair")] == [long_id]
