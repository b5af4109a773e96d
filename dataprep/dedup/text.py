"""What dedup compares: the names dedup has always exported, now defined once in ``dataprep.text``.

``compare_text(example, what)`` is ``dataprep.text.compared_text`` with the format read from the
example's keys: the text the scan hashed (user turns, then assistant turns), which is also what
the TUI's duplicates view shows. ``prompt_and_answer`` is DP503's (prompt, answer).
"""

from __future__ import annotations

from typing import Any

from dataprep.text import (
    COMPARE_MODES,
    UNREADABLE,
    compared_text,
    content_text,
    message_text,
    messages_of,
    prompt_and_answer,
    readable,
)

# dedup.conflicts (DP503 in parallel) imports the message reader under its old private name.
_message_text = message_text


def compare_text(example: Any, what: str = "conversation") -> str:
    """The compared text of ``example`` for ``what`` (one of ``COMPARE_MODES``); ValueError otherwise."""
    return compared_text(example, None, what)


__all__ = ["COMPARE_MODES", "UNREADABLE", "compare_text", "compared_text", "content_text", "message_text",
           "messages_of", "prompt_and_answer", "readable"]
