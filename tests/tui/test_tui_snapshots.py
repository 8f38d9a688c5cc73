"""SVG snapshots of the main views, fed by a fake cloud with fixed data and a fixed clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from tui_fakecloud import FakeCloud, fixed_clock
from tui_helpers import status, table, wait_for

from tui.app import EucaApp

SIZE = (160, 40)


def fake_app(cloud: FakeCloud | None = None) -> EucaApp:
    """The app over the fake cloud, refreshing fast."""
    return EucaApp(cloud or FakeCloud(), interval=0.3, clock=fixed_clock)


def loaded_then(*keys: str, after: Callable[[Pilot[None]], Awaitable[None]] | None = None
                ) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Wait for the first full refresh, press ``keys``, then let the screen settle."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, EucaApp)
        await wait_for(pilot, lambda: table(app, "buckets").row_count == 2 and
                       table(app, "instances").row_count == 6, what="first refresh")
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.1)
        if after is not None:
            await after(pilot)
        await pilot.pause(0.3)

    return run_before


VIEWS = [
    ("instances", ()),
    ("capacity", ("2",)),
    ("images", ("3",)),
    ("groups", ("5",)),
    ("volumes_not_available", ("7",)),
    ("addresses", ("6",)),
    ("buckets", ("9",)),
    ("instances_filtered", ("slash", "w", "e", "b", "enter")),
    ("instances_sorted_by_state", ("s", "s", "s")),
    ("instances_marked", ("space", "down", "space")),
    ("help", ("question_mark",)),
    ("alarms", ("w",)),
    ("scaling", ("g",)),
    ("scaling_second_group", ("g", "down")),
    ("services", ("v",)),
    ("loadbalancers", ("e",)),
]


# Named ids keep each snapshot's file name when cases are added.
@pytest.mark.parametrize("name, keys", VIEWS, ids=[name for name, _ in VIEWS])
def test_view(snap_compare: Callable[..., bool], name: str, keys: tuple[str, ...]) -> None:
    """Each main view renders as committed."""
    assert snap_compare(fake_app(), terminal_size=SIZE, run_before=loaded_then(*keys))


def test_event_log(snap_compare: Callable[..., bool]) -> None:
    """State changes seen while running appear in the event log, newest first."""
    cloud = FakeCloud()

    async def changes(pilot: Pilot[None]) -> None:
        # One assignment, so that both changes land in the same refresh (a fixed order).
        changed = [dict(i) for i in cloud.instances]
        changed[2]["instanceState"] = {"name": "running"}
        changed[0]["instanceState"] = {"name": "shutting-down"}
        cloud.instances = changed
        await wait_for(pilot, lambda: table(pilot.app, "events").row_count >= 3, what="events")  # type: ignore[arg-type]
        cloud.nodes[3] = {**cloud.nodes[3], "state": "UP", "powerState": "on"}
        await wait_for(pilot, lambda: table(pilot.app, "events").row_count >= 4, what="node event")  # type: ignore[arg-type]
        await pilot.press("0")

    assert snap_compare(fake_app(cloud), terminal_size=SIZE, run_before=loaded_then(after=changes))


def test_detail_pane(snap_compare: Callable[..., bool]) -> None:
    """The detail pane shows attributes, tags, block devices and console output."""

    async def console_loaded(pilot: Pilot[None]) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: "login:" in str(app.query_one("#detail-text").render()),
                       what="console output")

    assert snap_compare(fake_app(), terminal_size=SIZE,
                        run_before=loaded_then("d", after=console_loaded))


def test_launch_form(snap_compare: Callable[..., bool]) -> None:
    """The launch form offers images, types, keys, groups and zones."""

    async def form_open(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "FormScreen", what="form")
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor is captured on or off at random

    assert snap_compare(fake_app(), terminal_size=(160, 45), run_before=loaded_then("l", after=form_open))


def test_unreachable(snap_compare: Callable[..., bool]) -> None:
    """A lost connection turns the status line red and keeps the last data."""
    cloud = FakeCloud()

    async def go_down(pilot: Pilot[None]) -> None:
        cloud.down = True
        await wait_for(pilot, lambda: "UNREACHABLE" in status(pilot.app), what="unreachable")  # type: ignore[arg-type]
        # The toast would time out at a random moment; the status line is what must show.
        pilot.app.clear_notifications()

    assert snap_compare(fake_app(cloud), terminal_size=SIZE, run_before=loaded_then(after=go_down))
