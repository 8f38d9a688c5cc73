"""EBS: ``setup(cloud)`` builds one Storage Controller per zone and the EC2 EBS actions.

Each zone's SC gets its backend from the zone's ``storage_backend`` (``file``: sparse
raw files under ``DATA_DIR/volumes/<zone>/``; ``virtual``: modelled times).  Snapshot
data goes to Walrus (a private ``snapshots-<system account>`` bucket) when the cloud
runs Walrus, else to ``DATA_DIR/snapshots/``.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from server.auth.authz import action, arn, combine, each_param
from server.sc import launch, snapshots, volumes
from server.sc.backends import FileBackend, VirtualBackend, VolumeBackend
from server.sc.controller import StorageController
from server.sc.ebs import BlockStorage
from server.sc.transfer import LocalSnapshotStore, SnapshotStore, WalrusSnapshotStore

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)


def snapshot_store(cloud: Cloud) -> SnapshotStore:
    """Walrus' snapshots bucket, or a local directory when Walrus is absent."""
    walrus = cloud.components.get("walrus")
    if walrus is not None and hasattr(walrus, "multipart_upload_from_file"):
        return WalrusSnapshotStore(walrus, f"snapshots-{walrus.system_account_id()}")
    log.warning("Walrus is not available: snapshots are kept in %s/snapshots", cloud.data_dir)
    return LocalSnapshotStore(os.path.join(cloud.data_dir, "snapshots"))


def setup(cloud: Cloud) -> None:
    """Create the SCs, load volumes and snapshots, register actions and CLC hooks."""
    store: SnapshotStore | None = None
    zones: dict[str, StorageController] = {}
    ebs = BlockStorage(cloud, zones)
    for zone in cloud.config.zones:
        backend: VolumeBackend
        if zone.storage_backend == "virtual":
            backend = VirtualBackend(cloud.clock)
        else:
            store = store or snapshot_store(cloud)
            backend = FileBackend(os.path.join(cloud.data_dir, "volumes", zone.name), store,
                                  cloud.clock)
        zones[zone.name] = StorageController(
            zone.name, cloud.clock, backend, max_volume_gb=zone.max_volume_gb,
            max_total_volume_gb=zone.max_total_volume_gb, save=ebs.save, forget=ebs.forget)
    cloud.components["sc"] = ebs
    cloud.clc.resource_lookups.append(ebs.lookup)
    cloud.clc.instance_listeners.append(ebs.on_instance_state)
    cloud.ec2.actions.update(volumes.ACTIONS)
    cloud.ec2.actions.update(snapshots.ACTIONS)
    cloud.ec2.actions["CreateImage"] = action(
        launch.create_image, "ec2:CreateImage",
        resources=combine(each_param("InstanceId", "instance"),
                          lambda ctx: [arn(ctx, "ec2", "image/*", account="")]))
    ebs.load()
    # Recovery schedules work on the clock, which runs once the loop does.
    cloud.start_hooks.append(ebs.recover)
