"""Run the EC2 conformance tables (tests/server/test_ec2_error_conformance.py and
test_ec2_error_conformance2.py) against eucalyptus-cloud and moto_server, side by side,
and print how many cases each answers as AWS documents: the error code and HTTP status
of each negative case (boto3 calls, and signed raw Query requests boto3 would not send),
and success for the calls AWS accepts.

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
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests", "server"), os.path.join(HERE, "..", "tests")]

import test_ec2_error_conformance as table  # noqa: E402
import test_ec2_error_conformance2 as table2  # noqa: E402

#: (kind, call or action, params, code, status, id): kind "boto3" (an error), "raw" (a
#: signed Query request's error) or "ok" (a boto3 call that must succeed).
Row = tuple[str, str, dict[str, Any], str, int, str]


def _client(url: str, key: str, secret: str) -> Any:
    return boto3.client("ec2", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def _rows(first: bool) -> list[Row]:
    """The first table's cases, or the second's (boto3 errors, raw requests, successes)."""
    if first:
        return [("boto3", *p.values, p.id) for p in table.CASES]
    return ([("boto3", *p.values, p.id) for p in table2.CASES]
            + [("raw", *p.values, p.id) for p in table2.RAW_CASES]
            + [("ok", *p.values, "", 200, p.id) for p in table2.ACCEPTED])


class Target:
    """A server under test: its EC2 endpoint and the tables' user's keys."""

    def __init__(self, name: str, url: str, key: str, secret: str):
        self.name, self.url, self.key, self.secret = name, url, key, secret
        self.user = _client(url, key, secret)

    def raw(self, action: str, params: dict[str, str]) -> tuple[str, int] | str:
        """A signed Query request: the error code and status, or "succeeded"."""
        req = AWSRequest("POST", self.url, data={"Action": action, "Version": "2016-11-15",
                                                 **params},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        SigV4Auth(Credentials(self.key, self.secret), "ec2", "us-east-1").add_auth(req)
        resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=30)
        if resp.status_code < 300:
            return "succeeded"
        start = resp.text.find("<Code>")
        code = resp.text[start + 6:resp.text.find("</Code>")] if start >= 0 else "?"
        return code, resp.status_code


def _answer(target: Target, kind: str, call: str, params: dict[str, Any]) -> Any:
    """What ``target`` answers to one row: (code, status), "succeeded" or a failure."""
    if kind == "raw":
        return target.raw(call, params)
    fn: Callable[..., Any] | None = getattr(target.user, call, None)
    try:
        if fn is None:
            raise AttributeError(call)
        fn(**params)
        return ("", 200) if kind == "ok" else "succeeded"
    except ClientError as err:
        return (str(err.response["Error"]["Code"]),
                int(err.response["ResponseMetadata"]["HTTPStatusCode"]))
    except Exception as exc:  # noqa: BLE001 - count it as a difference (a 500 page, ...)
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}"


def run(target: Target, admin: Any, verbose: bool) -> list[tuple[int, int, float]]:
    """Build each table's world and run its cases: (matching, total, seconds) per table."""
    results = []
    world: dict[str, str] | None = None
    for first in (True, False):
        rows = _rows(first)
        try:
            world = table.build_world(target.user, admin) if first else \
                table2.build_more(target.user, world or {})
        except Exception as exc:  # noqa: BLE001 - a peer that cannot set the scene
            print(f"{target.name}: could not create the resources the cases use: {exc}")
            results.append((0, len(rows), 0.0))
            continue
        good = 0
        start = time.perf_counter()
        for kind, call, params, code, status, case_id in rows:
            got = _answer(target, kind, call, table._fill(params, world))
            if got == (code, status):
                good += 1
            elif verbose:
                want = "success" if kind == "ok" else f"{code} {status}"
                print(f"  {target.name:10} {kind:5} {case_id:55} want {want}, got {got}")
        results.append((good, len(rows), time.perf_counter() - start))
    return results


#: The tables' names in the figures.
TABLES = ("first", "second")


def main() -> None:
    """Parse the arguments, start the targets, print the figures side by side."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", choices=("eucalyptus", "moto", "both"), default="both")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the differences")
    args = ap.parse_args()
    results: list[tuple[str, str, int, int, float]] = []
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
            figures = run(Target("eucalyptus", url, key, secret),
                          _client(url, cloud.key, cloud.secret), args.verbose)
            results += [("eucalyptus", name, *f) for name, f in zip(TABLES, figures, strict=True)]
        finally:
            cloud.stop()
    if args.target in ("moto", "both"):
        moto = harness.start_moto()
        try:
            target = Target("moto", f"http://127.0.0.1:{moto.port}/", moto.key, moto.secret)
            figures = run(target, target.user, args.verbose)
            results += [("moto", name, *f) for name, f in zip(TABLES, figures, strict=True)]
        finally:
            moto.stop()
    print(f"{'target':12} {'table':7} {'as AWS answers':>15} {'cases':>6} {'time (s)':>9}")
    for name, which, good, total, seconds in results:
        print(f"{name:12} {which:7} {good:>15} {total:>6} {seconds:>9.2f}")


if __name__ == "__main__":
    main()
