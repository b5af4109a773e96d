"""Duplicate clusters by size; a cluster shows its members side by side with a word diff."""

from __future__ import annotations

import difflib
import re

import numpy as np
from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from dataprep.mask import redact
from dataprep.text import compared_text, example_format
from dataprep.tui.model import Dataset

LIST_LIMIT = 2000  # clusters listed; the largest come first
SIDE_BY_SIDE = 3  # kept member + 2 others
DIFF_WORDS = 3000  # words compared per member (difflib is quadratic in the worst case)
_TOKEN = re.compile(r"\S+\s*|\s+")


def word_diff(a: str, b: str) -> tuple[Text, Text, float]:
    """(a with removed words marked, b with added words marked, similarity ratio)."""
    wa = _TOKEN.findall(a)[:DIFF_WORDS]
    wb = _TOKEN.findall(b)[:DIFF_WORDS]
    sm = difflib.SequenceMatcher(None, [w.strip() for w in wa], [w.strip() for w in wb], autojunk=False)
    ta, tb = Text(), Text()
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        sa, sb = "".join(wa[i1:i2]), "".join(wb[j1:j2])
        if op == "equal":
            ta.append(sa)
            tb.append(sb)
        else:
            if sa:
                ta.append(sa, style="bold red strike")
            if sb:
                tb.append(sb, style="bold green")
    return ta, tb, sm.ratio()


class ClusterList(OptionList):
    BINDINGS = [Binding("right,l", "next_member", "Next member"), Binding("left,h", "prev_member", "Prev member")]

    class Cycle(Message):
        def __init__(self, step: int):
            super().__init__()
            self.step = step

    def action_next_member(self) -> None:
        self.post_message(self.Cycle(1))

    def action_prev_member(self) -> None:
        self.post_message(self.Cycle(-1))


class DuplicatesView(Vertical):
    DEFAULT_CSS = """
    DuplicatesView ClusterList { height: auto; max-height: 12; }
    DuplicatesView #dup-summary { height: auto; padding: 0 1; }
    DuplicatesView #dup-panes { height: 1fr; }
    DuplicatesView .dup-pane { width: 1fr; border: round $primary; padding: 0 1; }
    """

    class Jump(Message):
        def __init__(self, line: int):
            super().__init__()
            self.line = line  # 0-based

    def __init__(self, dataset: Dataset, **kw):
        super().__init__(**kw)
        self.dataset = dataset
        self.clusters: list[tuple[int, np.ndarray]] = []  # (cluster id, member lines 0-based)
        self.current: int | None = None
        self.member_offset = 0  # first non-kept member shown
        self._loaded = False

    def compose(self):
        yield Static(Text("waiting for the scan and the duplicate analysis…", style="dim"), id="dup-summary")
        yield ClusterList(id="dup-clusters")
        with Horizontal(id="dup-panes"):
            for k in range(SIDE_BY_SIDE):
                with VerticalScroll(classes="dup-pane", id=f"dup-pane-{k}"):
                    yield Static("", id=f"dup-text-{k}")

    def refresh_data(self, final: bool = False) -> None:
        """Show the clusters once they exist; ``final``: no more analyses will arrive."""
        a = self.dataset.analysis
        if a.dedup is None or self._loaded:
            if final and a.dedup is None:
                msg = next((n for n in a.notes if "duplicate" in n), None) or "no examples to compare"
                self.query_one("#dup-summary", Static).update(Text(msg, style="yellow" if "not" in msg else "dim"))
            return
        self._loaded = True
        res, rows = a.dedup, a.dedup_rows
        sizes = np.diff(res.cluster_offsets)
        order = np.argsort(-sizes, kind="stable")
        self.clusters = []
        opts = []
        for k in order[:LIST_LIMIT].tolist():
            c = res.cluster(k)
            lines = rows[c.members]
            kept = int(rows[c.kept])
            # kept member first, then the rest in file order
            members = np.concatenate([[kept], lines[lines != kept]]).astype(np.int64)
            self.clusters.append((k, members))
            shown = ", ".join(str(x + 1) for x in members[:6].tolist()) + ("…" if len(members) > 6 else "")
            kind = "exact" if c.similarity >= 1.0 else f"min similarity {c.similarity:.2f}"
            opts.append(Option(f"{len(members)} lines · {kind} · lines {shown}", id=f"c{k}"))
        summary = self.query_one("#dup-summary", Static)
        n = len(rows)
        t = Text()
        t.append(f"{res.n_clusters:,} cluster(s)", style="bold")
        t.append(f" · {res.exact_duplicates:,} exact + {res.near_duplicates:,} near duplicate(s) of {n:,} examples"
                 f" · MinHash threshold {res.params.get('threshold')}")
        if res.n_clusters > LIST_LIMIT:
            t.append(f" · the {LIST_LIMIT:,} largest listed", style="dim")
        if not res.n_clusters:
            t.append("\nno duplicates", style="green")
        else:
            t.append("\nEnter: open the kept line in Examples · ←/→: other members", style="dim")
        summary.update(t)
        lst = self.query_one(ClusterList)
        lst.clear_options()
        lst.add_options(opts)
        if opts:
            lst.highlighted = 0

    def _text(self, line: int) -> str:
        """The text dedup hashed for a member (``dataprep.text.compared_text``, with the scan's
        compare mode and the row's format), secrets and personal data masked (masked, then cut)."""
        rec, err = self.dataset.parse(line)
        if rec is None:
            return redact(self.dataset.raw_text(line, 20_000 + 4096))[:20_000]
        prof = self.dataset.profile
        if prof is None:  # clusters arrive after the scan; this only guards a reset dataset
            return redact(compared_text(rec))
        fmt = example_format(prof.rows["format"][line], prof.format)
        return redact(compared_text(rec, fmt, prof.options.compare))

    def show_cluster(self, idx: int | None) -> None:
        self.current = idx
        for k in range(SIDE_BY_SIDE):
            self.query_one(f"#dup-text-{k}", Static).update("")
        if idx is None or idx >= len(self.clusters):
            return
        _, members = self.clusters[idx]
        kept = int(members[0])
        others = members[1:]
        if len(others):
            self.member_offset %= len(others)
        chosen = [int(x) for x in np.roll(others, -self.member_offset)[: SIDE_BY_SIDE - 1]]
        base = self._text(kept)
        panes = [(kept, Text(base), "kept")]
        for ln in chosen:
            ta, tb, ratio = word_diff(base, self._text(ln))
            panes.append((ln, tb, f"{ratio:.0%} same words"))
            if len(panes) == 2:
                panes[0] = (kept, ta, "kept")  # the first comparison marks what the kept one lacks
        for k, (ln, text, note) in enumerate(panes):
            pane = self.query_one(f"#dup-pane-{k}", VerticalScroll)
            pane.border_title = f"line {ln + 1} · {note}"
            pane.display = True
            self.query_one(f"#dup-text-{k}", Static).update(text)
        for k in range(len(panes), SIDE_BY_SIDE):
            pane = self.query_one(f"#dup-pane-{k}", VerticalScroll)
            pane.border_title = ""
            pane.display = False

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.member_offset = 0
        self.show_cluster(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.clusters):
            self.post_message(self.Jump(int(self.clusters[event.option_index][1][0])))

    def on_cluster_list_cycle(self, event: ClusterList.Cycle) -> None:
        self.member_offset += event.step
        self.show_cluster(self.current)
