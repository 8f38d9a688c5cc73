"""Secondary indexes of the CLC's instances and tags, so that a Describe costs what it returns.

The CLC keeps its records in dicts by id. DescribeInstances needs more: the caller's
instances in launch order (a page of 1,000 out of 10,000 must not sort 10,000), and the
instances with a given state, zone, tag, ... (a filter must not test every instance).
The indexes are kept by :class:`~server.clc.controller.CloudController` at the points
where records change anyway (``save``, ``forget``, ``save_tags``), the same contract the
rendered-XML cache relies on.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import islice

from server.clc.model import Instance

#: An instance's place in DescribeInstances order: launch time, reservation, launch
#: index, id (unique, never changes for an instance).
SortKey = tuple[float, str, int, str]

#: Instance filters answered from an index when their values have no wildcard:
#: filter name -> the Instance field it reads.
INDEXED_FIELDS = {
    "instance-state-name": "state",
    "availability-zone": "zone",
    "instance-type": "vm_type",
    "image-id": "image_id",
    "reservation-id": "reservation_id",
    "key-name": "key_name",
    "host-id": "node",
}


def sort_key(inst: Instance) -> SortKey:
    """Where an instance sorts in DescribeInstances."""
    return (inst.launch_time, inst.reservation_id, inst.launch_index, inst.id)


def is_exact(values: Iterable[str]) -> bool:
    """True if no filter value is a wildcard pattern (so an index can answer it)."""
    return not any("*" in v or "?" in v for v in values)


class OrderedKeys:
    """Sort keys in order, with insertion and removal by bisection (appends are the
    common case: new instances launch last)."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[SortKey] = []

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: SortKey) -> None:
        """Insert a key (no-op if present)."""
        keys = self.keys
        if not keys or keys[-1] < key:
            keys.append(key)
            return
        pos = bisect_left(keys, key)
        if pos == len(keys) or keys[pos] != key:
            keys.insert(pos, key)

    def remove(self, key: SortKey) -> None:
        """Remove a key (no-op if absent)."""
        keys = self.keys
        pos = bisect_left(keys, key)
        if pos < len(keys) and keys[pos] == key:
            del keys[pos]

    def after(self, key: SortKey | None) -> Iterator[SortKey]:
        """The keys that sort after ``key`` (all of them for None), in order."""
        start = 0 if key is None else bisect_right(self.keys, key)
        return islice(self.keys, start, None)


class InstanceIndex:
    """Instances in DescribeInstances order (all, and per account) and by field value."""

    def __init__(self) -> None:
        self.everyone = OrderedKeys()
        self.by_account: dict[str, OrderedKeys] = {}
        self.by_field: dict[str, dict[str, set[str]]] = {name: {} for name in INDEXED_FIELDS}
        self.keys: dict[str, SortKey] = {}
        self._indexed: dict[str, tuple[str, tuple[str, ...]]] = {}  # id -> account, values

    def put(self, inst: Instance) -> None:
        """Index a new or changed instance."""
        values = tuple(str(getattr(inst, f)) for f in INDEXED_FIELDS.values())
        before = self._indexed.get(inst.id)
        if before is not None and before == (inst.account_id, values):
            return
        if before is None:
            key = sort_key(inst)
            self.keys[inst.id] = key
            self.everyone.add(key)
            self.by_account.setdefault(inst.account_id, OrderedKeys()).add(key)
        for n, name in enumerate(INDEXED_FIELDS):
            old = before[1][n] if before is not None else None
            if old == values[n]:
                continue
            table = self.by_field[name]
            if old is not None:
                self._discard(table, old, inst.id)
            table.setdefault(values[n], set()).add(inst.id)
        self._indexed[inst.id] = (inst.account_id, values)

    def drop(self, instance_id: str) -> None:
        """Forget an instance."""
        before = self._indexed.pop(instance_id, None)
        if before is None:
            return
        key = self.keys.pop(instance_id)
        self.everyone.remove(key)
        mine = self.by_account.get(before[0])
        if mine is not None:
            mine.remove(key)
        for n, name in enumerate(INDEXED_FIELDS):
            self._discard(self.by_field[name], before[1][n], instance_id)

    @staticmethod
    def _discard(table: dict[str, set[str]], value: str, rid: str) -> None:
        ids = table.get(value)
        if ids is not None:
            ids.discard(rid)
            if not ids:
                del table[value]

    def ordered(self, account_id: str | None) -> OrderedKeys:
        """One account's instances in order (every account's for None)."""
        if account_id is None:
            return self.everyone
        return self.by_account.get(account_id) or OrderedKeys()

    def with_values(self, name: str, values: list[str]) -> set[str] | None:
        """Ids of instances whose ``name`` filter field is one of ``values``; None if the
        filter is not indexed or a value is a wildcard."""
        table = self.by_field.get(name)
        if table is None or not is_exact(values):
            return None
        out: set[str] = set()
        for v in values:
            out |= table.get(v, set())
        return out


class TagIndex:
    """Resources by tag key and by tag key and value (every kind of resource)."""

    def __init__(self) -> None:
        self.by_key: dict[str, set[str]] = {}
        self.by_pair: dict[tuple[str, str], set[str]] = {}
        self._indexed: dict[str, dict[str, str]] = {}

    def put(self, rid: str, tags: dict[str, str]) -> None:
        """Index a resource's current tags (replacing what was indexed before)."""
        before = self._indexed.get(rid, {})
        for k, v in before.items():
            if tags.get(k) != v:
                self._discard(self.by_pair, (k, v), rid)
                if k not in tags:
                    self._discard(self.by_key, k, rid)
        for k, v in tags.items():
            if before.get(k) != v:
                self.by_pair.setdefault((k, v), set()).add(rid)
                self.by_key.setdefault(k, set()).add(rid)
        if tags:
            self._indexed[rid] = dict(tags)
        else:
            self._indexed.pop(rid, None)

    def drop(self, rid: str) -> None:
        """Forget a resource's tags."""
        self.put(rid, {})

    @staticmethod
    def _discard(table: dict, key: object, rid: str) -> None:  # type: ignore[type-arg]
        ids = table.get(key)
        if ids is not None:
            ids.discard(rid)
            if not ids:
                del table[key]

    def lookup(self, name: str, values: list[str]) -> set[str] | None:
        """Resources matching a ``tag:K``, ``tag-key`` or ``tag-value`` filter with exact
        values; None when the index cannot answer it (wildcards, other filters)."""
        if not is_exact(values):
            return None
        out: set[str] = set()
        if name.startswith("tag:"):
            key = name[4:]
            for v in values:
                out |= self.by_pair.get((key, v), set())
            return out
        if name == "tag-key":
            for k in values:
                out |= self.by_key.get(k, set())
            return out
        return None
