"""One zone's Storage Controller: volume and snapshot lifecycles over a backend.

Event-driven and free of I/O: a request or a backend callback moves a record along
its table in :mod:`server.sc.model`; the backend does the copying (worker threads or
modelled time) and reports on the control loop.  ``save``/``forget`` persist records
(the CLC's store in the server; anything in the simulator).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from server.clock import Clock
from server.db.record import Record
from server.nc.types import Outcome
from server.sc.backends import Stored, VolumeBackend
from server.sc.model import (
    InvalidParameterValue,
    Snapshot,
    SnapshotLimitExceeded,
    Volume,
    VolumeLimitExceeded,
)

log = logging.getLogger(__name__)

#: States whose volumes count against the zone's capacity.
HOLDS_CAPACITY = frozenset({"creating", "available", "in-use", "deleting"})


class StorageController:
    """The SC of one zone (reference §6): capacity limits, create, delete, snapshot."""

    def __init__(self, zone: str, clock: Clock, backend: VolumeBackend, *,
                 max_volume_gb: int, max_total_volume_gb: int,
                 save: Callable[[Record], None], forget: Callable[[Record], None]):
        self.zone = zone
        self.clock = clock
        self.backend = backend
        self.max_volume_gb = max_volume_gb
        self.max_total_volume_gb = max_total_volume_gb
        # Snapshot capacity: the reference's property has no config key here, so the zone's
        # volume capacity bounds the snapshots taken from its volumes too.
        self.max_total_snapshot_gb = max_total_volume_gb
        self.save = save
        self.forget = forget
        self.volumes: dict[str, Volume] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self._deferred_deletes: dict[str, Callable[[], None]] = {}
        #: Volume ID -> the instance it is exported to (reference §6 ExportVolume).
        self.exports: dict[str, str] = {}
        #: False while the administrator has the SC disabled or stopped: no new volumes.
        self.available = True

    # -- capacity --------------------------------------------------------------------
    def used_gb(self) -> int:
        """GiB held by this zone's volumes."""
        return sum(v.size for v in self.volumes.values() if v.state in HOLDS_CAPACITY)

    def check_capacity(self, sizes: list[int]) -> None:
        """Refuse volumes over the size limit or beyond the zone's total capacity."""
        if not self.available:
            from server.errors import ServiceUnavailable

            raise ServiceUnavailable(f"The storage controller of {self.zone} is disabled by "
                                     "the cloud administrator")
        for size in sizes:
            if size < 1:
                raise InvalidParameterValue(f"Volume size must be at least 1 GiB (got {size})")
            if size > self.max_volume_gb:
                raise InvalidParameterValue(
                    f"Volume size {size} GiB exceeds the maximum volume size of "
                    f"{self.max_volume_gb} GiB in {self.zone}")
        used = self.used_gb()
        if used + sum(sizes) > self.max_total_volume_gb:
            raise VolumeLimitExceeded(
                f"Creating {sum(sizes)} GiB of volumes would exceed the total volume capacity "
                f"of {self.max_total_volume_gb} GiB in {self.zone} ({used} GiB in use)")

    def check_snapshot_capacity(self, size: int) -> None:
        """Refuse a snapshot beyond the zone's snapshot capacity."""
        used = sum(s.volume_size for s in self.snapshots.values() if s.state != "error")
        if used + size > self.max_total_snapshot_gb:
            raise SnapshotLimitExceeded(
                f"A snapshot of {size} GiB would exceed the snapshot capacity of "
                f"{self.max_total_snapshot_gb} GiB in {self.zone} ({used} GiB in use)")

    # -- volumes ---------------------------------------------------------------------
    def add(self, vol: Volume) -> None:
        """Adopt a loaded volume record (still exported to its instance if attached)."""
        self.volumes[vol.id] = vol
        if vol.instance_id:
            self.exports[vol.id] = vol.instance_id

    def add_snapshot(self, snap: Snapshot) -> None:
        """Adopt a loaded snapshot record."""
        self.snapshots[snap.id] = snap

    def create_volume(self, vol: Volume, location: str = "") -> None:
        """Start creating ``vol`` (blank, or from the snapshot stored at ``location``)."""
        vol.path = self.backend.volume_path(vol.id)
        self.volumes[vol.id] = vol
        self.save(vol)

        def created(outcome: Outcome) -> None:
            if vol.state != "creating":
                return
            if outcome.ok:
                vol.set_state("available")
            else:
                vol.error = outcome.error
                vol.set_state("error")
            self.save(vol)

        if location:
            self.backend.restore(vol.id, vol.size, location, created)
        else:
            self.backend.create(vol.id, vol.size, created)

    def create_volume_now(self, vol: Volume, location: str = "") -> None:
        """Create ``vol``'s data before returning (an instance's launch-time volume)."""
        vol.path = self.backend.volume_path(vol.id)
        self.backend.create_now(vol.id, vol.size, location)
        self.volumes[vol.id] = vol
        self.save(vol)

    def delete_volume(self, vol: Volume) -> None:
        """deleting -> (backend removes the data) -> deleted, then forget the record.

        A volume may be deleted while snapshots of it are still copying (as in EC2): its
        data is removed only once they have finished reading it.
        """
        vol.set_state("deleting")
        self.save(vol)

        def deleted(outcome: Outcome) -> None:
            if not outcome.ok:
                vol.error = outcome.error
                vol.set_state("error")
                self.save(vol)
                return
            vol.set_state("deleted")
            self.volumes.pop(vol.id, None)
            self.forget(vol)

        if self.copying(vol.id):
            self._deferred_deletes[vol.id] = lambda: self.backend.delete_volume(vol.id, deleted)
        else:
            self.backend.delete_volume(vol.id, deleted)

    # -- export for attachment ------------------------------------------------------
    def export_volume(self, vol: Volume, instance_id: str) -> str:
        """Export a volume to the instance it is being attached to; the device the NC
        connects (the backing file here, where Eucalyptus hands out an iSCSI/RBD token)."""
        self.exports[vol.id] = instance_id
        return vol.path

    def unexport_volume(self, vol: Volume) -> None:
        """Withdraw the export once the volume is detached (no-op if not exported)."""
        self.exports.pop(vol.id, None)

    def copying(self, volume_id: str) -> bool:
        """True while a snapshot of the volume is pending."""
        return any(s.volume_id == volume_id and s.state == "pending"
                   for s in self.snapshots.values())

    # -- snapshots -------------------------------------------------------------------
    def snapshot(self, vol: Volume, snap: Snapshot, then: Callable[[Snapshot], None]) -> None:
        """pending (progress) -> completed | error; ``then`` runs when it ends."""
        snap.zone = self.zone
        self.snapshots[snap.id] = snap
        self.save(snap)

        def progress(percent: int) -> None:
            if snap.state == "pending" and percent > snap.progress:
                snap.progress = min(percent, 99)
                self.save(snap)

        def finished(outcome: Outcome, stored: Stored) -> None:
            if snap.state != "pending":
                return
            if outcome.ok:
                snap.location, snap.data_bytes = stored.location, stored.size
                snap.progress = 100
                snap.set_state("completed")
            else:
                snap.error = outcome.error
                snap.set_state("error")
            self.save(snap)
            if not self.copying(snap.volume_id) and snap.volume_id in self._deferred_deletes:
                self._deferred_deletes.pop(snap.volume_id)()
            then(snap)

        self.backend.snapshot(vol.id, snap.id, progress, finished)

    def delete_snapshot(self, snap: Snapshot) -> None:
        """Remove the stored data and the record."""
        self.snapshots.pop(snap.id, None)
        self.forget(snap)
        if snap.location:
            def deleted(outcome: Outcome) -> None:
                if not outcome.ok:
                    log.warning("could not delete the data of %s: %s", snap.id, outcome.error)

            self.backend.delete_snapshot(snap.location, deleted)

    # -- restart ---------------------------------------------------------------------
    def recover(self) -> None:
        """After a restart: operations that were under way cannot resume; settle them."""
        for vol in list(self.volumes.values()):
            if vol.state == "creating":
                vol.error = "interrupted by a restart"
                vol.set_state("error")
                self.save(vol)
            elif vol.state == "deleting":
                vol.state = "available"  # delete again below, through the lifecycle
                self.delete_volume(vol)
        for snap in self.snapshots.values():
            if snap.state == "pending":
                snap.error = "interrupted by a restart"
                snap.set_state("error")
                self.save(snap)
