"""The dashboard against a real ``eucalyptus-cloud``, driven by key presses through Textual's pilot."""

from __future__ import annotations

from typing import Any

from tui_helpers import cell, column, status, table, wait_for

from tui.app import EucaApp
from tui.cloud import Cloud
from tui.screens import ConfirmScreen, FormScreen
from tui.table import plain

SIZE = (160, 45)


def live_app(cloud: Any, interval: float = 0.25) -> EucaApp:
    """The app as a new user starts it: configured by the server's euca2ools.ini alone."""
    return EucaApp(Cloud.from_config(config_path=str(cloud.ini)), interval=interval)


def states(app: EucaApp) -> dict[str, str]:
    """Instance id -> state as shown."""
    t = table(app, "instances")
    return {key: plain(cells[2]) for key, cells in t.all_rows}


async def test_new_user_launch_watch_terminate(cloud: Any) -> None:
    """Default image and capacity show; three launched instances go pending -> running live;
    one is terminated from the keyboard."""
    app = live_app(cloud)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("3")
        await wait_for(pilot, lambda: any(i.startswith("emi-") for i in column(app, "images", 0)),
                       what="default image")
        assert "default-image" in column(app, "images", 1)

        await pilot.press("2")
        await wait_for(pilot, lambda: table(app, "vmtypes").row_count > 0, what="capacity")
        assert column(app, "zones", 0) == ["zone-1"]
        assert cell(app, "vmtypes", "zone-1/m1.small", 3) == "0032"  # 4 nodes x 8 cores
        assert len(column(app, "nodes", 0)) == 4

        await pilot.press("1", "l")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="launch form")
        await pilot.press("3", "enter")
        await wait_for(pilot, lambda: len(states(app)) == 3, what="three instances")
        seen_pending = {i for i, s in states(app).items() if s == "pending"}
        await wait_for(pilot, lambda: set(states(app).values()) == {"running"}, what="all running")

        def events() -> list[tuple[str, str]]:
            return [(plain(c[1]), plain(c[2])) for _, c in table(app, "events").all_rows]

        # The event log may be drawn a refresh after the instances table.
        await wait_for(pilot, lambda: {r for r, e in events() if e == "pending -> running"}
                       == set(states(app)), what="running events")
        went_running = {r for r, e in events() if e == "pending -> running"}
        appeared_pending = {r for r, e in events() if e == "appeared (pending)"}
        # Each instance was seen pending (on screen or in the log) and then running.
        assert seen_pending | appeared_pending == set(states(app))
        assert went_running == set(states(app))

        victim = table(app, "instances").selected_key
        assert victim in states(app)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: states(app)[victim] in ("shutting-down", "terminated"),
                       what="terminating")
        assert [s for i, s in states(app).items() if i != victim] == ["running", "running"]
        await pilot.press("q")


async def test_cancelled_confirmation_does_nothing(cloud: Any) -> None:
    """n at the confirmation leaves the instance alone."""
    client = cloud.client("ec2")
    image = client.describe_images()["Images"][0]["ImageId"]
    iid = client.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    app = live_app(cloud)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: states(app).get(iid) == "running", what="running")
        t = table(app, "instances")
        t.move_cursor(row=t.get_row_index(iid))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("n")
        await pilot.pause(1.0)
        assert states(app)[iid] == "running"


async def test_cloud_errors_are_notifications(cloud: Any) -> None:
    """A refused call shows the cloud's message; the app keeps running."""
    app = live_app(cloud)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="launch form")
        await pilot.press("9", "9", "9", "enter")  # 9999 instances cannot fit
        await wait_for(pilot, lambda: any(n.severity == "error" for n in app._notifications),
                       what="error notification")
        note = next(n for n in app._notifications if n.severity == "error")
        assert "Launch failed" in (note.title or "")
        assert app.is_running


async def test_unreachable_and_recovery(make_cloud: Any) -> None:
    """Stopping the server shows a clear unreachable state; restarting it recovers."""
    server = make_cloud()
    app = live_app(server, interval=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        server.stop()
        await wait_for(pilot, lambda: "UNREACHABLE" in status(app), what="unreachable")
        assert app.query_one("#status").has_class("-down")
        await pilot.press("2", "1")  # still responsive to keys while down
        server.start()
        await wait_for(pilot, lambda: "● connected" in status(app), timeout=30, what="recovery")
        events = [plain(c[2]) for _, c in table(app, "events").all_rows]
        assert "reachable again" in events and any(e.startswith("unreachable") for e in events)
