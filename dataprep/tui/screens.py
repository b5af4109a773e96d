"""Modal screens: a one-line prompt (go to line, search, filter, export), the rule doc, help."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; dismisses with the text, or None on Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center top; }
    PromptScreen > Vertical { width: 80%; max-width: 100; height: auto; margin-top: 3; padding: 0 1;
                              border: round $accent; background: $surface; }
    PromptScreen Label { width: 1fr; }
    PromptScreen #prompt-hint { color: $text-muted; }
    """

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "", **kw):
        super().__init__(**kw)
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="prompt-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            if self.hint:
                yield Label(self.hint, id="prompt-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """A scrollable page of text (rule docs, help); Escape, q or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "Close")]
    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > VerticalScroll { width: 90%; max-width: 110; height: 85%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, title: str, body, **kw):
        super().__init__(**kw)
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll() as v:
            v.border_title = self.title_text
            v.border_subtitle = "Esc to close"
            yield Static(self.body, id="text-body")

    def action_close(self) -> None:
        self.dismiss(None)


def help_body(sections: list[tuple[str, list[tuple[str, str]]]], filter_help: str) -> Table:
    """The help page: one table of keys per area, then the filter syntax."""
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column("key", style="bold cyan", no_wrap=True, width=22)
    table.add_column("what")
    for title, rows in sections:
        table.add_row(Text(title, style="bold underline"), "")
        for key, desc in rows:
            table.add_row(key, desc)
        table.add_row("", "")
    table.add_row(Text("Filters (f)", style="bold underline"), "")
    table.add_row("", filter_help)
    return table
