#!/usr/bin/env python3
"""HTTPS cost: IAM ``ListUsers`` through boto3 over the cloud's plain HTTP endpoint and its
HTTPS endpoint (generated CA, verified), side by side, on one keep-alive connection each;
plus the cost of one console password check (scrypt) and of a console log-in round trip.

Prints requests/s (median of N rounds, default 5, of 100 requests, measured alternately)
and their ratio.  Usage: ``python benchmarks/https_bench.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from cloudproc import cleanup, new_cloud  # noqa: E402

REQUESTS = 100


def rate(client: object) -> float:
    """Requests per second of ListUsers."""
    start = time.perf_counter()
    for _ in range(REQUESTS):
        client.list_users()  # type: ignore[attr-defined]
    return REQUESTS / (time.perf_counter() - start)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import boto3
    import requests
    from botocore.config import Config

    from server.auth.login import check_password, hash_password

    cloud = new_cloud(https=True)
    cloud.start()
    try:
        creds = cloud.credentials()
        common = {"region_name": "us-east-1", "aws_access_key_id": creds["key"],
                  "aws_secret_access_key": creds["secret"],
                  "config": Config(retries={"max_attempts": 1})}
        plain = boto3.client("iam", endpoint_url=cloud.url + "/services/Euare", **common)
        tls = boto3.client("iam", endpoint_url=cloud.https_url + "/services/Euare",
                           verify=str(cloud.ca), **common)
        rate(plain), rate(tls)  # warm up both connections
        http_rates, https_rates = [], []
        for _ in range(args.rounds):
            http_rates.append(rate(plain))
            https_rates.append(rate(tls))
        stored = hash_password("benchmark password")
        start = time.perf_counter()
        for _ in range(10):
            check_password("benchmark password", stored)
        scrypt_ms = (time.perf_counter() - start) * 100
        password = (cloud.data_dir / "admin-password").read_text().strip()
        session = requests.Session()
        times = []
        for _ in range(5):
            page = session.get(cloud.https_url + "/console/login", verify=str(cloud.ca))
            token = page.text.split('name="csrf" value="')[1].split('"')[0]
            start = time.perf_counter()
            session.post(cloud.https_url + "/console/login", verify=str(cloud.ca),
                         data={"csrf": token, "account": "eucalyptus", "user": "admin",
                               "password": password})
            times.append((time.perf_counter() - start) * 1000)
    finally:
        cleanup(cloud)
    h, s = statistics.median(http_rates), statistics.median(https_rates)
    print(f"{'IAM ListUsers, boto3, keep-alive':40} {'HTTP':>10} {'HTTPS':>10} {'ratio':>7}")
    print(f"{'requests/s (median of ' + str(args.rounds) + ' x 100)':40} {h:10.0f} {s:10.0f} "
          f"{s / h:7.2f}")
    print(f"scrypt password check (n=2^14, r=8): {scrypt_ms:.1f} ms")
    print(f"console log-in over HTTPS (POST + page): {statistics.median(times):.1f} ms median")


if __name__ == "__main__":
    main()
