"""ResourceTable: live updates in place, filter, sort, cursor kept on its row."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from tui.model import Row
from tui.table import ResourceTable


class TableApp(App[None]):
    """One table."""

    def compose(self) -> ComposeResult:
        """The table under test."""
        yield ResourceTable(("ID", "State", "Cores"), id="t")


def rows(*spec: tuple[str, str, str]) -> list[Row]:
    """Rows keyed by their first cell."""
    return [(a, (a, Text(b), c)) for a, b, c in spec]


def shown(t: ResourceTable) -> list[str]:
    """The first column as displayed."""
    return [str(t.get_row_at(i)[0]) for i in range(t.row_count)]


async def test_update_filter_sort() -> None:
    """Cells change in place, rows append, filter and sort apply over live data."""
    app = TableApp()
    async with app.run_test() as pilot:
        t = app.query_one(ResourceTable)
        t.set_rows(rows(("i-b", "pending", "2"), ("i-a", "running", "10")))
        await pilot.pause()
        assert shown(t) == ["i-b", "i-a"]
        t.move_cursor(row=1)
        t.set_rows(rows(("i-b", "running", "2"), ("i-a", "running", "10"), ("i-c", "pending", "1")))
        await pilot.pause()
        assert shown(t) == ["i-b", "i-a", "i-c"]
        assert str(t.get_row_at(0)[1]) == "running"
        assert t.selected_key == "i-a"

        t.set_filter("PEND")
        await pilot.pause()
        assert shown(t) == ["i-c"]
        t.set_filter("")
        assert t.selected_key == "i-c"  # still on the row it was on
        t.move_cursor(row=t.get_row_index("i-a"))
        t.sort_by(2)  # numerically: 1, 2, 10
        await pilot.pause()
        assert shown(t) == ["i-c", "i-b", "i-a"]
        assert t.selected_key == "i-a"  # the cursor followed its row
        assert str(t.columns["2"].label) == "Cores ▲"  # type: ignore[index]
        await pilot.press("S")
        assert shown(t) == ["i-a", "i-b", "i-c"]
        await pilot.press("s")  # past the last column: the cloud's order again
        assert shown(t) == ["i-b", "i-a", "i-c"]


async def test_markup_is_not_interpreted() -> None:
    """A tag value like "[prod]" is shown as typed, not parsed as markup."""
    app = TableApp()
    async with app.run_test() as pilot:
        t = app.query_one(ResourceTable)
        t.set_rows([("k", ("[prod] web", "[b]x[/b]", ""))])
        await pilot.pause()
        assert [str(c) for c in t.get_row_at(0)[:2]] == ["[prod] web", "[b]x[/b]"]


async def test_many_rows_filter_after_typing_pause() -> None:
    """Big tables filter once typing pauses; removals beyond a few rebuild the table."""
    app = TableApp()
    async with app.run_test() as pilot:
        t = app.query_one(ResourceTable)
        data = rows(*[(f"i-{n:04d}", "running" if n % 2 else "stopped", str(n)) for n in range(1000)])
        t.set_rows(data)
        await pilot.pause()
        t.set_filter("stopped")
        assert t.row_count == 1000  # not yet
        await pilot.pause(0.3)
        assert t.row_count == 500
        t.set_filter("", immediate=True)
        assert t.row_count == 1000
        t.set_rows(data[:900])
        await pilot.pause()
        assert t.row_count == 900 and shown(t)[-1] == "i-0899"


async def test_event_log_is_bounded() -> None:
    """The event log keeps the newest MAX_EVENTS entries, with unique keys, all day long."""
    from tui_fakecloud import FakeCloud, fixed_clock

    from tui.app import EucaApp
    from tui.views import MAX_EVENTS, EventsView

    app = EucaApp(FakeCloud(), poll=False, clock=fixed_clock)
    async with app.run_test() as pilot:
        view = app.query_one(EventsView)
        for n in range(MAX_EVENTS + 20):
            view.add("12:00:00", f"i-{n}", "pending -> running")
        await pilot.pause()
        assert len(view.rows) == MAX_EVENTS == app.query_one("#events-table").row_count  # type: ignore[attr-defined]
        assert [r[1][1] for r in (view.rows[0], view.rows[-1])] == ["i-20", f"i-{MAX_EVENTS + 19}"]
