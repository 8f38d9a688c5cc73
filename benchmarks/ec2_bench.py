"""EC2 spine benchmark, side by side with moto_server in one run.

Prints: DescribeRegions requests/s over one keep-alive connection, server CPU per
DescribeInstances with 200 instances, RunInstances of 100 instances until all are
running (boot_seconds = 0), server start to first answered request, and idle RSS.

    .venv/bin/python benchmarks/ec2_bench.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import configparser
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import free_port

BIN = os.path.dirname(sys.executable)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Target:
    """A server under test: ours or moto."""

    def __init__(self, name: str, cmd: list[str], port: int, path: str, creds: tuple[str, str],
                 data_dir: str | None = None):
        self.name, self.cmd, self.port, self.path, self.creds = name, cmd, port, path, creds
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start; return seconds until the first answered DescribeRegions."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                if self.data_dir and not os.path.exists(os.path.join(self.data_dir,
                                                                     "euca2ools.ini")):
                    raise OSError
                if self.name == "eucalyptus":
                    cp = configparser.ConfigParser()
                    cp.read(os.path.join(self.data_dir, "euca2ools.ini"))
                    user = next(s for s in cp.sections() if s.startswith("user "))
                    self.creds = (cp[user]["key-id"], cp[user]["secret-key"])
                self.client().describe_regions()
                return time.perf_counter() - t0
            except Exception:
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"{self.name} did not start") from None
                time.sleep(0.01)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self):
        return boto3.client("ec2", endpoint_url=f"http://127.0.0.1:{self.port}{self.path}",
                            region_name="us-east-1", aws_access_key_id=self.creds[0],
                            aws_secret_access_key=self.creds[1])

    def signed(self, params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        body = urlencode({**params, "Version": "2016-11-15"})
        req = AWSRequest("POST", f"http://127.0.0.1:{self.port}{self.path}", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        SigV4Auth(Credentials(*self.creds), "ec2", "us-east-1").add_auth(req)
        return body.encode(), dict(req.headers)


def requests_per_second(t: Target, seconds: float) -> float:
    """DescribeRegions over one keep-alive connection (the same signed request replayed)."""
    body, headers = t.signed({"Action": "DescribeRegions"})
    conn = http.client.HTTPConnection("127.0.0.1", t.port)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        conn.request("POST", t.path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
        n += 1
    return n / (time.perf_counter() - t0)


def describe_cpu(t: Target, image: str, calls: int = 50) -> float:
    """Server CPU ms per DescribeInstances with 200 instances."""
    ec2 = t.client()
    for _ in range(4):
        ec2.run_instances(ImageId=image, MinCount=50, MaxCount=50, InstanceType="m1.small")
    body, headers = t.signed({"Action": "DescribeInstances"})
    conn = http.client.HTTPConnection("127.0.0.1", t.port)
    conn.request("POST", t.path, body=body, headers=headers)
    first = conn.getresponse().read()
    assert first.count(b"<instanceId>") >= 200, first[:300]
    c0 = cpu_seconds(t.proc.pid)
    for _ in range(calls):
        conn.request("POST", t.path, body=body, headers=headers)
        conn.getresponse().read()
    return (cpu_seconds(t.proc.pid) - c0) / calls * 1000


def run_100(t: Target, image: str) -> float:
    """Seconds from RunInstances(100) until DescribeInstances shows all running."""
    ec2 = t.client()
    t0 = time.perf_counter()
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=100, MaxCount=100,
                                                      InstanceType="m1.small")["Instances"]]
    while True:
        states = [i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)
                  ["Reservations"] for i in r["Instances"]]
        if all(s == "running" for s in states):
            return time.perf_counter() - t0
        time.sleep(0.01)


CONFIG = """
[[zones]]
name = "zone-1"
nodes = 100
node_cores = 16
node_memory_mb = 65536
node_disk_gb = 1000
boot_seconds = 0
teardown_seconds = 0
public_ips = ["10.200.0.1-10.200.3.250"]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ec2-bench-")
    try:
        cfg = os.path.join(tmp, "cloud.toml")
        with open(cfg, "w") as fh:
            fh.write(CONFIG)
        ours_port, moto_port = free_port(), free_port()
        ours = Target("eucalyptus", [os.path.join(BIN, "eucalyptus-cloud"), "--config", cfg,
                                     "--data-dir", os.path.join(tmp, "d"),
                                     "--listen", f"127.0.0.1:{ours_port}"],
                      ours_port, "/services/compute", ("", ""), os.path.join(tmp, "d"))
        moto = Target("moto_server", [os.path.join(BIN, "moto_server"), "-p", str(moto_port)],
                      moto_port, "/", ("AKIDEXAMPLE", "secret"))
        results: dict[str, dict[str, float]] = {}
        targets = (ours, moto)
        for t in targets:
            r: dict[str, float] = {}
            r["start_s"] = t.start()
            time.sleep(1.0)
            r["idle_rss_mib"] = rss_mib(t.proc.pid)
            r["describe_regions_rps"] = requests_per_second(t, args.seconds)
            image = t.client().describe_images(
                Owners=["self", "amazon"] if t is moto else [])["Images"][0]["ImageId"]
            # Enough calls for the 10 ms CPU-tick resolution of /proc to be negligible.
            r["describe_instances_200_cpu_ms"] = describe_cpu(t, image,
                                                              calls=20 if t is moto else 2000)
            r["run_100_until_running_s"] = run_100(t, image)
            t.stop()
            results[t.name] = r
        names = list(results)
        print(f"{'metric':34s} " + " ".join(f"{n:>14s}" for n in names) + "     ratio")
        for key, better in (("describe_regions_rps", "higher"),
                            ("describe_instances_200_cpu_ms", "lower"),
                            ("run_100_until_running_s", "lower"), ("start_s", "lower"),
                            ("idle_rss_mib", "lower")):
            a, b = results[names[0]][key], results[names[1]][key]
            ratio = a / b if better == "higher" else b / a
            print(f"{key:34s} " + " ".join(f"{results[n][key]:14.3f}" for n in names)
                  + f"  {ratio:7.1f}x ({better} is better)")
    finally:
        for t in locals().get("targets", ()):
            t.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
