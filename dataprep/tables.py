"""Terminal tables that fit the terminal and never cut a number.

rich shrinks a table that is too wide by cutting cells ("1,059,0", "3,111…"). Here every column
is given a width that holds its longest value, headers wrap at spaces, the first (name) column
folds, and when even that does not fit the rows are printed as blocks, one per row, instead.
"""

from __future__ import annotations

from collections.abc import Sequence

FIRST_MIN = 12  # narrowest useful name column: a path folds into lines of this width


def fit_table(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]], width: int, *,
              title: str | None = None):
    """A rich renderable for ``rows`` under ``columns`` ((header, "left"|"right") pairs) in ``width``.

    A table when every value fits whole; otherwise one block per row ("name" then "header  value"
    lines), which reads at any width down to 40 columns.
    """
    from rich.table import Table

    widths = column_widths(columns, rows, width)
    if widths is None:
        return _blocks(columns, rows, title)
    t = Table(title=title, title_justify="left")
    for (head, justify), w in zip(columns, widths):
        t.add_column(head, justify=justify, width=w, overflow="fold")
    for r in rows:
        t.add_row(*[str(c) for c in r])
    return t


def fits(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]], width: int) -> bool:
    """Whether ``fit_table`` would draw a table (not blocks): a caller can drop columns until it does."""
    return column_widths(columns, rows, width) is not None


def column_widths(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]], width: int) -> list[int] | None:
    """Each column's content width so that every value but the first column's is whole and the
    table is at most ``width`` wide; None when that cannot be done."""
    n = len(columns)
    if not n:
        return None
    longest_word = [max((len(w) for w in h.split()), default=1) for h, _ in columns]
    cells = [max([len(str(r[i])) for r in rows] + [0]) for i in range(n)]
    frame = 3 * n + 1  # rich's heavy box: one border per column plus padding of one each side
    whole = [max(cells[i], len(h)) for i, (h, _) in enumerate(columns)]  # whole headers
    wrapped = [max(cells[i], longest_word[i]) for i in range(n)]  # headers wrapped at spaces
    name = whole[0]
    # best first: every name whole, then names folded to no less than FIRST_MIN; whole headers
    # before wrapped ones at each step
    for need in (name, min(name, FIRST_MIN)):
        for widths in (whole, wrapped):
            rest = sum(widths[1:]) + frame
            if rest + need <= width:
                return [max(need, min(name, width - rest)), *widths[1:]]
    return None


def _blocks(columns, rows, title):
    from rich.console import Group
    from rich.text import Text

    label = max(len(h) for h, _ in columns[1:]) if len(columns) > 1 else 0
    out = [Text(title, style="italic")] if title else []
    for r in rows:
        out.append(Text(str(r[0]), style="bold"))
        for (head, _), cell in zip(columns[1:], r[1:]):
            out.append(Text(f"  {head:<{label}}  {cell}"))
    return Group(*out)
