"""Findings grouped by rule with counts; a finding jumps to its example, ``?`` shows the rule doc."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tree

from dataprep.mask import redact
from dataprep.schema.catalog import get_rule
from dataprep.schema.findings import Finding
from dataprep.tui.conversation_view import SEVERITY_COLOURS
from dataprep.tui.model import Dataset

CHILD_LIMIT = 500  # findings listed under one rule; the examples filter shows all of them


def finding_label(f: Finding) -> Text:
    t = Text()
    t.append(f"line {f.line}" if f.line else "file", style="bold")
    if f.pointer:
        t.append(f" {f.pointer}", style="dim")
    msg = redact(f.message)  # messages are masked where made; this catches any that quote text
    msg = msg if len(msg) <= 100 else msg[:99] + "…"
    t.append(f"  {msg}")
    return t


def rule_label(rule: str, count: int, severity) -> Text:
    t = Text()
    t.append(f"{rule} ", style="bold " + SEVERITY_COLOURS[severity])
    try:
        t.append(get_rule(rule).name)
    except KeyError:
        pass
    t.append(f"  {severity.value}", style=SEVERITY_COLOURS[severity])
    t.append(f"  ×{count:,}", style="bold")
    return t


class FindingsTree(Tree):
    BINDINGS = [
        Binding("d", "rule_doc", "Rule doc"),  # ? is help everywhere
        Binding("l", "list_lines", "Filter examples"),
        Binding("x", "export_rule", "Export lines"),
    ]

    class Jump(Message):
        def __init__(self, line: int):
            super().__init__()
            self.line = line  # 1-based

    class RuleAction(Message):
        def __init__(self, rule: str, action: str):
            super().__init__()
            self.rule = rule
            self.action = action  # "doc" | "list" | "export"

    def __init__(self, **kw):
        super().__init__("findings", **kw)
        self.show_root = False
        self.guide_depth = 3

    def current_rule(self) -> str | None:
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        kind, value = node.data
        return value if kind == "rule" else value.rule

    def action_rule_doc(self) -> None:
        if (r := self.current_rule()) is not None:
            self.post_message(self.RuleAction(r, "doc"))

    def action_list_lines(self) -> None:
        if (r := self.current_rule()) is not None:
            self.post_message(self.RuleAction(r, "list"))

    def action_export_rule(self) -> None:
        if (r := self.current_rule()) is not None:
            self.post_message(self.RuleAction(r, "export"))


class FindingsView(Horizontal):
    DEFAULT_CSS = """
    FindingsView FindingsTree { width: 3fr; }
    FindingsView #finding-detail { width: 2fr; border-left: solid $primary; padding: 0 1; }
    """

    def __init__(self, dataset: Dataset, **kw):
        super().__init__(**kw)
        self.dataset = dataset
        self._version = -1

    def compose(self):
        yield FindingsTree(id="findings-tree")
        with VerticalScroll(id="finding-detail"):
            yield Static(Text("waiting for the scan…", style="dim"), id="finding-doc")

    @property
    def findings_tree(self) -> FindingsTree:
        return self.query_one(FindingsTree)

    def refresh_data(self) -> None:
        """Rebuild the rule groups (after the scan or an analysis added findings)."""
        ds = self.dataset
        if ds.version == self._version:
            return
        self._version = ds.version
        tree = self.findings_tree
        expanded = {n.data[1] for n in tree.root.children if n.is_expanded}
        tree.clear()
        counts = ds.rule_counts()
        for rule, n, sev in counts:
            node = tree.root.add(rule_label(rule, n, sev), data=("rule", rule), expand=False)
            node.allow_expand = True
            if rule in expanded:
                self._populate(node)
                node.expand()
        doc = self.query_one("#finding-doc", Static)
        if not counts:
            doc.update(Text("no findings" if ds.scanned else "waiting for the scan…",
                            style="green" if ds.scanned else "dim"))
        else:
            total = sum(n for _, n, _ in counts)
            doc.update(Text(f"{total:,} finding(s) under {len(counts)} rule(s). Enter opens a rule or jumps "
                            "to a finding's example; ? shows the rule's doc; l filters the examples; "
                            "x exports the lines.", style="dim"))

    def _populate(self, node) -> None:
        if node.children:
            return
        rule = node.data[1]
        fs = self.dataset.by_rule.get(rule, [])
        for f in fs[:CHILD_LIMIT]:
            node.add_leaf(finding_label(f), data=("finding", f))
        if len(fs) > CHILD_LIMIT:
            node.add_leaf(Text(f"… {len(fs) - CHILD_LIMIT:,} more: press l to list every line in Examples",
                               style="dim"), data=("rule", rule))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        if event.node.data and event.node.data[0] == "rule":
            self._populate(event.node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        if not data:
            return
        kind, value = data
        rule = value if kind == "rule" else value.rule
        try:
            r = get_rule(rule)
        except KeyError:
            return
        t = Text()
        t.append(f"{r.id} {r.name}", style="bold " + SEVERITY_COLOURS[r.severity])
        t.append(f" ({r.severity.value})\n\n")
        t.append(r.summary + "\n\n")
        if kind == "finding":
            t.append(f"line {value.line}" if value.line else "whole file", style="bold")
            if value.pointer:
                t.append(f" at {value.pointer}")
            if value.column:
                t.append(f", column {value.column}")
            t.append(f"\n{redact(value.message)}\n\n")
        t.append("? for the full doc with a bad and a fixed example", style="dim")
        self.query_one("#finding-doc", Static).update(t)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        data = event.node.data
        if data and data[0] == "finding":
            event.stop()
            self.post_message(FindingsTree.Jump(data[1].line))  # from here: a message stops at its sender
