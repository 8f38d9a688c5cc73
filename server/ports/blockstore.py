"""BlockStore: what the CLC asks of one availability zone's Storage Controller.

Reference eucalyptus.md §1.3 and §6: the CLC owns the EC2 EBS API and the users'
volume and snapshot records; each zone's SC does the storage work: it enforces the
zone's capacity, creates, deletes and snapshots volumes on its backend (files or
modelled time), uploads snapshots to the object store, and exports a volume for
attachment (the device the CC hands to the NC).  Every call is
event-driven: the SC moves the record along its lifecycle and reports through the
record's ``save`` callback, and through ``then`` for snapshots.  Attaching exports the
volume to its instance (:meth:`BlockStore.export_volume`), detaching withdraws it.

:class:`server.sc.controller.StorageController` implements it in process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from server.sc.model import Snapshot, Volume


class BlockStore(Protocol):
    """One zone's Storage Controller as the CLC sees it."""

    @property
    def zone(self) -> str:
        """The availability zone this SC serves."""

    # -- capacity --------------------------------------------------------------------
    def used_gb(self) -> int:
        """GiB held by this zone's volumes."""

    def check_capacity(self, sizes: list[int]) -> None:
        """Raise ``InvalidParameterValue``/``VolumeLimitExceeded`` unless volumes of these
        sizes fit the zone's per-volume and total limits."""

    def check_snapshot_capacity(self, size: int) -> None:
        """Raise ``SnapshotLimitExceeded`` unless a snapshot of ``size`` GiB fits."""

    # -- volumes ---------------------------------------------------------------------
    def add(self, vol: Volume) -> None:
        """Adopt a volume record read back at start."""

    def add_snapshot(self, snap: Snapshot) -> None:
        """Adopt a snapshot record read back at start."""

    def create_volume(self, vol: Volume, location: str = "") -> None:
        """Start creating ``vol`` (blank, or restored from the snapshot stored at
        ``location``): ``creating`` -> ``available`` | ``error``, reported by ``save``.
        Sets ``vol.path``, the export the NC attaches."""

    def create_volume_now(self, vol: Volume, location: str = "") -> None:
        """Create ``vol``'s data before returning (an instance's launch-time volume)."""

    def delete_volume(self, vol: Volume) -> None:
        """``deleting`` -> ``deleted`` (then the record is forgotten) | ``error``; the data
        goes once no snapshot is still reading it."""

    # -- export for attachment --------------------------------------------------------
    def export_volume(self, vol: Volume, instance_id: str) -> str:
        """Export ``vol`` to the instance it is being attached to; returns the device the
        NC connects (reference §6 ExportVolume / GetVolumeToken)."""

    def unexport_volume(self, vol: Volume) -> None:
        """Withdraw the export after detaching (reference §6 UnexportVolume)."""

    # -- snapshots -------------------------------------------------------------------
    def snapshot(self, vol: Volume, snap: Snapshot, then: Callable[[Snapshot], None]) -> None:
        """Copy ``vol`` to the object store: ``pending`` (progress) -> ``completed`` |
        ``error``; ``then`` runs when it ends."""

    def delete_snapshot(self, snap: Snapshot) -> None:
        """Forget the snapshot and remove its stored data."""

    # -- restart ---------------------------------------------------------------------
    def recover(self) -> None:
        """Settle the operations a restart interrupted (on the running loop)."""
