"""Behaviour over the fake cloud: slow calls never block keys, errors are said once, quitting is prompt."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Input
from tui_fakecloud import FakeCloud, fixed_clock
from tui_helpers import status, table, wait_for

from euca2ools.exceptions import ServiceError
from tui.app import EucaApp
from tui.screens import ConfirmScreen, HelpScreen


class SlowCloud(FakeCloud):
    """Every call takes a while, as over a bad link; some can be made to fail."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.failing: dict[str, ServiceError] = {}

    def call(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """The fake answer, late (or the configured error)."""
        time.sleep(self.delay)
        if action in self.failing:
            self.calls.append((action, params or {}))
            raise self.failing[action]
        return super().call(action, params)


async def test_typing_while_a_refresh_is_in_flight() -> None:
    """Keys are handled while the cloud takes seconds to answer: calls run in a worker thread."""
    cloud = SlowCloud(delay=0.0)
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: table(app, "instances").row_count == 6, what="first refresh")
        cloud.delay = 6.0
        await pilot.pause(0.2)  # a refresh is now waiting on the cloud
        start = time.monotonic()
        await pilot.press("slash", "d", "b", "enter", "2", "1")
        # Well before the cloud answers (the margin is for a loaded test machine).
        assert time.monotonic() - start < 4.0
        assert app.query_one("#filter", Input).value == "db"
        assert table(app, "instances").row_count == 1
        cloud.delay = 0.0


async def test_quit_does_not_wait_for_a_slow_call() -> None:
    """q quits promptly even when the cloud has not answered yet."""
    cloud = SlowCloud(delay=0.0)
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: table(app, "instances").row_count == 6, what="first refresh")
        cloud.delay = 3.0
        await pilot.pause(0.2)
        start = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - start < 2.0


async def test_errors_are_said_once_and_unsupported_actions_asked_rarely() -> None:
    """A listing that keeps failing notifies once; an action the cloud lacks is not asked again
    on every refresh."""
    cloud = SlowCloud(delay=0.0)
    cloud.failing["DescribeKeyPairs"] = ServiceError("AccessDenied", "not for you", 403)
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: sum(1 for a, _ in cloud.calls if a == "DescribeKeyPairs") >= 5,
                       what="refreshes")
        errors = [n for n in app._notifications if n.severity == "error"]
        assert [(n.title, n.message) for n in errors] == [("Listing keys failed", "not for you (AccessDenied)")]
        assert "not for you" in str(app.query_one("#keys-view-note").render())
        assert sum(1 for a, _ in cloud.calls if a == "DescribeVolumes") == 1  # InvalidAction: once per 30 s
        assert "● connected" in status(app)


async def test_help_and_palette() -> None:
    """? lists the keys of the app and of the view; ctrl+p opens the command palette."""
    app = EucaApp(FakeCloud(), interval=0.05, clock=fixed_clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("6", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette", what="palette")
        for ch in "View: Capa":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.active_view == "capacity", what="capacity via the palette")


async def test_marked_instances_are_acted_on_together() -> None:
    """space marks rows; t then confirms and terminates every marked instance in one call."""
    cloud = FakeCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: table(app, "instances").row_count == 6, what="first refresh")
        await pilot.press("space", "down", "space")  # marks rows 1 and 3
        assert table(app, "instances").targets() == ["i-00000000000000001", "i-00000000000000003"]
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        assert "2 instances: i-00000000000000001 (web-1), i-00000000000000003 (db)" in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: any(a == "TerminateInstances" for a, _ in cloud.calls), what="call")
        (params,) = [p for a, p in cloud.calls if a == "TerminateInstances"]
        assert params == {"InstanceId": ["i-00000000000000001", "i-00000000000000003"]}
        await wait_for(pilot, lambda: not table(app, "instances").marked, what="marks cleared")
