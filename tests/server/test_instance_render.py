"""The ``reservationSet`` of DescribeInstances reads the same whichever way it is built:
rendered in line within the loop's budget, or from frozen copies in slices once the
budget is spent (big answers, slow machines); a record that changes during a sliced
render is not cached with its older XML."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from server.clc import render
from server.clc.model import Instance
from server.protocol.slices import Pacer


@pytest.fixture
def clc(tmp_path: Any) -> Iterator[Any]:
    """The CLC of an in-process cloud (not started) holding 300 instances in 3
    reservations, with varied optional fields and tags."""
    from server.cloud import Cloud
    from server.config import parse

    # Saves schedule a flush on the loop: one loop for the fixture and the test.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    cloud = Cloud(parse({"zones": [{"name": "z", "nodes": 2}]}, data_dir=str(tmp_path)))
    controller = cloud.clc
    for n in range(300):
        inst = Instance(
            f"i-{n:08x}", "000000000001", f"r-{n // 100:08x}", "emi-00000001", "m1.small",
            "z", "running" if n % 3 else "terminated", 1796000000.0 + n // 100,
            node="z-node-01", groups=[["sg-1", "default"]] if n % 7 else
            [["sg-1", "a&b"], ["sg-2", "<c>"]], private_ip=f"10.0.{n // 256}.{n % 256}",
            public_ip=f"198.51.100.{n % 250}" if n % 5 == 0 else "", launch_index=n % 100,
            key_name="key<1>" if n % 4 == 0 else "",
            state_reason="" if n % 3 else "Client.UserInitiatedShutdown: User initiated",
            root_device_name="/dev/\"sda\"" if n % 11 == 0 else "/dev/sda1",
            block_devices=[{"device": "/dev/sdb", "volume_id": "vol-1", "attach_time": 5.0}]
            if n % 13 == 0 else [], iam_profile=["arn:aws:iam::1:instance-profile/p", "AIP"]
            if n % 17 == 0 else [])
        controller.instances[inst.id] = inst
        controller.save(inst)
        if n % 6 == 0:
            controller.tags[inst.id] = {"Name": f"web & {n}", "a": "<1>"}
            controller.save_tags(inst.id, inst.account_id)
    yield controller
    cloud.engine.dispose()
    asyncio.set_event_loop(None)
    loop.close()


def _ordered(clc: Any) -> list[Instance]:
    return sorted(clc.instances.values(), key=lambda i: i.id)


@pytest.mark.parametrize("admin", [False, True])
def test_inline_and_sliced_renders_are_identical(clc: Any, admin: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    insts = _ordered(clc)
    inline = "".join(render.reservations_xml(clc, insts, admin))
    assert inline.count("<instanceId>") == 300 and inline.count("<reservationId>") == 3
    clc.xml_cache.clear()
    monkeypatch.setattr(render, "INLINE_RENDER_SECONDS", 0.0)  # everything copied
    sliced = asyncio.get_event_loop().run_until_complete(
        render.reservations_xml_in_slices(clc, insts, admin, Pacer(0.0)))
    assert "".join(sliced) == inline
    cached = "".join(render.reservations_xml(clc, insts, admin))  # from the cache now
    assert cached == inline


def test_a_record_changed_during_a_sliced_render_is_not_cached_stale(
        clc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "INLINE_RENDER_SECONDS", 0.0)
    insts = _ordered(clc)
    target = insts[200]  # past the first items, which are rendered before the clock is read

    async def walk_while_changing() -> str:
        pacer = Pacer(0.0)  # yields after every item
        job = asyncio.ensure_future(render.reservations_xml_in_slices(clc, insts, False, pacer))
        await asyncio.sleep(0)  # the view is taken
        target.monitoring = "enabled"
        clc.save(target)
        return "".join(await job)

    answer = asyncio.get_event_loop().run_until_complete(walk_while_changing())
    # The answer is of the view taken before the change; the cache holds the new state.
    item = answer.split(f"<item><instanceId>{target.id}</instanceId>")[1].split("</item>")[0]
    assert "<monitoring><state>disabled</state></monitoring>" in item
    fresh = render.instance_xml(clc, target, False)
    assert "<monitoring><state>enabled</state></monitoring>" in fresh
