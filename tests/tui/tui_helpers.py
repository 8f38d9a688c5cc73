"""Shared helpers of the TUI tests: waiting on a running app, reading its tables."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from tui.app import EucaApp
from tui.table import ResourceTable, plain


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 15.0,
                   what: str = "condition") -> None:
    """Let the app run until ``condition()`` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def table(app: EucaApp, name: str) -> ResourceTable:
    """A table by dataset table name."""
    return app.query_one(f"#{name}-table", ResourceTable)


def column(app: EucaApp, name: str, index: int) -> list[str]:
    """The shown text of one column of a table, top to bottom."""
    t = table(app, name)
    return [plain(c) for c in (t.get_row_at(i)[index] for i in range(t.row_count))]


def cell(app: EucaApp, name: str, key: str, index: int) -> str:
    """The text of one cell, by row key and column index."""
    cells = table(app, name).cells_of(key)
    return plain(cells[index]) if cells else ""


def status(app: EucaApp) -> str:
    """The status line's text."""
    return str(app.query_one("#status").render())
