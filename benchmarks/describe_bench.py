"""DescribeInstances at scale, side by side with moto_server in one run.

Holds 10,000 instances (half of them terminated, kept by a long retention), then prints:
server CPU per 1,000 instances described with MaxResults=1000 and NextToken (all 10
pages; the first walk renders every instance, later ones find them cached), server CPU
per lookup by instance id and by tag filter (10 tagged instances), and GetCallerIdentity
latency p50/p99 while 16 clients describe pages of 1,000 as fast as they can.

    .venv/bin/python benchmarks/describe_bench.py [--instances 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from ec2_bench import Target, cpu_seconds
from harness import free_port

BIN = os.path.dirname(sys.executable)
IDS = re.compile(rb"<instanceId>(i-[0-9a-f]+)</instanceId>")

#: Five zones: a cluster holds at most 2,048 instances (Eucalyptus' limit per CC).
CONFIG = """
[cloud]
terminated_retention_seconds = 864000
""" + "".join(f"""
[[zones]]
name = "zone-{n}"
nodes = 20
node_cores = 128
node_memory_mb = 65536
node_disk_gb = 1000
boot_seconds = 0
teardown_seconds = 0
""" for n in range(1, 6))


def signed(port: int, path: str, creds: tuple[str, str], service: str,
           params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A SigV4-signed form POST (body, headers)."""
    version = "2011-06-15" if service == "sts" else "2016-11-15"
    body = urlencode({**params, "Version": version})
    req = AWSRequest("POST", f"http://127.0.0.1:{port}{path}", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(*creds), service, "us-east-1").add_auth(req)
    return body.encode(), dict(req.headers)


def call(conn: http.client.HTTPConnection, t: Target, params: dict[str, str],
         service: str = "ec2", path: str | None = None) -> bytes:
    """One signed request over a kept-alive connection; the body of a 200 answer."""
    body, headers = signed(t.port, path or t.path, t.creds, service, params)
    conn.request("POST", path or t.path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{t.name} {params.get('Action')}: {resp.status} {data[:300]!r}")
    return data


def hold_instances(t: Target, total: int, image: str) -> list[str]:
    """Launch ``total`` instances in batches and terminate every other one."""
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=600)
    ids: list[str] = []
    batch = 500
    while len(ids) < total:
        n = min(batch, total - len(ids))
        data = call(conn, t, {"Action": "RunInstances", "ImageId": image, "MinCount": str(n),
                              "MaxCount": str(n), "InstanceType": "m1.small",
                              "AddressingType": "private"})
        ids += [m.decode() for m in IDS.findall(data)]
    doomed = ids[1::2]
    for start in range(0, len(doomed), 500):
        params = {"Action": "TerminateInstances"}
        params.update({f"InstanceId.{n + 1}": iid
                       for n, iid in enumerate(doomed[start:start + 500])})
        call(conn, t, params)
    deadline = time.time() + 120
    while time.time() < deadline:  # teardown_seconds = 0: terminated within a moment
        busy = call(conn, t, {"Action": "DescribeInstances",
                              "Filter.1.Name": "instance-state-name",
                              "Filter.1.Value.1": "shutting-down",
                              "Filter.1.Value.2": "pending"})
        if b"<instanceId>" not in busy:
            break
        time.sleep(0.5)
    tagged = ids[::1000]  # 10 of them (with 10,000), live ones
    params = {"Action": "CreateTags", "Tag.1.Key": "role", "Tag.1.Value": "needle"}
    params.update({f"ResourceId.{n + 1}": iid for n, iid in enumerate(tagged)})
    call(conn, t, params)
    return ids


def walk_pages(conn: http.client.HTTPConnection, t: Target,
               signed_pages: dict[str, tuple[bytes, dict[str, str]]] | None = None) -> int:
    """Describe every instance with MaxResults=1000 and NextToken; the number of
    instances described (moto_server counts MaxResults in reservations, not instances,
    so its pages hold all 10,000: figures are per 1,000 instances described). With
    ``signed_pages``, each page's request is signed once and replayed (clients that
    spend their CPU on signing would take it from the server on a small machine)."""
    token, described = "", 0
    while True:
        params = {"Action": "DescribeInstances", "MaxResults": "1000"}
        if token:
            params["NextToken"] = token
        if signed_pages is None:
            data = call(conn, t, params)
        else:
            if token not in signed_pages:
                signed_pages[token] = signed(t.port, t.path, t.creds, "ec2", params)
            body, headers = signed_pages[token]
            conn.request("POST", t.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            assert resp.status == 200, data[:300]
        described += data.count(b"<instanceId>")
        at = data.rfind(b"<nextToken>")
        if at < 0:
            return described
        token = data[at + 11:data.index(b"<", at + 11)].decode()


def cpu_per_call(t: Target, fn, calls: float, warm: bool = True) -> float:
    """Server CPU ms per call of ``fn`` (which returns how many calls it made, or how
    many units of work it did)."""
    if warm:
        fn()  # warm up (and fill caches, as a running cloud has them)
    c0 = cpu_seconds(t.proc.pid)
    n = 0
    while n < calls:
        n += fn()
    return (cpu_seconds(t.proc.pid) - c0) / n * 1000


def describer(port: int, path: str, creds: tuple[str, str], stop_at: float) -> None:
    """A client describing pages of 1,000 in a loop (its own process) until ``stop_at``."""
    t = Target("client", [], port, path, creds)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    signed_pages: dict[str, tuple[bytes, dict[str, str]]] = {}
    while time.time() < stop_at:
        walk_pages(conn, t, signed_pages)


def identity_latency(t: Target, clients: int, seconds: float) -> tuple[float, float, int]:
    """GetCallerIdentity p50 and p99 (ms) while ``clients`` processes describe."""
    sts_path = "/" if t.name == "moto_server" else "/services/Tokens"
    stop_at = time.time() + seconds + 2
    procs = [multiprocessing.Process(target=describer, args=(t.port, t.path, t.creds, stop_at))
             for _ in range(clients)]
    for p in procs:
        p.start()
    time.sleep(2)  # let them all get going
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=600)
    body, headers = signed(t.port, sts_path, t.creds, "sts", {"Action": "GetCallerIdentity"})
    times = []
    while time.time() < stop_at:
        t0 = time.perf_counter()
        conn.request("POST", sts_path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status == 200, resp.status
        time.sleep(0.01)
    for p in procs:  # not joined: a walk can take minutes (moto_server)
        p.terminate()
        p.join()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)], len(times)


def progress(t: Target, what: str) -> None:
    """A line on stderr: moto_server takes minutes to hold 10,000 instances."""
    print(f"[{time.strftime('%H:%M:%S')}] {t.name}: {what}", file=sys.stderr, flush=True)


def measure(t: Target, ids: list[str], clients: int, seconds: float) -> dict[str, float]:
    """Every figure but the set-up time, for one server holding ``ids``."""
    r: dict[str, float] = {}
    progress(t, "pages")
    conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=600)
    slow = t.name == "moto_server"
    time.sleep(3)  # let the launch's trailing work (events, writes) finish
    c0 = cpu_seconds(t.proc.pid)
    thousands = walk_pages(conn, t) / 1000  # the first walk renders every instance
    r["first_walk_cpu_ms_per_1000"] = (cpu_seconds(t.proc.pid) - c0) / thousands * 1000
    # moto_server renders 10,000 instances per page for minutes: one more walk there.
    r["paged_cpu_ms_per_1000"] = cpu_per_call(t, lambda: walk_pages(conn, t) / 1000,
                                              10 if slow else 100, warm=not slow)
    progress(t, "lookups")
    one = {"Action": "DescribeInstances", "InstanceId.1": ids[len(ids) // 2]}
    r["lookup_by_id_cpu_ms"] = cpu_per_call(t, lambda: (call(conn, t, one), 1)[1],
                                            5 if slow else 1000)
    by_tag = {"Action": "DescribeInstances", "Filter.1.Name": "tag:role",
              "Filter.1.Value.1": "needle"}
    assert len(IDS.findall(call(conn, t, by_tag))) == len(ids[::1000])
    r["lookup_by_tag_cpu_ms"] = cpu_per_call(t, lambda: (call(conn, t, by_tag), 1)[1],
                                             5 if slow else 1000)
    status = {"Action": "DescribeInstanceStatus", "InstanceId.1": ids[len(ids) // 2],
              "IncludeAllInstances": "true"}
    r["status_by_id_cpu_ms"] = cpu_per_call(t, lambda: (call(conn, t, status), 1)[1],
                                            5 if slow else 1000)
    running = {"Action": "DescribeInstanceStatus", "Filter.1.Name": "availability-zone",
               "Filter.1.Value.1": "nowhere"}  # an empty answer: costs only the search
    r["status_empty_zone_cpu_ms"] = cpu_per_call(t, lambda: (call(conn, t, running), 1)[1],
                                                 5 if slow else 1000)
    progress(t, f"GetCallerIdentity with {clients} clients describing")
    p50, p99, n = identity_latency(t, clients, seconds)
    r[f"identity_p50_ms_{clients}_describing"] = p50
    r[f"identity_p99_ms_{clients}_describing"] = p99
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--only", choices=["eucalyptus", "moto_server"])
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="describe-bench-")
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
        targets = [t for t in (ours, moto) if args.only in (None, t.name)]
        results: dict[str, dict[str, float]] = {}
        for t in targets:
            r: dict[str, float] = {}
            t.start()
            image = t.client().describe_images(
                Owners=["self", "amazon"] if t is moto else [])["Images"][0]["ImageId"]
            progress(t, f"launching {args.instances} instances")
            t0 = time.perf_counter()
            ids = hold_instances(t, args.instances, image)
            r["hold_instances_s"] = time.perf_counter() - t0
            r.update(measure(t, ids, args.clients, args.seconds))
            for key, value in r.items():  # now: moto_server may take long to follow
                progress(t, f"{key} = {value:.3f}")
            t.stop()
            results[t.name] = r
        names = list(results)
        print(f"{args.instances} instances held ({args.instances // 2} terminated); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end")
        print(f"{'metric':36s} " + " ".join(f"{n:>14s}" for n in names)
              + ("     ratio" if len(names) == 2 else ""))
        for key in results[names[0]]:
            line = f"{key:36s} " + " ".join(f"{results[n][key]:14.3f}" for n in names)
            if len(names) == 2 and results[names[0]][key]:
                line += f"  {results[names[1]][key] / results[names[0]][key]:7.1f}x"
            print(line + ("" if len(names) == 2 else ""))
        if len(names) == 2:
            print("(ratio: moto_server / eucalyptus; every metric: lower is better)")
    finally:
        for t in locals().get("targets", ()):
            t.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
