"""The composition root's clock and the identifier source are hooks, not patches: a
``Cloud`` built with ``clock=`` runs every component on that clock, and identifiers
drawn under ``ids.seeded`` repeat for the same seed."""

from __future__ import annotations

from typing import Any

from server import ids
from server.clock import ManualClock, RealClock


def test_cloud_runs_its_components_on_the_given_clock(tmp_path: Any) -> None:
    """The CLC, the EBS layer and the zones' CCs get the clock passed in; the default is
    the wall clock."""
    from server.cloud import Cloud
    from server.config import load

    clock = ManualClock(start=1_000_000.0)
    cloud = Cloud(load(None, data_dir=str(tmp_path / "manual")), clock=clock)
    try:
        cloud.build_clusters()
        assert cloud.clock is clock
        assert cloud.clc.clock is clock and cloud.ebs.clock is clock
        assert all(cc.clock is clock for cc in cloud.clusters.values())  # type: ignore[attr-defined]
    finally:
        cloud.engine.dispose()
    default = Cloud(load(None, data_dir=str(tmp_path / "real")))
    try:
        assert isinstance(default.clock, RealClock)
    finally:
        default.engine.dispose()


def test_seeded_ids_repeat_and_the_system_source_returns() -> None:
    """The same seed names the same way; the block restores the previous source, also
    when nested; outside it identifiers are random."""
    def draw() -> list[str]:
        return [ids.resource_id("i"), ids.image_id(), ids.account_id(), ids.access_key_id(),
                ids.principal_id("AIDA")]

    with ids.seeded(7):
        first = draw()
        with ids.seeded(8):
            other = draw()
        after_nested = ids.resource_id("i")
    with ids.seeded(7):
        again = draw()
        assert ids.resource_id("i") == after_nested
    assert first == again and first != other
    assert ids.well_formed(first[0], "i") and len(first[2]) == 12
    assert isinstance(ids.current_source(), ids.SystemIdSource)
    assert ids.resource_id("i") != ids.resource_id("i")
