"""The CLC's records: what users asked for and what is true, as plain dataclasses.

Each record is persisted as a JSON document (``Store.put(kind, id, account, doc)``);
``KIND`` names its kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

# Re-exported: the CLC's records derive from it and other modules import it from here.
from server.db.record import Record as Record
from server.db.record import move

#: The instance lifecycle as users see it (reference §4; AWS's instance states), and
#: where each state may go.  The CLC moves instances only through
#: :meth:`Instance.set_state`.  pending -> running when the NC reports it; stop
#: (EBS-backed) and terminate go through stopping / shutting-down while the NC tears the
#: instance down; a failed launch, or a node lost across a restart, ends in terminated
#: directly; a stopped instance starts again as pending.
INSTANCE_STATES: dict[str, frozenset[str]] = {
    "pending": frozenset({"running", "stopping", "shutting-down", "terminated"}),
    "running": frozenset({"stopping", "shutting-down", "terminated"}),
    "stopping": frozenset({"stopped", "shutting-down", "terminated"}),
    "stopped": frozenset({"pending", "shutting-down"}),
    "shutting-down": frozenset({"terminated"}),
    "terminated": frozenset(),
}


#: AWS's StateReason of an instance its owner stopped or terminated.
USER_SHUTDOWN = "Client.UserInitiatedShutdown: User initiated shutdown"

@dataclass
class VmType(Record):
    """A VM type (instance type): cores, memory and disk; admin-modifiable."""

    KIND: ClassVar[str] = "vm_type"
    id: str
    account_id: str
    cpu: int
    memory: int
    disk: int
    network_interfaces: int = 2
    order: int = 0


@dataclass
class Instance(Record):
    """An instance as the CLC records it."""

    KIND: ClassVar[str] = "instance"
    id: str
    account_id: str
    reservation_id: str
    image_id: str
    vm_type: str
    zone: str
    state: str
    launch_time: float
    node: str = ""
    kernel_id: str = ""
    ramdisk_id: str = ""
    key_name: str = ""
    groups: list[list[str]] = field(default_factory=list)  # [[group id, name], ...]
    private_ip: str = ""
    public_ip: str = ""
    elastic_ip: bool = False
    mac: str = ""
    user_data: str = ""  # base64
    launch_index: int = 0
    client_token: str = ""
    monitoring: str = "disabled"
    root_device_type: str = "instance-store"
    root_device_name: str = "/dev/sda1"
    block_devices: list[dict[str, Any]] = field(default_factory=list)
    state_reason: str = ""
    transition_time: float = 0.0
    terminated_at: float = 0.0
    disable_api_termination: bool = False
    disable_api_stop: bool = False   # stop protection (DisableApiStop)
    shutdown_behavior: str = "stop"
    architecture: str = "x86_64"
    platform: str = ""
    virtualization_type: str = "paravirtual"
    ebs_optimized: bool = False
    source_dest_check: bool = True
    requester: str = ""
    addressing: str = "public"
    #: The IAM instance profile (ARN, ID) whose role the instance acts as, if any.
    iam_profile: list[str] = field(default_factory=list)

    def set_state(self, state: str) -> None:
        """Move along :data:`INSTANCE_STATES` (``IllegalTransition`` otherwise)."""
        self.state = move(INSTANCE_STATES, self.state, state, self.id)


@dataclass
class Image(Record):
    """A registered machine, kernel or ramdisk image."""

    KIND: ClassVar[str] = "image"
    id: str
    account_id: str
    name: str
    location: str
    image_type: str = "machine"
    state: str = "available"
    public: bool = False
    launch_users: list[str] = field(default_factory=list)
    description: str = ""
    architecture: str = "x86_64"
    kernel_id: str = ""
    ramdisk_id: str = ""
    platform: str = ""
    root_device_type: str = "instance-store"
    root_device_name: str = "/dev/sda1"
    block_devices: list[dict[str, Any]] = field(default_factory=list)
    virtualization_type: str = "paravirtual"
    hypervisor: str = "xen"
    owner_alias: str = ""
    created: float = 0.0
    product_codes: list[str] = field(default_factory=list)
    size_bytes: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass
class KeyPair(Record):
    """A key pair: its public half and AWS-style fingerprint."""

    KIND: ClassVar[str] = "key_pair"
    id: str          # account:name (record key)
    account_id: str
    name: str
    key_id: str
    fingerprint: str
    public_key: str
    created: float = 0.0
    key_type: str = "rsa"


@dataclass
class SecurityGroup(Record):
    """A security group with ingress and egress rules."""

    KIND: ClassVar[str] = "security_group"
    id: str
    account_id: str
    name: str
    description: str
    ingress: list[dict[str, Any]] = field(default_factory=list)
    egress: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Address(Record):
    """A public address: in the pool (no account), allocated, or auto-assigned."""

    KIND: ClassVar[str] = "address"
    id: str          # the public IP
    account_id: str  # "" while free in the pool
    allocation_id: str = ""
    instance_id: str = ""
    association_id: str = ""
    private_ip: str = ""
    auto: bool = False  # assigned at launch, released at terminate
