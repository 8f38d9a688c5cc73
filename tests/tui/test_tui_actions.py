"""Key pairs, addresses, tags, stop/start and the detail pane, from the keyboard against a real cloud."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from textual.widgets import Input
from tui_helpers import cell, status, table, wait_for

from tui.app import EucaApp
from tui.cloud import Cloud
from tui.screens import ConfirmScreen, FormScreen
from tui.table import plain

SIZE = (160, 45)


def live_app(cloud: Any) -> EucaApp:
    """The app over the test cloud, refreshing fast."""
    return EucaApp(Cloud.from_config(config_path=str(cloud.ini)), interval=0.25)


async def fill_form(pilot: Any, app: EucaApp, **values: str) -> None:
    """Wait for a form, type into its text fields and submit it."""
    await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="form")
    for name, value in values.items():
        app.screen.query_one(f"#field-{name}", Input).value = value
    await pilot.press("ctrl+s")


def one_instance(cloud: Any) -> str:
    """Launch an instance with boto3 and return its id."""
    client = cloud.client("ec2")
    image = client.describe_images()["Images"][0]["ImageId"]
    return str(client.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"])


async def test_key_pair_create_saves_private_key_then_delete(cloud: Any, tmp_path: Path) -> None:
    """c creates a key pair and writes its private key 0600; x deletes it after y."""
    app = live_app(cloud)
    key_file = tmp_path / "keys" / "ops.pem"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("4", "c")
        await fill_form(pilot, app, name="ops", path=str(key_file))
        await wait_for(pilot, lambda: "ops" in [k for k, _ in table(app, "keys").all_rows], what="key listed")
        await wait_for(pilot, key_file.exists, what="key file")
        assert key_file.read_text().startswith("-----BEGIN")
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        fingerprint = cell(app, "keys", "ops", 1)
        assert fingerprint.count(":") >= 15

        # An existing file is never overwritten.
        await pilot.press("c")
        await fill_form(pilot, app, name="ops2", path=str(key_file))
        await wait_for(pilot, lambda: any("not overwriting" in str(n.message) for n in app._notifications),
                       what="refusal")

        t = table(app, "keys")
        t.move_cursor(row=t.get_row_index("ops"))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: "ops" not in [k for k, _ in table(app, "keys").all_rows], what="deleted")
    assert [k["KeyName"] for k in cloud.client("ec2").describe_key_pairs()["KeyPairs"]] == []


async def test_address_allocate_associate_release(cloud: Any) -> None:
    """a allocates, i associates with the selected instance, u disassociates, x releases."""
    iid = one_instance(cloud)
    app = live_app(cloud)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: cell(app, "instances", iid, 2) == "running", what="running")
        t = table(app, "instances")
        t.move_cursor(row=t.get_row_index(iid))
        await pilot.press("6", "a")
        await wait_for(pilot, lambda: table(app, "addresses").row_count == 1, what="allocated")
        ip = table(app, "addresses").all_rows[0][0]
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="form")
        assert app.screen.query_one("#field-instance", Input).value == iid  # the selected instance
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: cell(app, "addresses", ip, 2) == iid, what="associated")
        await pilot.press("u")
        await wait_for(pilot, lambda: cell(app, "addresses", ip, 2) == "", what="disassociated")
        await confirm(pilot, app, "x")
        await wait_for(pilot, lambda: table(app, "addresses").row_count == 0, what="released")


async def test_tag_stop_start_and_detail(cloud: Any) -> None:
    """n tags the instance (Name shows), d shows its console output, p is refused, b reboots."""
    iid = one_instance(cloud)
    app = live_app(cloud)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: cell(app, "instances", iid, 2) == "running", what="running")
        t = table(app, "instances")
        t.move_cursor(row=t.get_row_index(iid))
        await pilot.press("n")
        await fill_form(pilot, app, key="Name", value="tui-web")
        await wait_for(pilot, lambda: cell(app, "instances", iid, 1) == "tui-web", what="name tag")

        await pilot.press("d")
        detail = app.query_one("#detail-text")
        await wait_for(pilot, lambda: "login:" in str(detail.render()), what="console output")
        assert "Name = tui-web" in str(detail.render())

        # Instance-store instances cannot be stopped: the cloud's refusal is a readable notification.
        await confirm(pilot, app, "p")
        await wait_for(pilot, lambda: any("cannot be stopped" in str(n.message) and n.title == "Stop failed"
                                          for n in app._notifications), what="refusal")
        await confirm(pilot, app, "b")
        await wait_for(pilot, lambda: (iid, "reboot requested") in events(app), what="reboot")
        assert cell(app, "instances", iid, 2) == "running" and app.is_running


def events(app: EucaApp) -> list[tuple[str, str]]:
    """(resource, event) pairs of the event log."""
    return [(plain(c[1]), plain(c[2])) for _, c in table(app, "events").all_rows]


async def confirm(pilot: Any, app: EucaApp, key: str) -> None:
    """Press an action key and answer y to its confirmation."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
    await pilot.press("y")
