"""The examples list: a Line API virtual list that renders only the rows on screen.

One row per input line (or per line of the active filter): line number, roles pattern, tokens,
flags. Its cost per frame is the visible rows only, whatever the file's size.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from dataprep.tui.model import Dataset, RowInfo

ROLES_W = 16
TOKENS_W = 7
ROLE_STYLE = Style(color="cyan")
DIM = Style(dim=True)
STYLES = {
    "error": Style(color="red", bold=True),
    "warning": Style(color="yellow"),
    "info": Style(color="blue"),
    "tools": Style(color="magenta"),
    "over": Style(color="red"),
    "dup": Style(color="bright_cyan"),
    "note": Style(color="red", italic=True),
    "lang": Style(color="green"),
}


def line_width(n_lines: int) -> int:
    """Width of the line-number column: as many digits as the largest line number."""
    return max(4, len(str(max(n_lines, 1))))


def header_text(line_w: int = 4) -> str:
    return f"{'line':>{line_w}}  {'roles':<{ROLES_W}} {'tokens':>{TOKENS_W}}  flags"


def row_segments(r: RowInfo, line_w: int = 4) -> list[tuple[str, Style | None]]:
    roles = r.roles if len(r.roles) <= ROLES_W else r.roles[: ROLES_W - 1] + "…"
    tokens = "…" if r.tokens is None else f"{r.tokens:,}"
    out: list[tuple[str, Style | None]] = [
        (f"{r.line:>{line_w}}  ", DIM),
        (f"{roles:<{ROLES_W}} ", ROLE_STYLE),
        (f"{tokens:>{TOKENS_W}}  ", None),
    ]
    flags: list[tuple[str, Style]] = []
    if r.note:
        flags.append((r.note, STYLES["note"]))
    if r.errors:
        flags.append((f"E{r.errors}", STYLES["error"]))
    if r.warnings:
        flags.append((f"W{r.warnings}", STYLES["warning"]))
    if r.infos:
        flags.append((f"I{r.infos}", STYLES["info"]))
    if r.tools:
        flags.append(("tools", STYLES["tools"]))
    if r.over:
        flags.append(("over-context", STYLES["over"]))
    if r.dup:
        flags.append((f"dup:{r.dup}", STYLES["dup"]))
    if r.lang:
        flags.append((r.lang, STYLES["lang"]))
    for k, (t, s) in enumerate(flags):
        out.append((t + (" " if k < len(flags) - 1 else ""), s))
    return out


class ExamplesHeader(Static):
    DEFAULT_CSS = "ExamplesHeader { height: 1; text-style: bold; }"

    def __init__(self, **kw):
        super().__init__(header_text(), **kw)

    def set_width(self, line_w: int) -> None:
        self.update(header_text(line_w))


class ExamplesList(ScrollView, can_focus=True):
    """Rows of the file (or of a filter) with a cursor; posts ``Highlighted`` when it moves."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False),
        Binding("pagedown,ctrl+f,space", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First"),
        Binding("end,G", "last", "Last"),
        Binding("enter", "open", "Open conversation"),
    ]
    COMPONENT_CLASSES = {"examples-list--cursor"}
    DEFAULT_CSS = """
    ExamplesList { height: 1fr; overflow-x: hidden; }
    ExamplesList > .examples-list--cursor { background: $accent 40%; text-style: bold; }
    ExamplesList:focus > .examples-list--cursor { background: $accent; }
    """

    class Highlighted(Message):
        def __init__(self, line: int | None):
            super().__init__()
            self.line = line  # 0-based line, None when the list is empty

    class Opened(Message):
        """Enter on a row: the app moves the focus into its conversation."""

        def __init__(self, line: int | None):
            super().__init__()
            self.line = line  # 0-based line, None when the list is empty

    def __init__(self, dataset: Dataset, **kw):
        super().__init__(**kw)
        self.dataset = dataset
        self.rows: np.ndarray | None = None  # view row -> 0-based line; None: every line
        self.cursor = 0
        self._cache: OrderedDict = OrderedDict()
        self._posted: int | None = -1
        self._follow_end = False
        # perf_counter of the first row rendered, and (line, time) of the latest: for benchmarks
        self.first_paint: float | None = None
        self.last_paint: tuple[int, float] | None = None

    # ------------------------------------------------------------------ size

    @property
    def line_w(self) -> int:
        return line_width(len(self.dataset))

    @property
    def count(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.dataset)

    def refresh_count(self) -> None:
        """Call when the index grew or the filter changed."""
        self.virtual_size = Size(self.size.width, self.count)
        if self._follow_end:  # G before the index was complete: keep going to the real end
            self.move_to(self.count - 1)
            self._follow_end = not self.dataset.index.done
        if self.count and self._posted == -1:
            self._post()
        self.refresh()

    def set_rows(self, rows: np.ndarray | None, keep_line: int | None = None) -> None:
        """Show only ``rows`` (0-based lines, ascending), or every line with None."""
        self.rows = rows
        self._cache.clear()
        self._follow_end = False
        self.cursor = 0
        if keep_line is not None:
            row = self.row_of(keep_line)
            if row is not None:
                self.cursor = row
        self.virtual_size = Size(self.size.width, self.count)
        self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False)
        self._posted = -1
        self._post()
        self.refresh()

    def line_at(self, row: int) -> int | None:
        if not 0 <= row < self.count:
            return None
        return int(self.rows[row]) if self.rows is not None else row

    def row_of(self, line: int) -> int | None:
        if self.rows is None:
            return line if 0 <= line < len(self.dataset) else None
        k = int(np.searchsorted(self.rows, line))
        return k if k < len(self.rows) and int(self.rows[k]) == line else None

    @property
    def current_line(self) -> int | None:
        return self.line_at(self.cursor)

    def visible_lines(self) -> list[int]:
        top = round(self.scroll_offset.y)
        return [ln for r in range(top, top + self.size.height) if (ln := self.line_at(r)) is not None]

    # ------------------------------------------------------------------ cursor

    def _post(self) -> None:
        line = self.current_line
        if line != self._posted:
            self._posted = line
            self.post_message(self.Highlighted(line))

    def move_to(self, row: int) -> None:
        if row != self.count - 1:
            self._follow_end = False
        n = self.count
        if not n:
            return
        row = max(0, min(n - 1, row))
        self.cursor = row
        top = round(self.scroll_offset.y)
        h = max(1, self.size.height)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + h:
            self.scroll_to(y=row - h + 1, animate=False, immediate=True)
        self.refresh()
        self._post()

    def goto_line(self, line: int) -> bool:
        """Put the cursor on 0-based ``line``; False when the view does not hold it."""
        row = self.row_of(line)
        if row is None:
            return False
        self.cursor = row
        if self.size.height:
            self._center_cursor()
        else:  # a hidden tab has no size yet: place the row once it has been laid out
            self.call_after_refresh(self._center_cursor)
        self.refresh()
        self._post()
        return True

    def _center_cursor(self) -> None:
        h = max(1, self.size.height)
        top = round(self.scroll_offset.y)
        if not top <= self.cursor < top + h:
            self.scroll_to(y=max(0, self.cursor - h // 2), animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.size.height - 1))

    def action_open(self) -> None:
        self.post_message(self.Opened(self.current_line))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self._follow_end = self.rows is None and not self.dataset.index.done
        self.move_to(self.count - 1)

    def on_click(self, event: events.Click) -> None:
        off = event.get_content_offset(self)
        if off is not None:
            self.move_to(round(self.scroll_offset.y) + off.y)
            self.focus()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, self.count)
        self._cache.clear()

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        row = round(self.scroll_offset.y) + y
        width = self.size.width
        base = self.rich_style
        line = self.line_at(row)
        if line is None:
            return Strip.blank(width, base)
        selected = row == self.cursor
        key = (line, selected, width, self.dataset.version)
        strip = self._cache.get(key)
        if strip is None:
            style = base + self.get_component_rich_style("examples-list--cursor") if selected else base
            segs = [Segment(t, style + s if s is not None else style)
                    for t, s in row_segments(self.dataset.row(line), self.line_w)]
            strip = Strip(segs).adjust_cell_length(width, style)
            self._cache[key] = strip
            if len(self._cache) > 1024:
                self._cache.popitem(last=False)
        now = time.perf_counter()
        if self.first_paint is None:
            self.first_paint = now
        self.last_paint = (line, now)
        return strip
