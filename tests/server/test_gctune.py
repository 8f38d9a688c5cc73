"""The server keeps long-lived records out of full collections (server/gctune.py): what
survives a full collection is frozen, a cycle that becomes garbage later is still
collected at the periodic revisit, and the running cloud serves with it (boto3)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from server import gctune


@pytest.fixture
def tuned() -> Iterator[None]:
    """Freezing on, restored afterwards (the test process shares the collector)."""
    gctune.freeze_long_lived()
    yield
    gc.callbacks.remove(gctune._after_collection)
    gc.unfreeze()


class Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def test_survivors_of_a_full_collection_are_frozen(tuned: None) -> None:
    """Objects alive at a full collection leave the generations collections walk."""
    kept = [Node() for _ in range(1000)]
    before = gc.get_freeze_count()
    gc.collect()
    assert gc.get_freeze_count() >= before + len(kept)
    assert not any(any(o is kept[0] for o in gc.get_objects(generation=g)) for g in range(3))


def test_garbage_cycles_among_frozen_objects_are_collected_at_the_revisit(
        tuned: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen cycle that becomes garbage is kept until the revisit, then collected."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    gc.collect()  # survivors frozen
    ref = weakref.ref(a)
    del a, b
    gc.collect()
    assert ref() is not None  # frozen: not walked
    monkeypatch.setitem(gctune._state, "revisit_at", 0.0)
    gc.collect()  # the revisit: unfrozen at its end
    gc.collect()  # walks everything: the cycle goes
    assert ref() is None


def test_the_cloud_serves_with_it(cloud) -> None:
    """The server process runs with freezing on (set before it serves)."""
    ec2 = cloud.client("ec2")
    assert ec2.describe_regions()["Regions"]
