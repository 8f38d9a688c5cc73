"""euca-tui responsiveness with 2,000 instances: time to build, render, refresh, filter and sort.

    .venv/bin/python benchmarks/tui_bench.py            # 2,000 generated rows fed to the widget
    .venv/bin/python benchmarks/tui_bench.py --server   # also a real cloud running 2,000 instances

Prints figures (milliseconds); it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui import model  # noqa: E402
from tui.app import EucaApp  # noqa: E402
from tui.table import ResourceTable  # noqa: E402

STATES = ("running", "running", "running", "pending", "stopped", "terminated")


def fake_instances(count: int, generation: int = 0) -> list[dict[str, Any]]:
    """``count`` instance records shaped like DescribeInstances items."""
    out = []
    for n in range(count):
        state = STATES[(n + generation) % len(STATES)] if n % 20 == 0 else STATES[n % 3]
        out.append({
            "instanceId": f"i-{n:017x}", "instanceState": {"name": state},
            "instanceType": ("m1.small", "c1.medium", "m1.xlarge")[n % 3],
            "placement": {"availabilityZone": f"zone-{n % 2 + 1}", "hostId": f"node-{n % 100:03d}"},
            "ipAddress": f"198.18.{n // 250}.{n % 250 + 1}", "privateIpAddress": f"10.1.{n // 250}.{n % 250 + 2}",
            "launchTime": "2026-01-02T10:00:00.000Z", "keyName": "ops",
            "groupSet": [{"groupName": "default"}], "tagSet": [{"key": "Name", "value": f"web-{n}"}],
        })
    return out


class StaticCloud:
    """A cloud that answers nothing (the benchmark feeds the widget itself)."""

    label = "bench"

    def call(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """No data."""
        return {}

    def list_buckets(self) -> list[dict[str, str]]:
        """No buckets."""
        return []


def ms(seconds: float) -> str:
    """Milliseconds, for printing."""
    return f"{seconds * 1000:8.1f} ms"


async def timed(fn: Callable[[], Awaitable[None]]) -> float:
    """Wall time of an awaited step."""
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def widget_bench(rows_count: int) -> None:
    """Feed generated rows straight into the instances table of a headless app."""
    instances = fake_instances(rows_count)
    start = time.perf_counter()
    rows = [model.instance_row(i) for i in instances]
    build = time.perf_counter() - start
    changed = [model.instance_row(i) for i in fake_instances(rows_count, generation=1)]
    app = EucaApp(StaticCloud(), poll=False)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one("#instances-table", ResourceTable)
        await pilot.press("down")
        baseline = statistics.median([await timed(lambda: pilot.press("down")) for _ in range(10)])

        async def fill(data: list[model.Row]) -> None:
            table.set_rows(data)
            await pilot.pause()

        first = await timed(lambda: fill(rows))
        same = await timed(lambda: fill(list(rows)))
        moved = await timed(lambda: fill(changed))
        await pilot.press("slash")
        keys = []
        start = time.perf_counter()
        for ch in "web-19":
            keys.append(await timed(lambda ch=ch: pilot.press(ch)))
        while table.row_count != 111:
            await pilot.pause(0.005)
        typed = time.perf_counter() - start
        shown = table.row_count
        clear = await timed(lambda: pilot.press("escape"))
        sorts = [await timed(lambda: pilot.press("s")) for _ in range(3)]
        downs = [await timed(lambda: pilot.press("down")) for _ in range(30)]
    print(f"widget, {rows_count} instances (headless, 160x45)")
    print(f"  build rows from records          {ms(build)}")
    print(f"  first render of the table        {ms(first)}")
    print(f"  refresh, nothing changed         {ms(same)}")
    print(f"  refresh, {rows_count // 20} states changed        {ms(moved)}")
    print(f"  filter, per key press (6 keys)   {ms(statistics.mean(keys))} mean, {ms(max(keys))} max"
          f"  -> {shown} rows")
    print(f"  type 6 keys until rows filtered  {ms(typed)}")
    print(f"  clear filter (Escape)            {ms(clear)}")
    print(f"  (a key press on an empty table   {ms(baseline)}: the pilot's own cost)")
    print(f"  sort by next column (s)          {ms(statistics.mean(sorts))} mean, {ms(max(sorts))} max")
    print(f"  cursor down                      {ms(statistics.median(downs))} median, {ms(max(downs))} max")


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """A cloud with room for 2,000 instances that boot at once."""
    config = data_dir / "cloud.toml"
    config.write_text(
        "[[zones]]\nname = \"zone-1\"\nnodes = 100\nnode_cores = 64\nnode_memory_mb = 262144\n"
        "node_disk_gb = 4000\nboot_seconds = 0\nteardown_seconds = 0\n"
        "public_ips = [\"198.18.0.1-198.18.9.250\"]\n")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "eucalyptus-cloud"), "--data-dir",
                             str(data_dir), "--listen", f"127.0.0.1:{port}", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not (data_dir / "euca2ools.ini").exists():
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.1)
    time.sleep(0.5)
    return proc


async def server_bench(count: int) -> None:
    """Launch ``count`` instances on a real cloud, then time the dashboard against it."""
    import socket

    from tui.cloud import Cloud

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="tui-bench-") as tmp:
        proc = start_server(Path(tmp), port)
        try:
            cloud = Cloud.from_config(config_path=str(Path(tmp) / "euca2ools.ini"))
            image = cloud.call("DescribeImages")["imagesSet"][0]["imageId"]
            start = time.perf_counter()
            for _ in range(count // 250):
                cloud.call("RunInstances", {"ImageId": image, "MinCount": 250, "MaxCount": 250})
            launch = time.perf_counter() - start
            start = time.perf_counter()
            raw = model.DATASETS["instances"].fetch(cloud)
            fetch = time.perf_counter() - start
            app = EucaApp(cloud)  # the default 2 s refresh
            async with app.run_test(size=(160, 45)) as pilot:
                table = app.query_one("#instances-table", ResourceTable)
                start = time.perf_counter()
                while table.row_count < len(raw):
                    await pilot.pause(0.01)
                shown = time.perf_counter() - start
                # Key presses while the refresh thread keeps fetching 2,000 instances each second.
                downs = []
                for _ in range(40):
                    downs.append(await timed(lambda: pilot.press("down")))
                    await pilot.pause(0.05)
                await pilot.press("slash")
                keys = [await timed(lambda ch=ch: pilot.press(ch)) for ch in "running"]
        finally:
            proc.terminate()
            proc.wait(20)
    print(f"real cloud, {len(raw)} instances (100 nodes x 64 cores, boot_seconds = 0; server on the "
          f"same {os.cpu_count()}-CPU machine)")
    print(f"  launch ({count // 250} x RunInstances 250)     {ms(launch)}")
    print(f"  DescribeInstances + parse        {ms(fetch)}")
    print(f"  app start to all rows shown      {ms(shown)}")
    print(f"  cursor down during live refresh  {ms(statistics.median(downs))} median, {ms(max(downs))} max")
    print(f"  filter key during live refresh   {ms(statistics.mean(keys))} mean, {ms(max(keys))} max")


def main() -> None:
    """Run the benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--server", action="store_true", help="also run against a real cloud")
    args = parser.parse_args()
    asyncio.run(widget_bench(args.rows))
    if args.server:
        asyncio.run(server_bench(args.rows))


if __name__ == "__main__":
    main()
