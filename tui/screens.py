"""Modal screens: forms (launch, key pair, tag, associate, volume, attach, snapshot), confirmations
and the key help."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

MODAL_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{ width: 72; height: auto; max-height: 90%; border: thick $primary;
    background: $surface; padding: 1 2; }}
{cls} .title {{ text-style: bold; padding-bottom: 1; }}
{cls} .field-label {{ padding-top: 0; }}
{cls} .buttons {{ height: auto; padding-top: 1; align-horizontal: right; }}
{cls} Button {{ margin-left: 2; }}
"""


@dataclass
class Field:
    """A form field: a text input, or a select when ``options`` are given."""

    name: str
    label: str
    default: str = ""
    options: Sequence[tuple[str, str]] = field(default_factory=tuple)
    placeholder: str = ""


class FormScreen(ModalScreen[dict[str, str] | None]):
    """A small form; Enter in a text field or ctrl+s submits, Escape cancels."""

    DEFAULT_CSS = MODAL_CSS.format(cls="FormScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Submit")]

    def __init__(self, title: str, fields: Sequence[Field], submit_label: str = "OK",
                 focus: str | None = None) -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.submit_label = submit_label
        self.initial_focus = focus

    def compose(self) -> ComposeResult:
        """Label and widget per field, then the buttons."""
        with Vertical():
            yield Label(self.form_title, classes="title")
            for f in self.fields:
                yield Label(f.label, classes="field-label")
                if f.options:
                    default = f.default if any(v == f.default for _, v in f.options) else f.options[0][1]
                    yield Select(f.options, value=default, allow_blank=False, id=f"field-{f.name}")
                else:
                    yield Input(f.default, placeholder=f.placeholder, id=f"field-{f.name}")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.submit_label, id="submit", variant="primary")

    def on_mount(self) -> None:
        """Focus the field most likely to be changed."""
        if self.initial_focus:
            self.query_one(f"#field-{self.initial_focus}").focus()

    def values(self) -> dict[str, str]:
        """The current value of every field."""
        out: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Select):
                out[f.name] = "" if widget.value is Select.BLANK else str(widget.value)
            elif isinstance(widget, Input):
                out[f.name] = widget.value.strip()
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a text field submits the form."""
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """OK or Cancel."""
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        """Close with the values."""
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        """Close without values."""
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something that cannot be undone: y confirms, n or Escape cancels."""

    DEFAULT_CSS = MODAL_CSS.format(cls="ConfirmScreen")
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        """The question and yes/no buttons."""
        with Vertical():
            yield Label("Confirm", classes="title")
            yield Static(self.question)
            with Horizontal(classes="buttons"):
                yield Button("No (n)", id="no")
                yield Button("Yes (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        """Default to the safe answer."""
        self.query_one("#no").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """A key answers."""
        self.dismiss(yes)


class HelpScreen(ModalScreen[None]):
    """The key bindings of the app and of the current view."""

    DEFAULT_CSS = MODAL_CSS.format(cls="HelpScreen") + """
    HelpScreen > Vertical { width: 80; }
    HelpScreen VerticalScroll { height: auto; max-height: 32; }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, sections: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        """A two-column table per section."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for title, rows in self.sections:
            table.add_row(Text(title, style="bold underline"), "")
            for key, description in rows:
                table.add_row(key, description)
            table.add_row("", "")
        with Vertical():
            yield Label("Key bindings", classes="title")
            with VerticalScroll():
                yield Static(table)
            yield Static(Text("Escape or ? closes", style="dim"))

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
