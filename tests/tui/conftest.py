"""TUI test helpers: the fake cloud module on sys.path, and AWS played by moto."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """AWS credentials in the environment, an empty user config, moto answering for AWS."""
    moto = pytest.importorskip("moto")
    for var in ("EUCA_DEFAULT_REGION", "AWS_DEFAULT_REGION", "EC2_URL", "S3_URL", "AWS_ELB_URL",
                "EUCA_ELB_URL", "AWS_CREDENTIAL_FILE", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "empty.ini").write_text("")
    monkeypatch.setenv("EUCA_CONFIG_PATH", str(tmp_path / "empty.ini"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTUI")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    with moto.mock_aws():
        yield
