"""The services view against a real ``eucalyptus-cloud``: every component and its state, a node
put in maintenance, and the registry's events."""

from __future__ import annotations

import re
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tui_helpers import cell, column, status, table, wait_for

from tui.app import EucaApp
from tui.cloud import Cloud
from tui.screens import ConfirmScreen
from tui.table import plain

SIZE = (160, 45)


def modify_service(cloud: Any, name: str, state: str) -> None:
    """ModifyService as the cloud admin (what euserv-modify-service sends)."""
    creds = cloud.credentials()
    req = AWSRequest("POST", cloud.url + "/services/Empyrean",
                     data={"Action": "ModifyService", "Version": "eucalyptus", "Name": name,
                           "State": state})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), "bootstrap", "us-east-1").add_auth(req)
    resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
    assert resp.status_code == 200, resp.text


async def test_services_and_maintenance(cloud: Any) -> None:
    """The view lists the CLC, the CC, the SC and each node ENABLED; a node stopped by the
    administrator turns DISABLED with its event, and back."""
    app = EucaApp(Cloud.from_config(config_path=str(cloud.ini)), interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("v")
        await wait_for(pilot, lambda: "zone-1-node-04" in column(app, "services", 2),
                       what="services")
        types = set(column(app, "services", 0))
        assert {"eucalyptus", "cluster", "storage", "node", "walrusbackend", "compute"} <= types
        assert cell(app, "services", "zone-1-cc", 4) == "ENABLED"
        assert cell(app, "services", "zone-1-node-02", 4) == "ENABLED"
        modify_service(cloud, "zone-1-node-02", "stop")
        try:
            await wait_for(pilot, lambda: cell(app, "services", "zone-1-node-02", 4) == "DISABLED",
                           what="maintenance")

            def messages() -> list[str]:
                return [plain(c[3]) for _, c in table(app, "service-events").all_rows
                        if plain(c[2]) == "zone-1-node-02"]

            await wait_for(pilot, lambda: any(re.search("ENABLED to DISABLED", m)
                                              for m in messages()), what="event")
        finally:
            modify_service(cloud, "zone-1-node-02", "start")
        await wait_for(pilot, lambda: cell(app, "services", "zone-1-node-02", 4) == "ENABLED",
                       what="back in service")

        # From the keyboard: m on a node asks, then puts it in maintenance; m again starts it.
        t = table(app, "services")
        t.focus()
        t.move_cursor(row=t.get_row_index("zone-1-node-03"))
        for key, state in (("m", "DISABLED"), ("m", "ENABLED")):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen),
                           what="confirmation")
            await pilot.press("y")
            await wait_for(pilot, lambda s=state: cell(app, "services", "zone-1-node-03", 4) == s,
                           what=state)
