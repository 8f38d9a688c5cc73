#!/usr/bin/env python3
"""CLI start-up benchmark: ``euca-describe-regions`` against a local server vs ``python3 -c pass``.

Prints the median of N runs (default 5) of each, measured alternately in the same run,
and their ratio (the target is <= 3x).  The local server is ``eucalyptus-cloud`` when it
starts, else ``moto_server``.  Usage: ``python benchmarks/cli_startup.py [--runs N]
[--server moto|eucalyptus]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from harness import free_port

BIN = os.path.dirname(os.path.abspath(sys.executable))


def wait_port(port: int, timeout: float = 30.0) -> bool:
    """Wait until something listens on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def start_eucalyptus(tmp: str) -> tuple[subprocess.Popen[bytes], str] | None:
    """Start eucalyptus-cloud; returns (process, euca2ools.ini) or None."""
    exe = os.path.join(BIN, "eucalyptus-cloud")
    if not os.path.exists(exe):
        return None
    port = free_port()
    data = os.path.join(tmp, "cloud")
    proc = subprocess.Popen([exe, "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ini = os.path.join(data, "euca2ools.ini")
    if wait_port(port) and os.path.exists(ini):
        return proc, ini
    proc.kill()
    return None


def start_moto(tmp: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start moto_server and write an euca2ools.ini for it."""
    port = free_port()
    proc = subprocess.Popen([os.path.join(BIN, "moto_server"), "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port):
        proc.kill()
        raise SystemExit("moto_server did not start")
    ini = os.path.join(tmp, "moto.ini")
    with open(ini, "w", encoding="utf-8") as handle:
        handle.write(f"[global]\ndefault-region = local\n\n[region local]\n"
                     f"ec2-url = http://127.0.0.1:{port}/\nuser = bench\nname = us-east-1\n\n"
                     f"[user bench]\nkey-id = AKIDBENCH\nsecret-key = benchsecret\n")
    return proc, ini


def median_runtime(cmd: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time in seconds of ``runs`` executions."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", choices=("auto", "moto", "eucalyptus"), default="auto")
    opts = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="cli-startup-")
    started = None
    if opts.server in ("auto", "eucalyptus"):
        started = start_eucalyptus(tmp)
        name = "eucalyptus-cloud"
    if started is None:
        if opts.server == "eucalyptus":
            raise SystemExit("eucalyptus-cloud did not start")
        started = start_moto(tmp)
        name = "moto_server"
    proc, ini = started
    try:
        env = dict(os.environ, EUCA_CONFIG_PATH=ini)
        for var in ("EC2_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "EUCA_DEFAULT_REGION",
                    "AWS_DEFAULT_REGION"):
            env.pop(var, None)
        euca = [os.path.join(BIN, "euca-describe-regions")]
        system_python = shutil.which("python3") or sys.executable
        for cmd in (euca, [sys.executable, "-c", "pass"], [system_python, "-c", "pass"]):
            median_runtime(cmd, env, 2)  # warm caches (pyc files, page cache, server)
        rows = []
        for _ in range(3):  # interleave rounds so drift affects every command alike
            rows.append((median_runtime(euca, env, opts.runs),
                         median_runtime([sys.executable, "-c", "pass"], env, opts.runs),
                         median_runtime([system_python, "-c", "pass"], env, opts.runs)))
        euca_t = statistics.median(r[0] for r in rows)
        venv_t = statistics.median(r[1] for r in rows)
        sys_t = statistics.median(r[2] for r in rows)
        print(f"server: {name}")
        print(f"euca-describe-regions median: {euca_t * 1000:.1f} ms")
        print(f"{sys.executable} -c pass median: {venv_t * 1000:.1f} ms")
        print(f"{system_python} -c pass median: {sys_t * 1000:.1f} ms")
        print(f"ratio vs interpreter of the scripts: {euca_t / venv_t:.2f}x (target <= 3x)")
        print(f"ratio vs python3 on PATH: {euca_t / sys_t:.2f}x")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
