"""One rule's doc page, as ``dataprep rules DP211`` and the TUI's rule view print it."""

from __future__ import annotations

from dataprep.schema.catalog import get_rule


def rule_doc(key: str) -> str:
    """The doc page of one rule (id or name): why it is bad, a bad and a fixed example."""
    r = get_rule(key)
    return (f"{r.id} {r.name} ({r.severity.value})\n\n{r.summary}\n\nWhy this is bad\n{r.doc}\n\n"
            f"Example\n  {r.bad}\n\nFixed\n  {r.fixed}\n")
