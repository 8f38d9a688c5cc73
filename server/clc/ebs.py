"""The CLC's EBS (``cloud.ebs``): the volume and snapshot records, every zone's SC
reached through the :class:`~server.ports.blockstore.BlockStore` port, and the CLC's
hooks (launch-time volumes, attach/detach through the CC, termination).

Attach and detach follow reference §6: the attachment goes ``attaching`` while the CC
relays ncAttachVolume and the hypervisor plugs the disk in, then ``attached``; a
volume attached to a stopped instance is simply part of its block-device map and is
plugged in when the instance starts again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from server import errors, ids
from server.clc.model import Image, Instance, Record
from server.nc.types import OK, BlockDevice, Outcome
from server.ports.blockstore import BlockStore
from server.sc.model import (
    AttachmentLimitExceeded,
    IncorrectState,
    InvalidSnapshotIDMalformed,
    InvalidSnapshotNotFound,
    InvalidVolumeIDMalformed,
    InvalidVolumeNotFound,
    Snapshot,
    Volume,
)

if TYPE_CHECKING:
    from server.clc.controller import CloudController
    from server.clock import Clock
    from server.db.store import Store
    from server.ports.cluster import Cluster
    from server.protocol.params import Params
    from server.protocol.query import Context

log = logging.getLogger(__name__)

#: Volumes per instance, root included (reference §6: "about 24-25 volumes per VM").
MAX_ATTACHMENTS = 24


class BlockStorage:
    """All zones' storage controllers, the volume and snapshot records, and CLC hooks.

    ``zones`` (zone -> its SC) is filled by the composition root once the SCs exist: they
    persist their records through :meth:`save` and :meth:`forget`.  ``clusters`` is the
    cloud's zone -> CC map, through which attachments reach the nodes.
    """

    def __init__(self, clc: CloudController, clock: Clock, store: Store,
                 clusters: Mapping[str, Cluster]):
        self.clc = clc
        self.clock = clock
        self.store = store
        self.clusters = clusters
        self.zones: dict[str, BlockStore] = {}
        self.volumes: dict[str, Volume] = {}
        self.snapshots: dict[str, Snapshot] = {}

    # -- records ---------------------------------------------------------------------
    def load(self) -> None:
        """Read the volume and snapshot records back."""
        for _, _, doc in self.store.load(Volume.KIND):
            vol = Volume.from_doc(doc)
            self.volumes[vol.id] = vol
            sc = self.zones.get(vol.zone)
            if sc is not None:
                sc.add(vol)
        for _, _, doc in self.store.load(Snapshot.KIND):
            snap = Snapshot.from_doc(doc)
            self.snapshots[snap.id] = snap
            sc = self.zones.get(snap.zone)
            if sc is not None:
                sc.add_snapshot(snap)

    def recover(self) -> None:
        """Settle operations a restart interrupted (on the running loop)."""
        for sc in self.zones.values():
            sc.recover()
        for vol in list(self.volumes.values()):
            if vol.attach_state not in ("attaching", "detaching"):
                continue
            inst = self.clc.instances.get(vol.instance_id)
            if vol.attach_state == "attaching" and inst is not None and \
                    inst.state != "terminated" and self.block_device(inst, vol.id) is not None:
                # Restored instances get every block device of their record again.
                vol.set_attachment("attached")
                bd = self.block_device(inst, vol.id)
                if bd is not None:
                    bd["status"] = "attached"
                self.clc.save(inst)
            else:
                self._release(vol, inst)
                if inst is not None:
                    self.clc.save(inst)
            self.save(vol)

    def save(self, record: Record) -> None:
        """Persist a record at the next flush (and track it)."""
        if isinstance(record, Volume):
            self.volumes[record.id] = record
        elif isinstance(record, Snapshot):
            self.snapshots[record.id] = record
        self.clc.save(record)

    def forget(self, record: Record) -> None:
        """Drop a deleted record and its tags."""
        if isinstance(record, Volume):
            self.volumes.pop(record.id, None)
        elif isinstance(record, Snapshot):
            self.snapshots.pop(record.id, None)
        self.clc.forget(record)
        self.clc.delete_tags_of(record.id)

    def lookup(self, resource_id: str) -> Record | None:
        """A volume or snapshot by ID (for tags)."""
        return self.volumes.get(resource_id) or self.snapshots.get(resource_id)

    def sc(self, zone: str) -> BlockStore:
        """The SC of a zone (InvalidParameterValue for an unknown zone, as EC2)."""
        sc = self.zones.get(zone)
        if sc is None:
            raise errors.InvalidParameterValue(f"Invalid availability zone: [{zone}]")
        return sc

    def volume(self, ctx: Context, volume_id: str) -> Volume:
        """One of the caller's volumes (the cloud admin may act on any)."""
        vol = self.volumes.get(volume_id)
        if vol is None or vol.state == "deleted" or not (
                ctx.is_admin or vol.account_id == ctx.account_id):
            if not ids.well_formed(volume_id, "vol"):
                raise InvalidVolumeIDMalformed(f'Invalid id: "{volume_id}"')
            raise InvalidVolumeNotFound(f"The volume '{volume_id}' does not exist.")
        return vol

    def snapshot(self, ctx: Context, snapshot_id: str, *, own: bool = False) -> Snapshot:
        """A snapshot the caller may use (``own``: must own it)."""
        snap = self.snapshots.get(snapshot_id)
        usable = snap is not None and (ctx.is_admin or (
            snap.account_id == ctx.account_id if own else snap.restorable_by(ctx.account_id)))
        if snap is None or not usable:
            if not ids.well_formed(snapshot_id, "snap"):
                raise InvalidSnapshotIDMalformed(f'Invalid id: "{snapshot_id}"')
            raise InvalidSnapshotNotFound(f"The snapshot '{snapshot_id}' does not exist.")
        return snap

    def completed_snapshot(self, ctx: Context, snapshot_id: str) -> Snapshot:
        """A snapshot the caller may restore, which must have completed."""
        snap = self.snapshot(ctx, snapshot_id)
        if snap.state != "completed":
            raise IncorrectState(f"Snapshot '{snap.id}' is {snap.state}, not completed.")
        return snap

    def check_snapshot_usable(self, ctx: Context, snapshot_id: str) -> None:
        """RegisterImage's check of a root snapshot: visible to the caller, not failed."""
        snap = self.snapshot(ctx, snapshot_id)
        if snap.state == "error":
            raise IncorrectState(f"Snapshot '{snap.id}' failed: {snap.error}")

    # -- attach and detach -----------------------------------------------------------
    @staticmethod
    def block_device(inst: Instance, volume_id: str) -> dict[str, Any] | None:
        """The instance's block-device entry of a volume."""
        return next((b for b in inst.block_devices if b.get("volume_id") == volume_id), None)

    def check_attachable(self, inst: Instance, device: str) -> None:
        """The device name is free and the instance has room for one more volume."""
        if any(b.get("device") == device for b in inst.block_devices) or \
                device == inst.root_device_name:
            raise errors.InvalidParameterValue(
                f"Attachment point {device} is already in use on {inst.id}")
        count = sum(1 for b in inst.block_devices if b.get("volume_id"))
        if count >= MAX_ATTACHMENTS:
            raise AttachmentLimitExceeded(
                f"Instance {inst.id} already has {count} volumes attached (at most "
                f"{MAX_ATTACHMENTS})")

    def attach(self, vol: Volume, inst: Instance, device: str) -> None:
        """available -> in-use, attaching -> attached (when the hypervisor has the disk)."""
        now = self.clock.now()
        vol.set_state("in-use")
        vol.set_attachment("attaching")
        vol.instance_id, vol.device, vol.attach_time = inst.id, device, now
        vol.delete_on_termination, vol.error = False, ""
        path = self.sc(vol.zone).export_volume(vol, inst.id)
        inst.block_devices.append({
            "device": device, "volume_id": vol.id, "path": path, "size": vol.size,
            "fmt": vol.fmt, "status": "attaching", "attach_time": now,
            "delete_on_termination": False})
        self.save(vol)
        self.clc.save(inst)

        def done(outcome: Outcome) -> None:
            if vol.attach_state != "attaching" or vol.instance_id != inst.id:
                return
            bd = self.block_device(inst, vol.id)
            if outcome.ok:
                vol.set_attachment("attached")
                if bd is not None:
                    bd["status"] = "attached"
            else:
                log.warning("attaching %s to %s failed: %s", vol.id, inst.id, outcome.error)
                vol.error = outcome.error
                self._release(vol, inst)
            self.save(vol)
            self.clc.save(inst)

        if inst.state == "running":
            disk = BlockDevice(device, vol.id, path, vol.size, vol.fmt)
            self._relay(lambda: self.clusters[inst.zone].attach_volume(inst.id, disk, done),
                        done)
        else:  # stopped: the disk is in the block-device map the NC gets at start
            self.clock.call_later(0.0, lambda: done(OK))

    def detach(self, vol: Volume, *, force: bool) -> None:
        """attached -> detaching -> detached; the volume is available again."""
        inst = self.clc.instances.get(vol.instance_id)
        vol.set_attachment("detaching")
        self.save(vol)
        if inst is not None:
            bd = self.block_device(inst, vol.id)
            if bd is not None:
                bd["status"] = "detaching"
            self.clc.save(inst)

        def done(outcome: Outcome) -> None:
            if vol.attach_state != "detaching":
                return
            if outcome.ok or force:
                self._release(vol, inst)
            else:
                log.warning("detaching %s failed: %s", vol.id, outcome.error)
                vol.error = outcome.error
                vol.set_attachment("attached")
                bd = self.block_device(inst, vol.id) if inst is not None else None
                if bd is not None:
                    bd["status"] = "attached"
            self.save(vol)
            if inst is not None:
                self.clc.save(inst)

        if inst is not None and inst.state == "running":
            iid = inst.id
            self._relay(lambda: self.clusters[inst.zone].detach_volume(iid, vol.id, done),
                        done)
        else:
            self.clock.call_later(0.0, lambda: done(OK))

    @staticmethod
    def _relay(call: Callable[[], None], done: Callable[[Outcome], None]) -> None:
        try:
            call()
        except KeyError as exc:  # the NC no longer has the instance
            done(Outcome(False, f"instance not on its node: {exc}"))

    def _release(self, vol: Volume, inst: Instance | None) -> None:
        """Forget the attachment on both sides."""
        if inst is not None:
            inst.block_devices = [b for b in inst.block_devices if b.get("volume_id") != vol.id]
        vol.set_attachment("detached")
        if vol.state == "in-use":
            vol.set_state("available")
        vol.instance_id, vol.device = "", ""
        sc = self.zones.get(vol.zone)
        if sc is not None:
            sc.unexport_volume(vol)

    # -- CLC hooks: launch and termination -------------------------------------------
    def check_launch(self, ctx: Context, image: Image, insts: list[Instance],
                     params: Params) -> None:
        """Validate the launch's EBS mappings and create its volumes before placement."""
        from server.clc.ebs_launch import create_launch_volumes

        create_launch_volumes(self, ctx, image, insts, params)

    def instances_launched(self, ctx: Context, image: Image, insts: list[Instance],
                           params: Params) -> None:
        """Nothing left to do: volumes were made (and unplaced ones are reaped) earlier."""

    def instance_terminating(self, inst: Instance) -> None:
        """Show the instance's attachments as detaching until the instance is gone."""
        if inst.state == "terminated":
            return  # already released by the state listener
        for bd in inst.block_devices:
            vol = self.volumes.get(bd.get("volume_id", ""))
            if vol is not None and vol.instance_id == inst.id and vol.attach_state == "attached":
                vol.set_attachment("detaching")
                bd["status"] = "detaching"
                self.save(vol)
        self.clc.save(inst)

    def on_instance_state(self, inst: Instance, previous: str) -> None:
        """CLC listener: a terminated instance releases its volumes (or deletes them)."""
        if inst.state != "terminated" or not inst.block_devices:
            return
        for bd in list(inst.block_devices):
            vol = self.volumes.get(bd.get("volume_id", ""))
            if vol is None or vol.instance_id != inst.id:
                continue
            delete = bool(bd.get("delete_on_termination", vol.delete_on_termination))
            self._release(vol, inst)
            self.save(vol)
            if delete:
                self.zones[vol.zone].delete_volume(vol)
        inst.block_devices = []
        self.clc.save(inst)

    def reap_unlaunched(self, insts: list[Instance]) -> None:
        """Delete the launch volumes of instances that were not placed after all."""
        for inst in insts:
            if self.clc.instances.get(inst.id) is inst:
                continue
            for bd in inst.block_devices:
                vol = self.volumes.get(bd.get("volume_id", ""))
                if vol is not None and vol.instance_id == inst.id:
                    self._release(vol, None)
                    self.zones[vol.zone].delete_volume(vol)

    def new_volume(self, account_id: str, zone: str, size: int, snapshot_id: str = "",
                   volume_type: str = "standard", iops: int = 0) -> Volume:
        """A fresh volume record in ``creating``."""
        return Volume(ids.resource_id("vol"), account_id, zone, size, snapshot_id,
                      created=self.clock.now(), volume_type=volume_type or "standard",
                      iops=iops)
