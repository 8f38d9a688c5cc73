"""A DataTable that holds every row of a resource list and shows a filtered, sorted view of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist, RowKey

from .cells import Cell, Row

# Tables with at least this many rows filter after a pause in typing rather than per key.
DEBOUNCE_ROWS = 500
FILTER_DEBOUNCE = 0.12


def plain(cell: Cell) -> str:
    """The text of a cell without styling."""
    return cell.plain if isinstance(cell, Text) else str(cell)


def as_text(cell: Cell) -> Text:
    """A cell as Text: DataTable would parse a str as markup (slow, and wrong for "[prod]")."""
    return cell if isinstance(cell, Text) else Text(cell)


def sort_key(cell: Cell) -> tuple[int, float, str]:
    """Numbers sort numerically (bars sort by their used figure), everything else by text."""
    text = plain(cell).strip()
    head = text.split("/", 1)[0].split()[-1] if text and text[0] in "█░" else text
    try:
        return (0, float(head), "")
    except ValueError:
        return (1, 0.0, text.lower())


class Prepared(NamedTuple):
    """A row made ready for display once: its cells as Text, filter text and widths."""

    cells: tuple[Cell, ...]
    texts: tuple[Text, ...]
    haystack: str
    widths: tuple[int, ...]


class ResourceTable(DataTable[Cell]):
    """A live table: ``set_rows`` replaces the data; filter and sort apply on top."""

    BINDINGS = [
        Binding("s", "sort", "Sort", tooltip="Sort by the next column"),
        Binding("S", "sort_reverse", "Reverse", show=False),
        Binding("space", "toggle_mark", "Mark", show=False),
    ]

    DEFAULT_CSS = """
    ResourceTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[str], *, title: str = "", markable: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.markable = markable
        self.marked: set[str] = set()
        self.column_names = tuple(columns)
        self.title = title
        self.all_rows: list[Row] = []
        self.filter_text = ""
        self.sort_column: int | None = None
        self.sort_reverse = False
        self._shown: list[str] = []
        self._shown_cells: dict[str, tuple[Cell, ...]] = {}
        self._prepared: dict[str, Prepared] = {}
        self._filter_timer: Timer | None = None
        # Column widths the rows were last drawn at (see _update_dimensions).
        self._drawn_widths: tuple[int, ...] = ()

    def on_mount(self) -> None:
        """Create the columns (keyed by index, so relabelling for sort arrows is cheap)."""
        for index, name in enumerate(self.column_names):
            self.add_column(name, key=str(index))

    # -- data -------------------------------------------------------------------------------
    def set_rows(self, rows: list[Row]) -> None:
        """Replace all rows; unchanged rows stay put, changed cells are updated in place."""
        self.all_rows = rows
        if self.marked:
            self.marked &= {key for key, _ in rows}
        self._render_rows()

    def set_filter(self, text: str, immediate: bool = False) -> None:
        """Show only rows containing ``text`` (case-insensitive, any column)."""
        self.filter_text = text
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if immediate or len(self.all_rows) < DEBOUNCE_ROWS:
            self._render_rows()
        else:
            # On a big table, wait for a pause in typing: keys never queue behind rebuilds.
            self._filter_timer = self.set_timer(FILTER_DEBOUNCE, self._render_rows)

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

    def action_toggle_mark(self) -> None:
        """Mark or unmark the cursor's row (actions then apply to every marked row)."""
        key = self.selected_key
        if not self.markable or key is None:
            return
        self.marked ^= {key}
        self._relabel(key)
        self.action_cursor_down()

    def clear_marks(self) -> None:
        """Unmark every row."""
        marked, self.marked = self.marked, set()
        for key in marked:
            self._relabel(key)

    def targets(self) -> list[str]:
        """The marked rows in display order, or else the cursor's row."""
        marked = [key for key in self._shown if key in self.marked]
        if marked:
            return marked
        return [self.selected_key] if self.selected_key else []

    def _label(self, key: str) -> Text | None:
        if not self.markable:
            return None
        return Text("●", style="bold magenta") if key in self.marked else Text(" ")

    def _relabel(self, key: str) -> None:
        row = self.rows.get(RowKey(key))
        if row is not None:
            row.label = self._label(key)
            self._clear_caches()
            self.refresh()

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
    def _prepare(self, key: str, cells: tuple[Cell, ...]) -> Prepared:
        # Converting to Text, measuring and lower-casing each row once (not on every filter key
        # or sort) is what keeps 2,000 rows quick; a refresh reuses rows whose cells are equal.
        cached = self._prepared.get(key)
        if cached is not None and (cached.cells is cells or cached.cells == cells):
            return cached
        texts = tuple(as_text(c) for c in cells)
        prepared = Prepared(cells, texts, "\t".join(t.plain for t in texts).lower(),
                            tuple(cell_len(t.plain) for t in texts))
        self._prepared[key] = prepared
        return prepared

    def _visible(self) -> list[Row]:
        needle = self.filter_text.lower()
        if needle:
            rows = [r for r in self.all_rows if needle in self._prepare(*r).haystack]
        else:
            rows = list(self.all_rows)
        if self.sort_column is not None and self.sort_column < len(self.column_names):
            col = self.sort_column
            rows.sort(key=lambda r: sort_key(r[1][col]), reverse=self.sort_reverse)
        return rows

    def _render_rows(self) -> None:
        if not self.columns:
            return
        rows = self._visible()
        keys = [key for key, _ in rows]
        if keys != self._shown and not self._patch_rows(rows):
            self._rebuild(rows)
        for key, cells in rows:
            old = self._shown_cells.get(key)
            if old is not None and old is not cells and old != cells:
                texts = self._prepare(key, cells).texts
                for index, (a, b) in enumerate(zip(old, cells, strict=False)):
                    if a != b:
                        self.update_cell(key, str(index), texts[index], update_width=True)
            self._shown_cells[key] = cells
        self._update_headers()
        live = {key for key, _ in self.all_rows}
        if len(self._prepared) > 2 * len(live) + 100:
            self._prepared = {k: v for k, v in self._prepared.items() if k in live}

    def _patch_rows(self, rows: list[Row]) -> bool:
        """Remove and append a few rows in place (the common refresh); False if a rebuild is due."""
        keys = [key for key, _ in rows]
        new = set(keys)
        gone = [k for k in self._shown if k not in new]
        survivors = [k for k in self._shown if k in new]
        # DataTable re-indexes every row on each removal, so many removals cost more than a rebuild.
        if len(gone) > 50 or keys[:len(survivors)] != survivors:
            return False
        for key in gone:
            self.remove_row(key)
            self._shown_cells.pop(key, None)
        for key, cells in rows[len(survivors):]:
            self.add_row(*self._prepare(key, cells).texts, key=key, label=self._label(key))
            self._shown_cells[key] = cells
        self._shown = keys
        return True

    def _rebuild(self, rows: list[Row]) -> None:
        selected = self.selected_key
        self.clear()
        for key, cells in rows:
            self.add_row(*self._prepare(key, cells).texts, key=key, label=self._label(key))
        self._shown = [key for key, _ in rows]
        self._shown_cells = dict(rows)
        if selected in self._shown_cells:
            try:
                self.move_cursor(row=self.get_row_index(selected), animate=False)
            except RowDoesNotExist:
                pass

    def _update_dimensions(self, new_rows: Any) -> None:
        """Widen columns for new rows by their text width, then let DataTable size the table."""
        # DataTable measures each new cell with rich's measure(), which asks the terminal for its
        # size every time: most of the cost of showing 2,000 rows. Rows here are one line of
        # text, so the widths measured once in _prepare are exact.
        columns = self.ordered_columns
        widths = [c.content_width for c in columns]
        for row_key in new_rows:
            prepared = self._prepared.get(str(row_key.value))
            if prepared is not None:
                widths = [max(a, b) for a, b in zip(widths, prepared.widths, strict=False)] + widths[len(prepared.widths):]
        for column, width in zip(columns, widths, strict=False):
            column.content_width = width
        if self.markable and new_rows:
            self._labelled_row_exists = True
            self._label_column.content_width = 1
        super()._update_dimensions(())
        # DataTable keeps rendered lines cached across a change of column widths: a row drawn
        # before its column widened would stay cut short (seen on tables filled right after
        # being shown). Drop the caches whenever the widths have changed.
        shown = tuple(c.content_width for c in columns)
        if shown != self._drawn_widths:
            self._drawn_widths = shown
            self._clear_caches()
            self.refresh()

    def _update_column_widths(self, updated_cells: Any) -> None:
        """Widen columns for updated cells (DataTable re-measures whole columns per cell)."""
        for cell_key in updated_cells:
            cell = self._data.get(cell_key.row_key, {}).get(cell_key.column_key)
            column = self.columns.get(cell_key.column_key)
            if cell is not None and column is not None:
                column.content_width = max(column.content_width, cell_len(plain(cell)))
        self._require_update_dimensions = True

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
