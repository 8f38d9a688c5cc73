"""The Cloud Controller: the CLC's in-memory state, its persistence and its reactions.

Handlers in the resource modules (instances, images, groups, ...) read and change
this state; every change is ``save``d and flushed before the request is answered.
The CLC learns instance states from its CCs' events (reference §1.3, §4).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from server import errors, ids
from server.auth.identity import ADMIN_ACCOUNT
from server.clc.index import InstanceIndex, TagIndex
from server.clc.model import Address, Image, Instance, KeyPair, Record, SecurityGroup, VmType
from server.clc.specs import spec_for
from server.nc.types import InstanceEvent, InstanceState, Resources
from server.protocol.slices import Lane

if TYPE_CHECKING:
    from collections.abc import Mapping

    from server.auth.identity import Identity
    from server.clock import Clock
    from server.config import CloudConfig
    from server.db.store import Store
    from server.ports.cluster import Cluster

log = logging.getLogger(__name__)

#: The 18 predefined Eucalyptus 4.4 VM types (reference §3.3): name, cpu, memory MB, disk GB.
DEFAULT_VM_TYPES: list[tuple[str, int, int, int]] = [
    ("t1.micro", 1, 256, 5), ("m1.small", 1, 256, 5), ("m1.medium", 1, 512, 10),
    ("c1.medium", 2, 512, 10), ("m1.large", 2, 512, 10), ("m1.xlarge", 2, 1024, 10),
    ("c1.xlarge", 2, 2048, 10), ("m2.xlarge", 2, 2048, 10), ("m3.xlarge", 4, 2048, 15),
    ("m2.2xlarge", 2, 4096, 30), ("m3.2xlarge", 4, 4096, 30), ("cc1.4xlarge", 8, 3072, 60),
    ("m2.4xlarge", 8, 4096, 60), ("hi1.4xlarge", 8, 6144, 120), ("cc2.8xlarge", 16, 6144, 120),
    ("cg1.4xlarge", 16, 12288, 200), ("cr1.8xlarge", 16, 16384, 240),
    ("hs1.8xlarge", 48, 119808, 24000),
]

#: Instance states as AWS reports them: name -> code.
STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}

DEFAULT_IMAGE_NAME = "default-image"
MAC_PREFIX = "d0:0d"


#: ID prefixes of resources other accounts may tag for themselves (images, snapshots).
SHAREABLE_PREFIXES = ("emi", "eki", "eri", "ami", "aki", "ari", "snap")

class CloudController:
    """Holds the cloud's records and applies the CCs' instance events to them.

    Its collaborators are handed to it by the composition root: the configuration, the
    clock, the record store, the identity store (accounts) and ``clusters``, the zone ->
    CC map (filled when the cloud starts), through which it reaches the nodes.
    """

    def __init__(self, config: CloudConfig, clock: Clock, store: Store, identity: Identity,
                 clusters: Mapping[str, Cluster]):
        self.config = config
        self.store = store
        self.clock = clock
        self.identity = identity
        self.clusters = clusters
        self.vm_types: dict[str, VmType] = {}
        self.instances: dict[str, Instance] = {}
        self.images: dict[str, Image] = {}
        self.key_pairs: dict[tuple[str, str], KeyPair] = {}
        self.groups: dict[str, SecurityGroup] = {}
        self.group_names: dict[tuple[str, str], str] = {}
        self.addresses: dict[str, Address] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.tag_owner: dict[str, str] = {}
        self.used_private: dict[str, set[str]] = {}
        self.client_tokens: dict[tuple[str, str], list[str]] = {}
        #: Other components add lookups so tags and filters reach their resources.
        self.resource_lookups: list[Callable[[str], Record | None]] = []
        self.instance_listeners: list[Callable[[Instance, str], None]] = []
        #: Called with every record saved or forgotten (guest networking recomputes its
        #: view from them).
        self.change_listeners: list[Callable[[Record], None]] = []
        self.xml_cache: dict[Any, Any] = {}
        #: Instances in Describe order and by field; resources by tag (kept by save*).
        self.instance_index = InstanceIndex()
        self.tag_index = TagIndex()
        #: Where big Describe answers take turns, rendered in slices.
        self.big_answers = Lane()
        #: Counts changes (saves, deletions, tags): a view taken at one count is still
        #: current while the count has not moved.
        self.generation = 0
        self._flush_scheduled = False
        self._load()

    # -- persistence ------------------------------------------------------------------
    def _load(self) -> None:
        for _, _, doc in self.store.load(VmType.KIND):
            vt = VmType.from_doc(doc)
            self.vm_types[vt.id] = vt
        for _, _, doc in self.store.load(Instance.KIND):
            inst = Instance.from_doc(doc)
            self.instances[inst.id] = inst
            self.instance_index.put(inst)
        for _, _, doc in self.store.load(Image.KIND):
            img = Image.from_doc(doc)
            self.images[img.id] = img
        for _, _, doc in self.store.load(KeyPair.KIND):
            kp = KeyPair.from_doc(doc)
            self.key_pairs[(kp.account_id, kp.name)] = kp
        for _, _, doc in self.store.load(SecurityGroup.KIND):
            sg = SecurityGroup.from_doc(doc)
            self.groups[sg.id] = sg
            self.group_names[(sg.account_id, sg.name)] = sg.id
        for _, _, doc in self.store.load(Address.KIND):
            addr = Address.from_doc(doc)
            self.addresses[addr.id] = addr
        for rid, account, doc in self.store.load("tags"):
            self.tags[rid] = doc
            self.tag_owner[rid] = account
            self.tag_index.put(rid, doc)

    def save(self, record: Record) -> None:
        """Write a record through at the next flush."""
        self.store.put(record.KIND, record.id, record.account_id, record.doc())
        self.xml_cache.pop((record.id, False), None)
        self.xml_cache.pop((record.id, True), None)
        if type(record) is Instance:
            self.instance_index.put(record)
        self.generation += 1
        self._schedule_flush()
        for listener in self.change_listeners:
            listener(record)

    def forget(self, record: Record) -> None:
        """Delete a record at the next flush."""
        self.store.delete(record.KIND, record.id)
        if type(record) is Instance:
            self.instance_index.drop(record.id)
        self.generation += 1
        self._schedule_flush()
        for listener in self.change_listeners:
            listener(record)

    def _schedule_flush(self) -> None:
        # Requests flush before answering; this catches changes made by events.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.clock.call_later(0.0, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        try:
            self.store.flush()
        except Exception:
            log.exception("could not persist state; will retry")
            self._flush_scheduled = True
            self.clock.call_later(1.0, self._flush)

    # -- start-up ---------------------------------------------------------------------
    def start(self) -> None:
        """Bootstrap a new cloud, connect to the CCs and restore instances."""
        self._bootstrap()
        types = self.type_resources()
        for cc in self.clusters.values():
            cc.set_vm_types(types)
            cc.listeners.append(self.on_instance_event)
            cc.migrations.listeners.append(self.on_migrated)
        self._sync_address_pool()
        self._restore_instances()
        self._sweep()

    def _bootstrap(self) -> None:
        identity = self.identity
        if ADMIN_ACCOUNT not in identity.account_by_name:
            account = identity.create_account(ADMIN_ACCOUNT)
            identity.create_access_key(account.id, "admin")
            log.info("created the %s account %s", ADMIN_ACCOUNT, account.id)
        if not self.vm_types:
            for order, (name, cpu, mem, disk) in enumerate(DEFAULT_VM_TYPES):
                vt = VmType(name, "", cpu, mem, disk, 2, order)
                self.vm_types[name] = vt
                self.save(vt)
        admin = identity.account(ADMIN_ACCOUNT)
        if not any(i.name == DEFAULT_IMAGE_NAME and i.account_id == admin.id
                   for i in self.images.values()):
            img = Image(ids.image_id("emi"), admin.id, DEFAULT_IMAGE_NAME,
                        "eucalyptus-images/default-image.manifest.xml", public=True,
                        description="Default machine image", owner_alias="",
                        created=self.clock.now(), size_bytes=1 << 30)
            self.images[img.id] = img
            self.save(img)

    def type_resources(self) -> dict[str, Resources]:
        """Every VM type's demand."""
        return {n: Resources(t.cpu, t.memory, t.disk) for n, t in self.vm_types.items()}

    def sorted_vm_types(self) -> list[VmType]:
        """VM types in their canonical order."""
        return sorted(self.vm_types.values(), key=lambda t: (t.order, t.id))

    def _sync_address_pool(self) -> None:
        pool: set[str] = set()
        for zone in self.config.zones:
            pool.update(zone.public_addresses())
        for ip in sorted(pool, key=lambda a: ipaddress.IPv4Address(a)):
            if ip not in self.addresses:
                addr = Address(ip, "")
                self.addresses[ip] = addr
                self.save(addr)
        for ip, addr in list(self.addresses.items()):
            if ip not in pool and not addr.account_id:
                del self.addresses[ip]
                self.forget(addr)

    def _restore_instances(self) -> None:
        """Bring back instances that were running when the cloud last stopped."""
        for inst in sorted(self.instances.values(), key=lambda i: i.launch_time):
            self.used_private.setdefault(inst.zone, set()).add(inst.private_ip)
            if inst.client_token:
                self.client_tokens.setdefault((inst.account_id, inst.client_token), []).append(
                    inst.id)
            if inst.state in ("terminated", "stopped"):
                continue
            cc = self.clusters.get(inst.zone)
            if cc is None or inst.node not in cc.by_name:
                self._set_state(inst, "terminated", "Server.InternalError: node no longer exists")
                continue
            if inst.state in ("shutting-down", "stopping"):
                self._finish_teardown(inst)
                continue
            # The NC re-discovers (libvirt) or re-creates (virtual) the instance.
            try:
                cc.run_on(inst.node, spec_for(self, inst))
            except Exception:
                log.exception("could not restore %s", inst.id)
                self._set_state(inst, "terminated", "Server.InternalError: restore failed")

    # -- periodic work ------------------------------------------------------------------
    def _sweep(self) -> None:
        """Forget terminated instances after the retention period; terminate instances
        pending for longer than ``pending_timeout_seconds`` (cloud.vmstate.pending_time)."""
        retention = self.config.cloud["terminated_retention_seconds"]
        pending_limit = self.config.cloud.get("pending_timeout_seconds") or 0.0
        now = self.clock.now()
        for inst in list(self.instances.values()):
            if inst.state == "terminated" and now - inst.terminated_at >= retention:
                self.drop_instance(inst)
            elif pending_limit and inst.state == "pending" and \
                    now - inst.launch_time >= pending_limit:
                self._expire_pending(inst, pending_limit)
        self.clock.call_later(min(10.0, max(retention / 4, 0.5)), self._sweep)

    def _expire_pending(self, inst: Instance, limit: float) -> None:
        """Terminate an instance that never left pending (a stuck staging or boot)."""
        self._set_state(inst, "shutting-down",
                        f"Server.InternalError: still pending after {limit:g} s")
        cc = self.clusters.get(inst.zone)
        if cc is not None:
            cc.terminate_instance(inst.id)

    def drop_instance(self, inst: Instance) -> None:
        """Remove a terminated instance record for good."""
        self.instances.pop(inst.id, None)
        self.forget(inst)
        self.delete_tags_of(inst.id)

    # -- instance events from the CCs ---------------------------------------------------
    def on_instance_event(self, event: InstanceEvent) -> None:
        """Apply an NC state change (relayed by a CC) to the instance record."""
        inst = self.instances.get(event.instance_id)
        if inst is None:
            return
        state = event.state
        if event.node and not inst.node:
            inst.node = event.node
        if state is InstanceState.RUNNING:
            if inst.state == "pending":
                self._set_state(inst, "running")
        elif state is InstanceState.FAILED:
            inst.state_reason = f"Server.InternalError: {event.reason}" if event.reason else \
                "Server.InternalError"
            self.save(inst)
        elif state is InstanceState.SHUTTING_DOWN:
            if inst.state in ("pending", "running"):
                self._set_state(inst, "shutting-down")
        elif state is InstanceState.TERMINATED:
            self._finish_teardown(inst)
        elif state is InstanceState.STAGING and inst.node != event.node:
            inst.node = event.node
            self.save(inst)

    def on_migrated(self, instance_id: str, node: str, outcome: Any) -> None:
        """A live migration finished: the instance now runs on ``node`` (if it succeeded)."""
        inst = self.instances.get(instance_id)
        if inst is not None and outcome.ok and inst.node != node:
            inst.node = node
            self.save(inst)

    def _finish_teardown(self, inst: Instance) -> None:
        if inst.state == "stopping":
            self._set_state(inst, "stopped")
            self.release_public_ip(inst, auto_only=True)
            return
        if inst.state in ("terminated", "stopped"):
            return  # a late report of the teardown that ended the stop changes nothing
        self._set_state(inst, "terminated")
        inst.terminated_at = self.clock.now()
        self.release_public_ip(inst, auto_only=False)
        self.used_private.get(inst.zone, set()).discard(inst.private_ip)
        self.save(inst)

    def _set_state(self, inst: Instance, state: str, reason: str = "") -> None:
        """The one place instances change state: along the declared lifecycle
        (:data:`~server.clc.model.INSTANCE_STATES`), stamped, saved, and announced."""
        previous = inst.state
        inst.set_state(state)
        inst.transition_time = self.clock.now()
        if reason:
            inst.state_reason = reason
        if state == "terminated" and not inst.terminated_at:
            inst.terminated_at = inst.transition_time
        self.save(inst)
        for listener in self.instance_listeners:
            listener(inst, previous)

    # -- addresses ----------------------------------------------------------------------
    def allocate_private_ip(self, zone: str) -> str:
        """The next free private address in a zone's subnet."""
        subnet = ipaddress.IPv4Network(self.config.zones[self.zone_index(zone)].private_subnet)
        used = self.used_private.setdefault(zone, set())
        hosts = subnet.num_addresses - 2
        base = int(subnet.network_address)
        start = len(used) % max(hosts - 1, 1)
        for n in range(hosts - 1):
            candidate = str(ipaddress.IPv4Address(base + 2 + (start + n) % (hosts - 1)))
            if candidate not in used:
                used.add(candidate)
                return candidate
        raise errors.AWSError(f"No private addresses left in {subnet} for zone {zone}",
                              code="InsufficientFreeAddressesInSubnet")

    def zone_index(self, zone: str) -> int:
        """Position of a zone in the config."""
        for n, z in enumerate(self.config.zones):
            if z.name == zone:
                return n
        raise errors.InvalidParameterValue(f"Invalid availability zone: [{zone}]")

    def free_public_ips(self) -> list[Address]:
        """Pool addresses nobody holds."""
        return [a for a in self.addresses.values() if not a.account_id]

    def take_public_ip(self, account_id: str, *, auto: bool) -> Address:
        """Take a free pool address for an account (auto: assigned at launch)."""
        for addr in self.addresses.values():
            if not addr.account_id:
                addr.account_id = account_id
                addr.auto = auto
                addr.allocation_id = ids.resource_id("eipalloc")
                self.save(addr)
                return addr
        raise errors.AWSError("There are no more public addresses available in the pool",
                              code="AddressLimitExceeded")

    def release_public_ip(self, inst: Instance, *, auto_only: bool) -> None:
        """Free an instance's public address: auto-assigned ones return to the pool."""
        if not inst.public_ip:
            return
        addr = self.addresses.get(inst.public_ip)
        if addr is not None and addr.instance_id == inst.id:
            if addr.auto:
                self.addresses[addr.id] = Address(addr.id, "")
                self.save(self.addresses[addr.id])
            elif not auto_only:
                addr.instance_id = addr.association_id = addr.private_ip = ""
                self.save(addr)
            else:
                return
        inst.public_ip = ""
        inst.elastic_ip = False
        self.save(inst)

    @staticmethod
    def mac_for(instance_id: str) -> str:
        """A MAC address with Eucalyptus' d0:0d prefix, derived from the instance ID."""
        h = instance_id.split("-", 1)[1][:8].ljust(8, "0")
        return MAC_PREFIX + ":" + ":".join(h[i:i + 2] for i in range(0, 8, 2))

    # -- ownership and lookups -----------------------------------------------------------
    def lookup(self, resource_id: str) -> Record | None:
        """Any taggable resource by ID."""
        for table in (self.instances, self.images, self.groups):
            record = table.get(resource_id)
            if record is not None:
                return record
        for addr in self.addresses.values():
            if addr.allocation_id == resource_id:
                return addr
        if resource_id.startswith("key-"):
            for kp in self.key_pairs.values():
                if kp.key_id == resource_id:
                    return kp
        for finder in self.resource_lookups:
            found = finder(resource_id)
            if found is not None:
                return found
        return None

    def delete_tags_of(self, resource_id: str) -> None:
        """Drop a deleted resource's tags (and other accounts' tags of a shared image or
        snapshot, kept as ``ID@ACCOUNT``)."""
        keys = [resource_id]
        if resource_id.split("-", 1)[0] in SHAREABLE_PREFIXES:
            keys += [k for k in self.tags if k.startswith(resource_id + "@")]
        for key in keys:
            if self.tags.pop(key, None) is not None:
                self.generation += 1
                self.tag_index.drop(key)
                self.tag_owner.pop(key, None)
                self.store.delete("tags", key)
                self._schedule_flush()

    def save_tags(self, resource_id: str, account_id: str) -> None:
        """Persist one resource's tags."""
        tags = self.tags.get(resource_id)
        self.xml_cache.pop((resource_id, False), None)
        self.xml_cache.pop((resource_id, True), None)
        self.tag_index.put(resource_id, tags or {})
        self.generation += 1
        if tags:
            self.tag_owner[resource_id] = account_id
            self.store.put("tags", resource_id, account_id, tags)
        else:
            self.tags.pop(resource_id, None)
            self.tag_owner.pop(resource_id, None)
            self.store.delete("tags", resource_id)
        self._schedule_flush()

    def default_group(self, account_id: str) -> SecurityGroup:
        """The account's ``default`` security group, created on first use."""
        gid = self.group_names.get((account_id, "default"))
        if gid is not None:
            return self.groups[gid]
        sg = SecurityGroup(ids.resource_id("sg"), account_id, "default", "default group")
        for proto, lo, hi in (("tcp", 0, 65535), ("udp", 0, 65535), ("icmp", -1, -1)):
            sg.ingress.append({"proto": proto, "from": lo, "to": hi, "cidrs": [],
                               "groups": [[account_id, sg.id, "default"]]})
        self.groups[sg.id] = sg
        self.group_names[(account_id, "default")] = sg.id
        self.save(sg)
        return sg

    def release_account(self, account_id: str, *, check_only: bool) -> None:
        """Delete (or check for) an account's EC2 resources before the account goes."""
        live = [i for i in self.instances.values()
                if i.account_id == account_id and i.state != "terminated"]
        if check_only:
            if live:
                raise errors.AWSError("The account still has instances; use --recursive",
                                      code="DeleteConflict", status=409)
            return
        for inst in live:
            cc = self.clusters.get(inst.zone)
            if cc is not None:
                cc.terminate_instance(inst.id)
        for key in [k for k in self.key_pairs if k[0] == account_id]:
            self.forget(self.key_pairs.pop(key))
        for sg in [g for g in self.groups.values() if g.account_id == account_id]:
            del self.groups[sg.id]
            self.group_names.pop((account_id, sg.name), None)
            self.forget(sg)
        for addr in self.addresses.values():
            if addr.account_id == account_id and not addr.instance_id:
                self.addresses[addr.id] = Address(addr.id, "")
                self.save(self.addresses[addr.id])


def owned(records: Iterable[Any], account_id: str, everyone: bool = False) -> list[Any]:
    """Records of one account (or all, for an admin's ``verbose``)."""
    if everyone:
        return list(records)
    return [r for r in records if r.account_id == account_id]
