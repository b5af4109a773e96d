"""What dedup compares, taken from one parsed example (a dict), tolerant of malformed shapes.

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


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
        return "\n".join(parts)
    return ""


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
    """(prompt text, answer text), or None when the example has no assistant message."""
    msgs = messages_of(example)
    last = None
    for k, m in enumerate(msgs):
        if isinstance(m, dict) and m.get("role") == "assistant":
            last = k
    if last is None:
        return None
    prompt = "\n".join(t for t in (_message_text(m) for m in msgs[:last]) if t)
    return prompt, _message_text(msgs[last])
