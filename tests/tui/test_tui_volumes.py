"""Volumes and snapshots from the keyboard against a real cloud: create, snapshot, restore,
attach/detach, delete with confirmation, and the cloud's refusals as one readable line."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Select
from tui_helpers import cell, status, table, wait_for

from tui.app import EucaApp
from tui.cloud import Cloud
from tui.screens import ConfirmScreen, FormScreen, HelpScreen
from tui.table import plain

SIZE = (160, 45)


def live_app(cloud: Any) -> EucaApp:
    """The app over the test cloud, refreshing fast."""
    return EucaApp(Cloud.from_config(config_path=str(cloud.ini)), interval=0.25)


async def open_form(pilot: Any, app: EucaApp) -> FormScreen:
    """Wait for a form to be on screen."""
    await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="form")
    assert isinstance(app.screen, FormScreen)
    return app.screen


async def fill_form(pilot: Any, app: EucaApp, **values: str) -> None:
    """Wait for a form, set its text fields and submit it."""
    form = await open_form(pilot, app)
    for name, value in values.items():
        form.query_one(f"#field-{name}", Input).value = value
    await pilot.press("ctrl+s")


async def confirm(pilot: Any, app: EucaApp, key: str, answer: str = "y") -> str:
    """Press an action key, answer its confirmation; return the question asked."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
    assert isinstance(app.screen, ConfirmScreen)
    question = app.screen.question
    await pilot.press(answer)
    await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="answered")
    return question


def select(app: EucaApp, name: str, key: str) -> None:
    """Put the cursor of a table on a row."""
    t = table(app, name)
    t.move_cursor(row=t.get_row_index(key))


def keys(app: EucaApp, name: str) -> list[str]:
    """The row keys of a table."""
    return [k for k, _ in table(app, name).all_rows]


def failures(app: EucaApp, title: str) -> list[str]:
    """Messages of the error notifications with a title."""
    return [str(n.message) for n in app._notifications if n.title == title and n.severity == "error"]


def events(app: EucaApp) -> list[tuple[str, str]]:
    """(resource, event) pairs of the event log."""
    return [(plain(c[1]), plain(c[2])) for _, c in table(app, "events").all_rows]


def one_instance(cloud: Any) -> str:
    """Launch an instance with boto3 and return its id."""
    client = cloud.client("ec2")
    image = client.describe_images()["Images"][0]["ImageId"]
    return str(client.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"])


async def test_volume_snapshot_restore_attach_detach_delete(cloud: Any) -> None:
    """c creates a volume, s snapshots it, c on the snapshot restores it, a/u attach and detach,
    x deletes (n keeps it); deleting an attached volume is a one-line VolumeInUse error."""
    ec2 = cloud.client("ec2")
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    iid = one_instance(cloud)
    app = live_app(cloud)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: cell(app, "instances", iid, 2) == "running", what="running")

        # Create: the zone picker offers the cloud's zones.
        await pilot.press("7", "c")
        form = await open_form(pilot, app)
        picker = form.query_one("#field-zone", Select)
        assert [v for _, v in picker._options] == [z["ZoneName"] for z in
                                                  ec2.describe_availability_zones()["AvailabilityZones"]]
        await fill_form(pilot, app, size="2")
        await wait_for(pilot, lambda: len(keys(app, "volumes")) == 1, what="volume listed")
        vid = keys(app, "volumes")[0]
        await wait_for(pilot, lambda: cell(app, "volumes", vid, 3) == "available", what="available")
        assert (cell(app, "volumes", vid, 2), cell(app, "volumes", vid, 4)) == ("2", zone)
        assert (vid, f"create requested (2 GiB, {zone})") in events(app)

        # Snapshot: "s" is the volumes view's (not sort), and typing "s" in its form is text.
        select(app, "volumes", vid)
        await pilot.press("s")
        await open_form(pilot, app)
        await pilot.press(*"tui snaps")
        assert app.screen.query_one("#field-description", Input).value == "tui snaps"
        await pilot.press("enter")
        await pilot.press("8")
        await wait_for(pilot, lambda: len(keys(app, "snapshots")) == 1, what="snapshot listed")
        sid = keys(app, "snapshots")[0]
        assert (cell(app, "snapshots", sid, 1), cell(app, "snapshots", sid, 6)) == (vid, "tui snaps")
        await wait_for(pilot, lambda: cell(app, "snapshots", sid, 2) == "completed", timeout=30,
                       what="snapshot completed")

        # A volume from the snapshot: its size by default.
        select(app, "snapshots", sid)
        await pilot.press("c")
        form = await open_form(pilot, app)
        assert "2 GiB" in form.query_one("#field-size", Input).placeholder
        await fill_form(pilot, app)
        await pilot.press("7")
        await wait_for(pilot, lambda: len(keys(app, "volumes")) == 2, what="restored volume listed")
        copy = next(k for k in keys(app, "volumes") if k != vid)
        assert (cell(app, "volumes", copy, 5), cell(app, "volumes", copy, 2)) == (sid, "2")
        await wait_for(pilot, lambda: cell(app, "volumes", copy, 3) == "available", what="copy available")

        # Attach to the running instance of the zone, on the default device.
        select(app, "volumes", vid)
        await pilot.press("a")
        form = await open_form(pilot, app)
        assert form.query_one("#field-instance", Select).value == iid
        assert form.query_one("#field-device", Input).value == "/dev/sdf"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: cell(app, "volumes", vid, 6) == iid, what="attached")
        await wait_for(pilot, lambda: cell(app, "volumes", vid, 3) == "in-use", what="in-use")

        # The cloud refuses to delete an attached volume: one readable line, no traceback.
        assert "attached to " + iid in await confirm(pilot, app, "x")
        await wait_for(pilot, lambda: failures(app, "Delete volume failed"), what="refusal")
        message = failures(app, "Delete volume failed")[0]
        assert "VolumeInUse" in message and "\n" not in message and "Traceback" not in message
        await wait_for(pilot, lambda: any(r == vid and "delete volume failed" in e and "VolumeInUse" in e
                                          for r, e in events(app)), what="event log line")
        assert app.is_running and vid in keys(app, "volumes")

        # Detach (confirmed), then the volume is available again.
        assert iid in await confirm(pilot, app, "u")
        await wait_for(pilot, lambda: cell(app, "volumes", vid, 6) == "", what="detached")
        await wait_for(pilot, lambda: cell(app, "volumes", vid, 3) == "available", what="available again")

        # Detaching a volume that is not attached: IncorrectState, readable.
        await confirm(pilot, app, "u")
        await wait_for(pilot, lambda: failures(app, "Detach volume failed"), what="detach refusal")
        assert "IncorrectState" in failures(app, "Detach volume failed")[0]

        # Delete: n keeps it, y deletes it.
        await confirm(pilot, app, "x", answer="n")
        await pilot.pause(0.6)
        assert vid in keys(app, "volumes")
        await confirm(pilot, app, "x")
        await wait_for(pilot, lambda: vid not in keys(app, "volumes"), what="volume deleted")
        select(app, "volumes", copy)
        await confirm(pilot, app, "delete")
        await wait_for(pilot, lambda: keys(app, "volumes") == [], what="copy deleted")

        # Snapshots view: x deletes after y.
        await pilot.press("8")
        select(app, "snapshots", sid)
        await confirm(pilot, app, "x", answer="escape")
        assert sid in keys(app, "snapshots")
        await confirm(pilot, app, "x")
        await wait_for(pilot, lambda: keys(app, "snapshots") == [], what="snapshot deleted")
    assert ec2.describe_volumes()["Volumes"] == []
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    ec2.terminate_instances(InstanceIds=[iid])


async def test_form_errors_keys_and_help(cloud: Any) -> None:
    """A bad size is refused before any call; "s" sorts elsewhere and filters as text; the
    volumes view's keys are in its footer and its help; an unknown snapshot is a readable error."""
    app = live_app(cloud)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("7", "c")
        await fill_form(pilot, app, size="lots")
        await wait_for(pilot, lambda: failures(app, "Create volume"), what="size refusal")
        await pilot.press("c")
        await fill_form(pilot, app, size="", snapshot="snap-00000000")
        await wait_for(pilot, lambda: failures(app, "Create volume failed"), what="unknown snapshot")
        message = failures(app, "Create volume failed")[0]
        assert "snap-00000000" in message and "\n" not in message

        footer = {k: b.binding.description for k, b in app.screen.active_bindings.items()}
        assert {k: footer[k] for k in ("c", "a", "u", "s", "x", "n")} == {
            "c": "Create", "a": "Attach", "u": "Detach", "s": "Snapshot", "x": "Delete", "n": "Tag"}
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert isinstance(app.screen, HelpScreen)
        rows = dict(row for _, section in app.screen.sections for row in section)
        assert rows["s"].startswith("Snapshot") and rows["u"].startswith("Detach") and "s / S" not in rows
        await pilot.press("escape")

        # "/" then "s": the filter line gets the letter, no snapshot form opens.
        await pilot.press("slash", "s")
        assert app.query_one("#filter", Input).value == "s" and not isinstance(app.screen, FormScreen)
        await pilot.press("escape")

        # Elsewhere "s" sorts, and the snapshots view has its own keys.
        await pilot.press("8")
        assert table(app, "snapshots").sort_column is None
        await pilot.press("s")
        assert table(app, "snapshots").sort_column == 0 and not isinstance(app.screen, FormScreen)
        footer = {k: b.binding.description for k, b in app.screen.active_bindings.items()}
        assert (footer["c"], footer["x"], footer["s"]) == ("Create volume", "Delete", "Sort")
        await pilot.press("c")  # nothing selected: a warning, no form
        await pilot.pause(0.3)
        assert not isinstance(app.screen, FormScreen) and app.is_running
