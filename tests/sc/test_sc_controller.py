"""The zone SC's logic on a manual clock with the virtual backend: whole traces, limits."""

from __future__ import annotations

from typing import Any

import pytest

from server import errors
from server.clock import ManualClock
from server.sc.backends import VirtualBackend
from server.sc.controller import StorageController
from server.sc.model import (
    IllegalTransition,
    Snapshot,
    SnapshotLimitExceeded,
    Volume,
    VolumeLimitExceeded,
)


class Recorder:
    """Collects (time, id, state, progress) for every save; forgets deletions."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.trace: list[tuple[float, str, str, int]] = []
        self.forgotten: list[str] = []

    def save(self, record: Any) -> None:
        progress = getattr(record, "progress", -1)
        self.trace.append((round(self.clock.now(), 6), record.id, record.state, progress))

    def forget(self, record: Any) -> None:
        self.forgotten.append(record.id)


def _sc(max_total: int = 20) -> tuple[StorageController, ManualClock, Recorder]:
    clock = ManualClock()
    rec = Recorder(clock)
    backend = VirtualBackend(clock, create_seconds=1.0, seconds_per_gb=0.5,
                             snapshot_seconds=2.0, delete_seconds=0.5)
    sc = StorageController("z", clock, backend, max_volume_gb=10, max_total_volume_gb=max_total,
                           save=rec.save, forget=rec.forget)
    return sc, clock, rec


def test_volume_and_snapshot_trace() -> None:
    """create -> available, snapshot progress in steps, restore, delete: the whole trace."""
    sc, clock, rec = _sc()
    vol = Volume("vol-1", "acct", "z", 4)
    sc.create_volume(vol)
    clock.advance(1.0)
    snap = Snapshot("snap-1", "acct", "vol-1", 4)
    ended: list[str] = []
    sc.snapshot(vol, snap, lambda s: ended.append(s.state))
    clock.advance(4.0)  # 2 s + 4 GiB x 0.5 s
    copy = Volume("vol-2", "acct", "z", 4, snapshot_id="snap-1")
    sc.create_volume(copy, snap.location)
    clock.advance(3.0)  # 1 s + 4 x 0.5 s
    sc.delete_volume(vol)
    clock.advance(0.5)
    assert rec.trace == [
        (0.0, "vol-1", "creating", -1), (1.0, "vol-1", "available", -1),
        (1.0, "snap-1", "pending", 0),
        *[(round(1.0 + 0.4 * n, 6), "snap-1", "pending", 10 * n) for n in range(1, 10)],
        (5.0, "snap-1", "completed", 100),
        (5.0, "vol-2", "creating", -1), (8.0, "vol-2", "available", -1),
        (8.0, "vol-1", "deleting", -1),
    ]
    assert ended == ["completed"] and rec.forgotten == ["vol-1"]
    assert snap.location == "virtual/snap-1" and "vol-1" not in sc.volumes
    assert sc.used_gb() == 4


def test_capacity_limits() -> None:
    """Per-volume maximum, zone total, and snapshot capacity."""
    sc, clock, _ = _sc(max_total=12)
    with pytest.raises(errors.InvalidParameterValue):
        sc.check_capacity([11])
    with pytest.raises(errors.InvalidParameterValue):
        sc.check_capacity([0])
    for n in range(3):
        sc.create_volume(Volume(f"vol-{n}", "a", "z", 4))
    with pytest.raises(VolumeLimitExceeded):
        sc.check_capacity([1])
    clock.advance(10)
    sc.delete_volume(sc.volumes["vol-0"])
    clock.advance(1)
    sc.check_capacity([4])
    sc.snapshot(sc.volumes["vol-1"], Snapshot("snap-a", "a", "vol-1", 4), lambda s: None)
    sc.snapshot(sc.volumes["vol-1"], Snapshot("snap-b", "a", "vol-1", 4), lambda s: None)
    sc.snapshot(sc.volumes["vol-1"], Snapshot("snap-c", "a", "vol-1", 4), lambda s: None)
    with pytest.raises(SnapshotLimitExceeded):
        sc.check_snapshot_capacity(4)


def test_lifecycle_tables_refuse_illegal_moves() -> None:
    """A deleted volume cannot come back; a completed snapshot cannot fail."""
    vol = Volume("vol-1", "a", "z", 1, state="deleted")
    with pytest.raises(IllegalTransition):
        vol.set_state("available")
    snap = Snapshot("snap-1", "a", "vol-1", 1, state="completed")
    with pytest.raises(IllegalTransition):
        snap.set_state("error")
    vol = Volume("vol-2", "a", "z", 1, state="available")
    with pytest.raises(IllegalTransition):
        vol.set_attachment("detaching")


def test_recover_after_restart() -> None:
    """Creating volumes and pending snapshots fail; deleting volumes finish deleting."""
    sc, clock, rec = _sc()
    sc.add(Volume("vol-c", "a", "z", 1, state="creating"))
    sc.add(Volume("vol-d", "a", "z", 1, state="deleting"))
    sc.snapshots["snap-p"] = Snapshot("snap-p", "a", "vol-c", 1)
    sc.recover()
    clock.advance(1)
    assert sc.volumes["vol-c"].state == "error"
    assert sc.snapshots["snap-p"].state == "error"
    assert rec.forgotten == ["vol-d"]


def test_delete_waits_for_pending_snapshots() -> None:
    """Deleting a volume mid-snapshot: the snapshot completes, then the data goes."""
    sc, clock, rec = _sc()
    vol = Volume("vol-1", "a", "z", 2)
    sc.create_volume(vol)
    clock.advance(1)
    snap = Snapshot("snap-1", "a", "vol-1", 2)
    sc.snapshot(vol, snap, lambda s: None)
    sc.delete_volume(vol)
    clock.advance(1)
    assert vol.state == "deleting" and rec.forgotten == []
    clock.advance(2)  # snapshot done at 3 s after start
    assert snap.state == "completed" and vol.state == "deleting"
    clock.advance(0.5)
    assert rec.forgotten == ["vol-1"]


def test_export_for_attachment() -> None:
    """Attaching exports a volume to its instance (the device the NC connects); detaching
    withdraws it; a reloaded attached volume is still exported."""
    sc, clock, _rec = _sc()
    vol = Volume("vol-1", "acct", "z", 1)
    sc.create_volume(vol)
    clock.advance(1.5)
    assert sc.export_volume(vol, "i-1") == vol.path
    assert sc.exports == {"vol-1": "i-1"}
    sc.unexport_volume(vol)
    sc.unexport_volume(vol)  # withdrawing twice is harmless
    assert sc.exports == {}
    again, _clock, _ = _sc()
    again.add(Volume("vol-2", "acct", "z", 1, state="in-use", instance_id="i-2",
                     attach_state="attached"))
    assert again.exports == {"vol-2": "i-2"}
