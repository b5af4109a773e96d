"""What dedup compares, taken from one parsed example (a dict), tolerant of malformed shapes.

* ``content_text(content)``: the ONE definition of a message content's text, used by the scan
  (``scan._texts_of``) and everything here: a string; or a list of parts, each a string or a
  dict with a string ``text`` (OpenAI) or ``value`` (LLaMA-Factory), joined one per line;
  non-text parts (images, audio: a dict with another ``type``) are skipped; ``None`` or no
  content is no text. Any other shape returns ``UNREADABLE``: an example with such content is
  not compared at all (never a duplicate of anything), rather than compared on part of its text.
* ``compare_text(example, what)``: the messages' text, one message per line, for ``what`` =
  ``"conversation"`` (default: every message), ``"user"`` or ``"assistant"``. Text parts of
  list-valued ``content`` count; image parts do not; assistant tool calls count as
  ``name arguments``. Preference (DPO) examples use ``input.messages`` plus the preferred output.
* ``prompt_and_answer(example)``: for DP503, every message before the last assistant message
  (the prompt) and that message (the answer).
"""

from __future__ import annotations

from typing import Any

COMPARE_MODES = ("conversation", "user", "assistant")
UNREADABLE = None  # content_text's answer for a content shape it does not know


def content_text(content: Any) -> str | None:
    """The text of a message's ``content`` ("" for none), or ``UNREADABLE`` (see the module doc)."""
    if type(content) is str:
        return content
    if content is None:
        return ""
    if type(content) is not list:
        return UNREADABLE
    parts = []
    for p in content:
        if type(p) is str:
            parts.append(p)
        elif type(p) is dict:
            t = p.get("text")
            if type(t) is not str:
                t = p.get("value")
            if type(t) is str:
                parts.append(t)
            elif type(p.get("type")) is not str or p["type"] == "text":
                return UNREADABLE  # a text part without its text, or a part of no known kind
        else:
            return UNREADABLE
    return "\n".join(parts)


def _content_text(content: Any) -> str:
    t = content_text(content)
    return "" if t is None else t


def _message_text(m: Any) -> str:
    if not isinstance(m, dict):
        return ""
    out = [_content_text(m.get("content"))]
    calls = m.get("tool_calls")
    if isinstance(calls, list):
        for c in calls:
            fn = c.get("function") if isinstance(c, dict) else None
            if isinstance(fn, dict):
                out.append(f"{fn.get('name', '')} {fn.get('arguments', '')}")
    return "\n".join(x for x in out if x)


def readable(example: Any, what: str = "conversation") -> bool:
    """Whether every compared message's content has a known shape (see ``content_text``)."""
    for m in messages_of(example):
        if not isinstance(m, dict):
            continue
        if what != "conversation" and m.get("role") != what:
            continue
        if content_text(m.get("content")) is UNREADABLE:
            return False
    return True


def messages_of(example: Any) -> list:
    """The example's messages: ``messages``, or ``input.messages`` + preferred output (DPO)."""
    if not isinstance(example, dict):
        return []
    msgs = example.get("messages")
    if isinstance(msgs, list):
        return msgs
    inp = example.get("input")
    if isinstance(inp, dict) and isinstance(inp.get("messages"), list):
        pref = example.get("preferred_output")
        return list(inp["messages"]) + (list(pref) if isinstance(pref, list) else [])
    return []


def compare_text(example: Any, what: str = "conversation") -> str:
    if what not in COMPARE_MODES:
        raise ValueError(f"what must be one of {', '.join(COMPARE_MODES)}, got {what!r}")
    lines = []
    for m in messages_of(example):
        if what != "conversation" and (not isinstance(m, dict) or m.get("role") != what):
            continue
        t = _message_text(m)
        if t:
            lines.append(t)
    return "\n".join(lines)


def prompt_and_answer(example: Any) -> tuple[str, str] | None:
    """(prompt text, answer text), or None when the example has no assistant message or a
    message whose content cannot be read (such an example takes no part in DP503)."""
    if not readable(example):
        return None
    msgs = messages_of(example)
    last = None
    for k, m in enumerate(msgs):
        if isinstance(m, dict) and m.get("role") == "assistant":
            last = k
    if last is None:
        return None
    prompt = "\n".join(t for t in (_message_text(m) for m in msgs[:last]) if t)
    return prompt, _message_text(msgs[last])
