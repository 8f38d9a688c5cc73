"""Messages between the CLC, the CC and the NC (the operations of reference §1.3).

Immutable value classes (:func:`message`): in one process they are passed directly;
across processes they are serialized into the same shapes over signed HTTP.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")

#: The empty read-only mapping that specs and node records share by default.
EMPTY: Mapping[str, Any] = MappingProxyType({})


def shared_empty() -> Mapping[str, Any]:
    """The default factory of read-only mapping fields: always :data:`EMPTY` (dataclasses
    refuse an unhashable default, and a fresh dict per record is what this avoids)."""
    return EMPTY


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def message(cls: type[_T]) -> type[_T]:
    """Make ``cls`` a message: a slotted dataclass, immutable as far as the type checker is
    concerned (``mypy --strict`` refuses any assignment to a field), compared and hashed
    by value.

    At run time it is not ``frozen``: a frozen dataclass must store each field through
    ``object.__setattr__`` (a wrapper call and an argument tuple per field), which made
    building a message three times slower than a plain slotted class, and a large
    simulation builds millions (four state reports and a spec per instance).  Here
    ``__init__`` stores straight into the slots; a field whose default factory is
    :func:`shared_empty` gets :data:`EMPTY` itself as its default (no call per message).
    """
    cls = dataclass(slots=True, unsafe_hash=True)(cls)
    params: list[str] = []
    namespace: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    body: list[str] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{name}"] = f.default
            params.append(f"{name}=_default_{name}")
        elif f.default_factory is shared_empty:
            namespace[f"_default_{name}"] = EMPTY
            params.append(f"{name}=_default_{name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{name}"] = f.default_factory
            params.append(f"{name}=_MISSING")
            body.append(f" if {name} is _MISSING: {name} = _factory_{name}()")
        else:
            params.append(name)
        body.append(f" self.{name} = {name}")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)  # noqa: S102 - built from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


@message
class Resources:
    """Cores, memory (MB) and disk (GB): a node's size, or an instance's demand."""

    cores: int
    memory_mb: int
    disk_gb: int

    def fits(self, demand: Resources) -> bool:
        """True if ``demand`` fits into these (available) resources."""
        return (self.cores >= demand.cores and self.memory_mb >= demand.memory_mb
                and self.disk_gb >= demand.disk_gb)

    def minus(self, other: Resources) -> Resources:
        """These resources less ``other``."""
        return Resources(self.cores - other.cores, self.memory_mb - other.memory_mb,
                         self.disk_gb - other.disk_gb)

    def plus(self, other: Resources) -> Resources:
        """These resources plus ``other``."""
        return Resources(self.cores + other.cores, self.memory_mb + other.memory_mb,
                         self.disk_gb + other.disk_gb)

    def count_of(self, demand: Resources) -> int:
        """How many instances of ``demand`` fit (⌊min(cores/c, mem/m, disk/d)⌋)."""
        counts = []
        for have, need in ((self.cores, demand.cores), (self.memory_mb, demand.memory_mb),
                           (self.disk_gb, demand.disk_gb)):
            if need > 0:
                counts.append(max(0, have) // need)
        return min(counts) if counts else 0


@message
class BlockDevice:
    """A disk given to an instance: an EBS volume's backing file or an ephemeral disk."""

    device: str           # guest device name, e.g. /dev/sdf or vdb
    volume_id: str = ""
    path: str = ""        # backing file on the node (file backend), if any
    size_gb: int = 0
    fmt: str = "raw"      # raw | qcow2


@message
class InstanceSpec:
    """Everything a node needs to run one instance (ncRunInstance)."""

    instance_id: str
    vm_type: str
    resources: Resources
    image_id: str = ""
    kernel_id: str = ""
    ramdisk_id: str = ""
    private_ip: str = ""
    public_ip: str = ""
    mac: str = ""
    key_name: str = ""
    public_key: str = ""
    user_data: bytes = b""
    launch_index: int = 0
    groups: tuple[str, ...] = ()
    account_id: str = ""
    reservation_id: str = ""
    block_devices: tuple[BlockDevice, ...] = ()
    root_device_type: str = "instance-store"
    # Where the node fetches image parts (a presigned download manifest) - libvirt driver.
    # Read-only mappings, defaulting to one shared empty one: a simulation makes a spec
    # per lifecycle, and two fresh dicts each would be a third of its allocations.
    image_source: Mapping[str, str] = field(default_factory=shared_empty)
    metadata: Mapping[str, str] = field(default_factory=shared_empty)


class InstanceState(enum.Enum):
    """The NC's instance states (reference §4); reported upward as pending/extant/teardown."""

    STAGING = "staging"
    BOOTING = "booting"
    RUNNING = "running"
    REBOOTING = "rebooting"
    SHUTTING_DOWN = "shutting-down"
    TERMINATED = "terminated"
    FAILED = "failed"
    MIGRATING = "migrating"

    # Enum's own __hash__ is Python code; members are singletons, so identity hashing is
    # equivalent and keeps the state machine's set lookups in C (a hot path at scale).
    __hash__ = object.__hash__


class NodeStatus(enum.Enum):
    """A node as the CC sees it."""

    UP = "UP"
    ASLEEP = "ASLEEP"      # powered down by POWERSAVE
    WAKING = "WAKING"
    DOWN = "DOWN"          # not reporting
    DISABLED = "DISABLED"  # maintenance: no new instances

    __hash__ = object.__hash__  # identity hashing, as for InstanceState


@message
class Outcome:
    """How a driver operation ended."""

    ok: bool
    error: str = ""


OK = Outcome(True)

Done = Callable[[Outcome], None]


@message
class InstanceEvent:
    """A state change the NC reports (pushed, or collected by a CC poll)."""

    instance_id: str
    node: str
    state: InstanceState
    time: float
    reason: str = ""


@message
class InstanceReport:
    """One instance as ncDescribeInstances reports it."""

    instance_id: str
    state: InstanceState
    vm_type: str
    resources: Resources
    launch_time: float
    node: str
    volumes: tuple[str, ...] = ()
