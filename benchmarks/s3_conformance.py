"""Run an S3 conformance suite (Ceph's s3-tests, boto3 flavour) against Walrus and
moto_server, side by side, and print how many tests each passes.

The suite itself is not part of this repository: point ``--suite`` at a checkout of it
(the directory holding ``s3tests_boto3/``, or ``s3tests/`` in newer layouts).  For each
target this script starts a throw-away server, creates the three identities the suite
needs (``main``, ``alt`` and ``tenant``: three Eucalyptus accounts made through Euare on
Walrus; three access keys on moto), writes the suite's ``S3TEST_CONF`` file, runs pytest
on the suite's test module and reads the JUnit report.

    .venv/bin/python benchmarks/s3_conformance.py --suite ~/src/s3-tests \\
        [--target walrus|moto|both] [--python PATH] [-k EXPR] [--module PATH] [--keep]

``--python`` names the interpreter that has the suite's own requirements installed (its
``requirements.txt``: boto3, pytest, isodate, pytz, ...); by default this venv's.
Figures, not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import boto3
import harness
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

IDENTITIES = ("main", "alt", "tenant")


class Target:
    """A running server and the suite's three identities on it."""

    def __init__(self, name: str, port: int, proc: subprocess.Popen[bytes], tmp: str,
                 keys: dict[str, tuple[str, str]]):
        self.name, self.port, self.proc, self.tmp, self.keys = name, port, proc, tmp, keys

    @property
    def url(self) -> str:
        """The endpoint the suite talks to (the server root: path-style S3)."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate the server and remove its files."""
        harness.Served(self.proc, self.port, self.tmp, "", "").stop()


def start_walrus() -> Target:
    """eucalyptus-cloud in a temp dir, with three accounts created through Euare."""
    cloud = harness.start_cloud("s3conf-walrus-")
    port = cloud.port
    signer = SigV4Auth(Credentials(cloud.key, cloud.secret), "iam", "us-east-1")
    endpoint = f"http://127.0.0.1:{port}/services/Euare"

    def euare(params: dict[str, str]) -> str:
        req = AWSRequest("POST", endpoint, data=params | {"Version": "2010-05-08"},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        signer.add_auth(req)
        resp = requests.post(endpoint, data=req.body, headers=dict(req.headers), timeout=30)
        if resp.status_code != 200:
            raise SystemExit(f"Euare {params['Action']}: {resp.status_code} {resp.text}")
        return str(resp.text)

    keys = {}
    for who in IDENTITIES:
        account = f"s3tests-{who}"
        euare({"Action": "CreateAccount", "AccountName": account})
        text = euare({"Action": "CreateAccessKey", "UserName": "admin",
                      "DelegateAccount": account})
        key = re.search(r"<AccessKeyId>([^<]+)<", text)
        secret = re.search(r"<SecretAccessKey>([^<]+)<", text)
        assert key and secret
        keys[who] = (key.group(1), secret.group(1))
    return Target("walrus", port, cloud.proc, cloud.tmp, keys)


def start_moto() -> Target:
    """moto_server with three arbitrary keys (moto accepts any)."""
    moto = harness.start_moto("s3conf-moto-")
    keys = {who: (f"AKIA{who.upper():0<16}", f"{who}-secret") for who in IDENTITIES}
    return Target("moto", moto.port, moto.proc, moto.tmp, keys)


def write_config(target: Target, path: str) -> None:
    """The suite's S3TEST_CONF: endpoint, then each identity's keys, owner ID and name."""
    lines = ["[DEFAULT]", "host = 127.0.0.1", f"port = {target.port}", "is_secure = False",
             "ssl_verify = False", "", "[fixtures]", "bucket prefix = s3t-{random}-", ""]
    for who, (key, secret) in target.keys.items():
        client = boto3.client("s3", endpoint_url=target.url, region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key=secret)
        owner = client.list_buckets().get("Owner", {})
        lines += [f"[s3 {who}]", f"access_key = {key}", f"secret_key = {secret}",
                  f"display_name = {owner.get('DisplayName') or who}",
                  f"user_id = {owner.get('ID', '')}", f"email = {who}@example.com", ""]
    Path(path).write_text("\n".join(lines))


def find_module(suite: Path) -> Path:
    """The suite's main S3 test module."""
    for rel in ("s3tests_boto3/functional/test_s3.py", "s3tests/functional/test_s3.py"):
        if (suite / rel).exists():
            return suite / rel
    raise SystemExit(f"no s3tests_boto3/functional/test_s3.py under {suite}")


def run_suite(target: Target, suite: Path, module: Path, python: str, extra: list[str]
              ) -> Counter[str]:
    """Run pytest on ``module`` against ``target``; outcome counts from the JUnit report."""
    conf = os.path.join(target.tmp, "s3tests.conf")
    report = os.path.join(target.tmp, "report.xml")
    write_config(target, conf)
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
           str(module), *extra]
    subprocess.call(cmd, cwd=suite, env=dict(os.environ, S3TEST_CONF=conf))
    counts: Counter[str] = Counter()
    for case in ET.parse(report).iter("testcase"):
        if case.find("skipped") is not None:
            counts["skipped"] += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        else:
            counts["passed"] += 1
    return counts


def main() -> None:
    """Run the suite against each target and print a table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", required=True, type=Path, help="s3-tests checkout")
    parser.add_argument("--module", type=Path, help="test module (default: test_s3.py)")
    parser.add_argument("--target", choices=("walrus", "moto", "both"), default="both")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with the suite's requirements")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    args = parser.parse_args()
    module = args.module or find_module(args.suite)
    extra = ["-k", args.keyword] if args.keyword else []
    starters = {"walrus": start_walrus, "moto": start_moto}
    names = ["walrus", "moto"] if args.target == "both" else [args.target]
    results = {}
    for name in names:
        target = starters[name]()
        try:
            results[name] = run_suite(target, args.suite, module, args.python, extra)
        finally:
            target.stop()
    print(f"{'':10}{'passed':>8}{'failed':>8}{'skipped':>9}")
    for name, counts in results.items():
        print(f"{name:10}{counts['passed']:>8}{counts['failed']:>8}{counts['skipped']:>9}")


if __name__ == "__main__":
    main()
