"""A DataTable that holds every row of a resource list and shows a filtered, sorted view of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from .model import Cell, Row


def plain(cell: Cell) -> str:
    """The text of a cell without styling."""
    return cell.plain if isinstance(cell, Text) else str(cell)


def sort_key(cell: Cell) -> tuple[int, float, str]:
    """Numbers sort numerically (bars sort by their used figure), everything else by text."""
    text = plain(cell).strip()
    head = text.split("/", 1)[0].split()[-1] if text and text[0] in "█░" else text
    try:
        return (0, float(head), "")
    except ValueError:
        return (1, 0.0, text.lower())


class ResourceTable(DataTable[Cell]):
    """A live table: ``set_rows`` replaces the data; filter and sort apply on top."""

    BINDINGS = [
        Binding("s", "sort", "Sort", tooltip="Sort by the next column"),
        Binding("S", "sort_reverse", "Reverse", show=False),
    ]

    DEFAULT_CSS = """
    ResourceTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[str], *, title: str = "", **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.column_names = tuple(columns)
        self.title = title
        self.all_rows: list[Row] = []
        self.filter_text = ""
        self.sort_column: int | None = None
        self.sort_reverse = False
        self._shown: list[str] = []
        self._shown_cells: dict[str, tuple[Cell, ...]] = {}
        self._haystacks: dict[str, tuple[tuple[Cell, ...], str]] = {}

    def on_mount(self) -> None:
        """Create the columns (keyed by index, so relabelling for sort arrows is cheap)."""
        for index, name in enumerate(self.column_names):
            self.add_column(name, key=str(index))

    # -- data -------------------------------------------------------------------------------
    def set_rows(self, rows: list[Row]) -> None:
        """Replace all rows; unchanged rows stay put, changed cells are updated in place."""
        self.all_rows = rows
        self._render_rows()

    def set_filter(self, text: str) -> None:
        """Show only rows containing ``text`` (case-insensitive, any column)."""
        self.filter_text = text
        self._render_rows()

    def sort_by(self, column: int | None, reverse: bool = False) -> None:
        """Sort by a column index (None: the order the cloud gave)."""
        self.sort_column, self.sort_reverse = column, reverse
        self._render_rows()

    def action_sort(self) -> None:
        """Sort by the next column; after the last one, back to the cloud's order."""
        # The cursor selects rows, not cells, so the sort column is stepped through instead.
        column = 0 if self.sort_column is None else self.sort_column + 1
        self.sort_by(column if column < len(self.column_names) else None)

    def action_sort_reverse(self) -> None:
        """Reverse the sort order."""
        self.sort_by(self.sort_column if self.sort_column is not None else 0, not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """Clicking a header sorts by it; clicking it again reverses."""
        same = self.sort_column == event.column_index
        self.sort_by(event.column_index, not self.sort_reverse if same else False)

    @property
    def selected_key(self) -> str | None:
        """The key (resource id) of the row under the cursor."""
        if not self._shown or not 0 <= self.cursor_row < len(self._shown):
            return None
        return self._shown[self.cursor_row]

    def cells_of(self, key: str) -> tuple[Cell, ...] | None:
        """The cells of a row by key, shown or not."""
        for row_key, cells in self.all_rows:
            if row_key == key:
                return cells
        return None

    def visible_keys(self) -> list[str]:
        """Keys of the rows shown, in order."""
        return list(self._shown)

    # -- rendering --------------------------------------------------------------------------
    def _haystack(self, key: str, cells: tuple[Cell, ...]) -> str:
        # Cache the lower-cased text per row: filtering 2,000 rows on every key press must be cheap.
        cached = self._haystacks.get(key)
        if cached is not None and cached[0] is cells:
            return cached[1]
        text = "\t".join(plain(c) for c in cells).lower()
        self._haystacks[key] = (cells, text)
        return text

    def _visible(self) -> list[Row]:
        needle = self.filter_text.lower()
        rows = [r for r in self.all_rows if needle in self._haystack(*r)] if needle else list(self.all_rows)
        if self.sort_column is not None and self.sort_column < len(self.column_names):
            col = self.sort_column
            rows.sort(key=lambda r: sort_key(r[1][col]), reverse=self.sort_reverse)
        return rows

    def _render_rows(self) -> None:
        if not self.is_mounted and not self.columns:
            return
        rows = self._visible()
        keys = [key for key, _ in rows]
        if keys == self._shown:
            for key, cells in rows:
                old = self._shown_cells.get(key)
                if old is not None and old != cells:
                    for index, (a, b) in enumerate(zip(old, cells, strict=False)):
                        if a != b:
                            self.update_cell(key, str(index), b, update_width=True)
                self._shown_cells[key] = cells
        else:
            selected = self.selected_key
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            self._shown = keys
            self._shown_cells = dict(rows)
            if selected in self._shown_cells:
                try:
                    self.move_cursor(row=self.get_row_index(selected), animate=False)
                except RowDoesNotExist:
                    pass
        self._update_headers()
        live = {key for key, _ in self.all_rows}
        if len(self._haystacks) > 2 * len(live) + 100:
            self._haystacks = {k: v for k, v in self._haystacks.items() if k in live}

    def _update_headers(self) -> None:
        for index, name in enumerate(self.column_names):
            label = name
            if index == self.sort_column:
                label = f"{name} {'▼' if self.sort_reverse else '▲'}"
            column = self.columns.get(str(index))  # type: ignore[call-overload]
            if column is not None and column.label.plain != label:
                column.label = Text(label)
                self._require_update_dimensions = True
        self.refresh()
