"""Run the EC2 negative-case table (tests/server/test_ec2_error_conformance.py) against
eucalyptus-cloud and moto_server, side by side, and print how many cases each answers
with the error code and HTTP status AWS documents.

    .venv/bin/python benchmarks/ec2_conformance.py [--target eucalyptus|moto|both] [-v]

The table's expectations are an EC2-Classic account's, with an instance-store image (this
cloud's default); moto's default images are EBS-backed and its account is a VPC one, so a
few of its differences are the setting's rather than errors.  ``-v`` lists every case that
differs, with what came back.  Figures, not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3
import harness
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests", "server"), os.path.join(HERE, "..", "tests")]

import test_ec2_error_conformance as table  # noqa: E402

Row = tuple[str, dict[str, Any], str, int, str]


def _client(url: str, key: str, secret: str) -> Any:
    return boto3.client("ec2", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def _rows() -> list[Row]:
    """The table's cases as (call, params, code, status, id)."""
    return [(*p.values, p.id) for p in table.CASES]


def run(name: str, user: Any, admin: Any, verbose: bool) -> tuple[int, int, float]:
    """Build the world, run every case; (matching, total, seconds for the cases)."""
    try:
        world = table.build_world(user, admin)
    except Exception as exc:  # noqa: BLE001 - a peer that cannot set the scene
        print(f"{name}: could not create the resources the cases use: {exc}")
        return 0, len(table.CASES), 0.0
    good = 0
    rows = _rows()
    start = time.perf_counter()
    for call, params, code, status, case_id in rows:
        got: tuple[str, int] | str
        fn: Callable[..., Any] | None = getattr(user, call, None)
        try:
            if fn is None:
                raise AttributeError(call)
            fn(**table._fill(params, world))
            got = "succeeded"
        except ClientError as err:
            got = (str(err.response["Error"]["Code"]),
                   int(err.response["ResponseMetadata"]["HTTPStatusCode"]))
        except Exception as exc:  # noqa: BLE001 - count it as a difference (a 500 page, ...)
            got = f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}"
        if got == (code, status):
            good += 1
        elif verbose:
            print(f"  {name:10} {case_id:55} want {code} {status}, got {got}")
    return good, len(rows), time.perf_counter() - start


def main() -> None:
    """Parse the arguments, start the targets, print the figures side by side."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", choices=("eucalyptus", "moto", "both"), default="both")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the differences")
    args = ap.parse_args()
    results: list[tuple[str, int, int, float]] = []
    if args.target in ("eucalyptus", "both"):
        cloud = harness.start_cloud("ec2conf-")
        try:
            from helpers import new_account

            class _Cloud:  # what new_account needs of a test cloud
                url = f"http://127.0.0.1:{cloud.port}"

                @staticmethod
                def credentials() -> dict[str, str]:
                    return {"key": cloud.key, "secret": cloud.secret}

            _, key, secret = new_account(_Cloud, "conformance")
            url = f"{_Cloud.url}/services/compute"
            results.append(("eucalyptus", *run("eucalyptus", _client(url, key, secret),
                                                 _client(url, cloud.key, cloud.secret),
                                                 args.verbose)))
        finally:
            cloud.stop()
    if args.target in ("moto", "both"):
        moto = harness.start_moto()
        try:
            client = _client(f"http://127.0.0.1:{moto.port}", moto.key, moto.secret)
            results.append(("moto", *run("moto", client, client, args.verbose)))
        finally:
            moto.stop()
    print(f"{'target':12} {'AWS code and status':>20} {'cases':>6} {'time (s)':>9}")
    for name, good, total, seconds in results:
        print(f"{name:12} {good:>20} {total:>6} {seconds:>9.2f}")


if __name__ == "__main__":
    main()
