"""Shared fixtures: real ``eucalyptus-cloud`` processes (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

sys.path.append(os.path.dirname(__file__))  # cloudproc; after the repo root

from cloudproc import CloudProcess, cleanup, new_cloud, postgres_url, running_cloud  # noqa: E402

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("CI_PG_DSN") else [])


@pytest.fixture(scope="session", params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    """Each database backend the API tests run against."""
    return str(request.param)


@pytest.fixture(scope="module")
def cloud(database: str) -> Iterator[CloudProcess]:
    """A default cloud (one zone of 4 virtual nodes) for a test module."""
    with running_cloud(database=postgres_url() if database == "postgresql" else None) as c:
        yield c


@pytest.fixture
def make_cloud() -> Iterator[Callable[..., CloudProcess]]:
    """Start clouds with a given TOML config; all are stopped afterwards."""
    made: list[CloudProcess] = []

    def factory(config_text: str = "", start: bool = True, postgres: bool = False) -> CloudProcess:
        c = new_cloud(config_text, database=postgres_url() if postgres else None)
        made.append(c)
        return c.start() if start else c

    yield factory
    for c in made:
        cleanup(c)
