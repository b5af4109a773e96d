"""Excerpts: how much of one string (a finding's message, an opening, a path) a report shows.

Reports quote dataset text; a 50 MB line must not become a 50 MB table cell, nor cost a masking
regex pass over all of it. ``excerpt`` runs before masking (``dataprep.mask.redact``) and cuts
at a space, so a token (a number, a key the mask must recognise whole) is never cut in two.
"""

from __future__ import annotations

MAX_EXCERPT_CHARS = 2000  # findings' messages are one or two sentences; this is a wall of text


def excerpt(text: str, limit: int = MAX_EXCERPT_CHARS) -> str:
    """``text`` itself when short, else its head (ending at a space when one is in the second
    half) and how many characters were left out."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    if cut >= limit // 2:
        head = head[:cut]
    return f"{head}… ({len(text) - len(head):,} more characters)"
