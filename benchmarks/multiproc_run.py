"""100 instances to running: the multi-process cloud against the all-in-one process.

Both clouds have two zones of two nodes (32 cores each, boot_seconds 0.3).  The
multi-process cloud runs CLC+Walrus, two CCs and four NCs as separate processes, each
in its own network namespace (tests/netcloud.py: needs root and ``ip``); its CCs poll
their nodes and the CLC polls its CCs every ``--poll`` seconds.  The all-in-one cloud
runs once with the same CC poll interval and once with NCs reporting at once (its
default).  Prints, per cloud: seconds for the RunInstances calls, seconds until all 100
are running, seconds until all are terminated, and the CPU seconds all its processes used.

    .venv/bin/python benchmarks/multiproc_run.py [--poll 1.0] [--count 100]
"""

from __future__ import annotations

import argparse
import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from harness import free_port, wait_port  # noqa: E402
from netcloud import netns_unavailable, start_netcloud  # noqa: E402

BIN = Path(sys.executable).parent
ZONES = {"zone-a": ["node-a1", "node-a2"], "zone-b": ["node-b1", "node-b2"]}
CORES = 32


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU seconds of processes (and their waited-for children)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def measure(ec2: Any, count: int, pids: list[int]) -> tuple[float, float, float, float]:
    """(RunInstances seconds, to-running seconds, to-terminated seconds, CPU seconds)."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    cpu0 = cpu_seconds(pids)
    t0 = time.perf_counter()
    ids: list[str] = []
    per_zone = count // len(ZONES)
    for n, zone in enumerate(ZONES):
        want = per_zone if n else count - per_zone * (len(ZONES) - 1)
        out = ec2.run_instances(ImageId=image, MinCount=want, MaxCount=want,
                                InstanceType="m1.small", Placement={"AvailabilityZone": zone})
        ids += [i["InstanceId"] for i in out["Instances"]]
    t_run = time.perf_counter() - t0
    wait_all(ec2, ids, "running")
    t_running = time.perf_counter() - t0
    t1 = time.perf_counter()
    ec2.terminate_instances(InstanceIds=ids)
    wait_all(ec2, ids, "terminated")
    t_terminated = time.perf_counter() - t1
    return t_run, t_running, t_terminated, cpu_seconds(pids) - cpu0


def wait_all(ec2: Any, ids: list[str], state: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pages = ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
        states = {i["State"]["Name"] for p in pages for r in p["Reservations"]
                  for i in r["Instances"]}
        if states == {state}:
            return
        time.sleep(0.1)
    raise RuntimeError(f"instances not {state} after {timeout} s")


def all_in_one(count: int, poll: float) -> tuple[float, float, float, float]:
    """The embedded cloud: every component in one process."""
    import boto3
    from botocore.config import Config

    tmp = tempfile.mkdtemp(prefix="bench-aio-")
    config = Path(tmp) / "cloud.toml"
    config.write_text('[cloud]\nhttps_listen = ""\n\n' + "".join(
        f'[[zones]]\nname = "{z}"\nnodes = {len(nodes)}\nboot_seconds = 0.3\n'
        f"teardown_seconds = 0.2\nnode_cores = {CORES}\nnode_memory_mb = {CORES * 2048}\n"
        f"node_disk_gb = {CORES * 50}\npoll_interval = {poll}\n\n"
        for z, nodes in ZONES.items()))
    port = free_port()
    proc = subprocess.Popen([str(BIN / "eucalyptus-cloud"), "--config", str(config),
                             "--data-dir", tmp, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, timeout=120)
        ini = configparser.ConfigParser()
        ini.read(Path(tmp) / "euca2ools.ini")
        user = next(s for s in ini.sections() if s.startswith("user "))
        ec2 = boto3.client("ec2", endpoint_url=f"http://127.0.0.1:{port}/services/compute",
                           region_name="localhost", aws_access_key_id=ini[user]["key-id"],
                           aws_secret_access_key=ini[user]["secret-key"],
                           config=Config(retries={"max_attempts": 1}))
        return measure(ec2, count, [proc.pid])
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def multi_process(count: int, poll: float) -> tuple[float, float, float, float]:
    """CLC+Walrus, two CCs and four NCs, each in a network namespace of its own."""
    cloud = start_netcloud(ZONES, poll_interval=poll, node_cores=CORES)
    try:
        pids = [h.proc.pid for h in cloud.hosts.values() if h.proc is not None]
        return measure(cloud.client(), count, pids)
    finally:
        cloud.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--poll", type=float, default=1.0,
                        help="CC (and CLC) poll interval of the multi-process cloud, s")
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    reason = netns_unavailable()
    if reason:
        sys.exit(f"multiproc_run: {reason}")
    rows = [
        ("all-in-one (NCs report at once)", all_in_one(args.count, 0.0)),
        (f"all-in-one (CC polls every {args.poll:g} s)", all_in_one(args.count, args.poll)),
        (f"7 processes, 7 hosts (polls every {args.poll:g} s)",
         multi_process(args.count, args.poll)),
    ]
    print(f"{args.count} m1.small instances over 2 zones x 2 nodes (boot 0.3 s)")
    print(f"{'cloud':44} {'RunInstances s':>15} {'to running s':>13} "
          f"{'to terminated s':>16} {'CPU s':>7}")
    for name, (run, running, terminated, cpu) in rows:
        print(f"{name:44} {run:15.2f} {running:13.2f} {terminated:16.2f} {cpu:7.2f}")


if __name__ == "__main__":
    main()
