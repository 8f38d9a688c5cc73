"""The Storage Controllers: one per zone, built by the composition root.

Each zone's SC gets its backend from the zone's ``storage_backend`` (``file``: sparse
raw files under ``DATA_DIR/volumes/<zone>/``; ``virtual``: modelled times).  Snapshot
data goes to the object store (a private ``snapshots-<system account>`` bucket in
Walrus) when the cloud runs one, else to ``DATA_DIR/snapshots/``.  The EC2 EBS API
that drives them is the CLC's (``server/clc/volumes.py``, ``server/clc/snapshots.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from server.clock import Clock
from server.config import CloudConfig
from server.db.record import Record
from server.ports.objectstore import ObjectStore
from server.sc.backends import FileBackend, VirtualBackend, VolumeBackend
from server.sc.controller import StorageController
from server.sc.transfer import LocalSnapshotStore, SnapshotStore, WalrusSnapshotStore

log = logging.getLogger(__name__)


def snapshot_store(objects: ObjectStore | None, data_dir: str) -> SnapshotStore:
    """Walrus' snapshots bucket, or a local directory when the cloud has no object store."""
    if objects is not None:
        return WalrusSnapshotStore(objects, f"snapshots-{objects.system_account_id()}")
    log.warning("Walrus is not available: snapshots are kept in %s/snapshots", data_dir)
    return LocalSnapshotStore(os.path.join(data_dir, "snapshots"))


def storage_controllers(config: CloudConfig, clock: Clock, objects: ObjectStore | None, *,
                        save: Callable[[Record], None],
                        forget: Callable[[Record], None]) -> dict[str, StorageController]:
    """Zone -> its SC; records are persisted through ``save`` and ``forget`` (the CLC's)."""
    store: SnapshotStore | None = None
    zones: dict[str, StorageController] = {}
    for zone in config.zones:
        backend: VolumeBackend
        if zone.storage_backend == "virtual":
            backend = VirtualBackend(clock)
        else:
            store = store or snapshot_store(objects, config.data_dir)
            backend = FileBackend(os.path.join(config.data_dir, "volumes", zone.name), store,
                                  clock)
        zones[zone.name] = StorageController(
            zone.name, clock, backend, max_volume_gb=zone.max_volume_gb,
            max_total_volume_gb=zone.max_total_volume_gb, save=save, forget=forget)
    return zones
