"""A cloud serving HTTPS (its own generated CA) for the console and HTTPS tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # consolehelp

from cloudproc import CloudProcess, running_cloud  # noqa: E402


@pytest.fixture(scope="module")
def tls_cloud() -> Iterator[CloudProcess]:
    """A cloud with an HTTPS endpoint on a free port."""
    with running_cloud(https=True) as c:
        yield c
