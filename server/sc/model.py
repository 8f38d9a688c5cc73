"""EBS records (volumes, snapshots), their declared lifecycles, and the SC's AWS errors.

Lifecycles are tables of allowed transitions (reference §6): an illegal move is one
check in :func:`move`, and it is a programming error, not a user's (users get
``IncorrectState`` from the action handlers before anything moves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from server import errors
from server.db.record import IllegalTransition as IllegalTransition
from server.db.record import Record, move

#: Volume states as EC2 shows them, and where each may go.
VOLUME_STATES: dict[str, frozenset[str]] = {
    "creating": frozenset({"available", "in-use", "error"}),
    "available": frozenset({"in-use", "deleting"}),
    "in-use": frozenset({"available", "deleting"}),
    "deleting": frozenset({"deleted", "error"}),
    "error": frozenset({"deleting"}),
    "deleted": frozenset(),
}

#: Attachment states ("" = never attached since the last detach).
ATTACHMENT_STATES: dict[str, frozenset[str]] = {
    "": frozenset({"attaching", "attached"}),
    "attaching": frozenset({"attached", "detached"}),
    "attached": frozenset({"detaching", "detached"}),
    "detaching": frozenset({"detached", "attached"}),
    "detached": frozenset({"attaching", "attached"}),
}

#: Snapshot states.
SNAPSHOT_STATES: dict[str, frozenset[str]] = {
    "pending": frozenset({"completed", "error"}),
    "completed": frozenset(),
    "error": frozenset(),
}


@dataclass
class Volume(Record):
    """An EBS volume: its size, zone, backing store and (at most one) attachment."""

    KIND: ClassVar[str] = "volume"
    id: str
    account_id: str
    zone: str
    size: int
    snapshot_id: str = ""
    state: str = "creating"
    created: float = 0.0
    volume_type: str = "standard"
    iops: int = 0
    path: str = ""            # backing file (file backend); "" for virtual volumes
    fmt: str = "raw"
    error: str = ""
    instance_id: str = ""
    device: str = ""
    attach_state: str = ""
    attach_time: float = 0.0
    delete_on_termination: bool = False
    auto_enable_io: bool = False  # the autoEnableIO attribute (ModifyVolumeAttribute)
    throughput: int = 0       # MiB/s, gp3 volumes only

    @property
    def attached(self) -> bool:
        """True while the volume belongs to an instance (attaching, attached, detaching)."""
        return self.attach_state in ("attaching", "attached", "detaching")

    def set_state(self, state: str) -> None:
        """Move along :data:`VOLUME_STATES`."""
        self.state = move(VOLUME_STATES, self.state, state, self.id)

    def set_attachment(self, state: str) -> None:
        """Move along :data:`ATTACHMENT_STATES`."""
        self.attach_state = move(ATTACHMENT_STATES, self.attach_state, state, self.id)


@dataclass
class Snapshot(Record):
    """A point-in-time copy of a volume, stored in Walrus (or modelled, virtual backend)."""

    KIND: ClassVar[str] = "snapshot"
    id: str
    account_id: str
    volume_id: str
    volume_size: int
    zone: str = ""
    state: str = "pending"
    progress: int = 0
    started: float = 0.0
    description: str = ""
    location: str = ""        # "bucket/key" in Walrus, or a local path, once stored
    data_bytes: int = 0
    error: str = ""
    public: bool = False
    volume_users: list[str] = field(default_factory=list)  # createVolumePermission UserIds

    def set_state(self, state: str) -> None:
        """Move along :data:`SNAPSHOT_STATES`."""
        self.state = move(SNAPSHOT_STATES, self.state, state, self.id)

    def restorable_by(self, account_id: str) -> bool:
        """May ``account_id`` create volumes from this snapshot?"""
        return self.public or self.account_id == account_id or account_id in self.volume_users


def new_error(name: str, code: str) -> type[errors.AWSError]:
    """An AWS error class for ``code`` (400)."""
    return errors._error(name, code)


InvalidVolumeNotFound = new_error("InvalidVolumeNotFound", "InvalidVolume.NotFound")
InvalidVolumeIDMalformed = new_error("InvalidVolumeIDMalformed", "InvalidVolumeID.Malformed")
InvalidVolumeZoneMismatch = new_error("InvalidVolumeZoneMismatch", "InvalidVolume.ZoneMismatch")
VolumeInUse = new_error("VolumeInUse", "VolumeInUse")
IncorrectState = new_error("IncorrectState", "IncorrectState")
InvalidSnapshotNotFound = new_error("InvalidSnapshotNotFound", "InvalidSnapshot.NotFound")
InvalidSnapshotIDMalformed = new_error("InvalidSnapshotIDMalformed",
                                       "InvalidSnapshotID.Malformed")
InvalidSnapshotInUse = new_error("InvalidSnapshotInUse", "InvalidSnapshot.InUse")
VolumeLimitExceeded = new_error("VolumeLimitExceeded", "VolumeLimitExceeded")
SnapshotLimitExceeded = new_error("SnapshotLimitExceeded", "SnapshotLimitExceeded")
AttachmentLimitExceeded = new_error("AttachmentLimitExceeded", "AttachmentLimitExceeded")
InvalidAttachmentNotFound = new_error("InvalidAttachmentNotFound", "InvalidAttachment.NotFound")
InvalidZoneNotFound = new_error("InvalidZoneNotFound", "InvalidZone.NotFound")
InvalidParameterValue = errors.InvalidParameterValue
