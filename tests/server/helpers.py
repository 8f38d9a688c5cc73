"""Helpers for API tests: waiting for instance states."""

from __future__ import annotations

import time
from typing import Any


def wait_state(ec2: Any, ids: list[str], state: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Poll DescribeInstances until every instance is in ``state``."""
    deadline = time.time() + timeout
    last: list[dict[str, Any]] = []
    while time.time() < deadline:
        resp = ec2.describe_instances(InstanceIds=ids)
        last = [i for r in resp["Reservations"] for i in r["Instances"]]
        if last and all(i["State"]["Name"] == state for i in last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {state}: {[i['State'] for i in last]}")


def error_code(exc: Any) -> str:
    """The AWS error code of a botocore ClientError."""
    return str(exc.value.response["Error"]["Code"])
