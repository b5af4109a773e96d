"""What an example's text is: the one definition that the scan, dedup, diversity and the TUI read.

* ``content_text(content)``: a message content's text. A string; or a list of parts, each a
  string or a dict with a string ``text`` (OpenAI) or ``value`` (LLaMA-Factory), joined one per
  line; non-text parts (images, audio: a dict with another ``type``) are skipped; ``None`` or no
  content is no text. Any other shape is ``UNREADABLE``: an example with such content is not
  compared at all (never a duplicate of anything), rather than compared on part of its text.
* ``messages_of(rec, fmt)``: an example's messages; chat: ``messages``; preference (DPO):
  ``input.messages`` then the preferred output (``rejected=True`` adds the non-preferred one).
* ``texts_of(rec, fmt)``: the per-role texts the scan records for one example (the hot path);
  see its docstring for the tuple.
* ``ROLE_LETTER`` and ``role_pattern(messages)``: the ``s,u,a,t`` column of the Profile.
* ``compared_text(rec, fmt, compare)``: the text dedup hashes and compares (user turns, then
  assistant turns; tool calls and system prompts are not part of it), which the TUI's duplicates
  view shows. Diversity counts the same user and assistant texts.
* ``message_text(m)``: one message as a person reads it (content, then each tool call as
  ``name arguments``): what the TUI searches and what DP503 compares as an answer.

Only the standard library and ``dataprep.checks.formats`` are imported: every layer imports
this module, so it must stay a leaf (no numpy, no polars, no import cycle).
"""

from __future__ import annotations

from typing import Any

from dataprep.checks.formats import OPENAI_DPO, TRAINABLE

COMPARE_MODES = ("conversation", "user", "assistant")
UNREADABLE = None  # content_text's answer for a content shape it does not know
# Role shorthand of the role pattern (s,u,a,t,...); anything else is "?".
ROLE_LETTER = {"system": "s", "developer": "d", "user": "u", "assistant": "a", "tool": "t", "function": "f"}
# texts_of's unreadable bits: which role's content had a shape content_text cannot read.
UNREAD_USER, UNREAD_ASSISTANT, UNREAD_OTHER = 1, 2, 4


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


def messages_of(rec: Any, fmt: str | None = None, *, rejected: bool = False) -> list:
    """The example's messages, in order; ``[]`` when it has none of a known shape.

    ``fmt`` is the record's format (``openai-chat``, ``openai-dpo``); ``None`` takes it from the
    keys as ``checks.formats.detect`` does (``messages`` means chat). ``rejected``: a preference
    example's non-preferred output too (search looks there; nothing counts or compares it).
    """
    if type(rec) is not dict:
        return []
    if fmt != OPENAI_DPO and (fmt is not None or "messages" in rec):
        msgs = rec.get("messages")
        return msgs if type(msgs) is list else []
    inp = rec.get("input")
    msgs = list(inp["messages"]) if type(inp) is dict and type(inp.get("messages")) is list else []
    out = rec.get("preferred_output")
    if type(out) is list:
        msgs += out
    if rejected:
        out = rec.get("non_preferred_output")
        if type(out) is list:
            msgs += out
    return msgs


def example_format(row_format: str, file_format: str) -> str:
    """The format an example row is read in: its own when it is one we train on, else the
    file's (a row whose format the scan could not tell was checked, and read, as the file's)."""
    return row_format if row_format in TRAINABLE else file_format


def role_pattern(messages: Any) -> str:
    """``s,u,a,u,a``: one letter per message, ``?`` for a non-dict message or an unknown role."""
    if type(messages) is not list:
        return ""
    return ",".join(ROLE_LETTER.get(m.get("role"), "?") if type(m) is dict and type(m.get("role")) is str
                    else "?" for m in messages)


def texts_of(rec: dict, fmt: str | None = None) -> tuple:
    """What the scan records of one example, as one tuple (it runs once per input line):

    ``(user, assistant, system, pattern, chars, tool_calls, turns, unreadable)``: the user and
    the assistant messages' texts, each joined one message per line (a message without text is
    an empty line); the system and developer texts likewise, or ``None`` when there are none;
    ``role_pattern``; characters per role ``[system+developer, user, assistant, tool+function]``;
    the assistant's tool calls; turns (user messages); ``unreadable``, with ``UNREAD_USER`` set
    when a user message's content has a shape ``content_text`` cannot read, ``UNREAD_ASSISTANT``
    for an assistant's, ``UNREAD_OTHER`` for another role's (such text counts as "" here).
    """
    # messages_of and role_pattern are spelled out because this runs once per input line of
    # every scan; test_example_text holds this loop equal to them and to content_text.
    if fmt != OPENAI_DPO and (fmt is not None or "messages" in rec):  # chat, the common case, first
        msgs = rec.get("messages")
        if not isinstance(msgs, list):
            msgs = []
    else:
        inp = rec.get("input")
        msgs = list(inp["messages"]) if type(inp) is dict and type(inp.get("messages")) is list else []
        out = rec.get("preferred_output")
        if type(out) is list:
            msgs += out
    user, assistant, system = [], [], []
    letters = []
    chars = [0, 0, 0, 0]  # system, user, assistant, tool
    tool_calls = 0
    turns = 0
    bad = 0
    # One branch per role gives its letter, text list and char slot (ROLE_LETTER spelled out).
    for m in msgs:
        if type(m) is not dict:
            letters.append("?")
            continue
        role = m.get("role")
        c = m.get("content")
        if type(c) is not str:  # the common case stays inline; parts and odd shapes go to content_text
            c = content_text(c)
            if c is None:
                c = ""
                bad |= UNREAD_USER if role == "user" else (UNREAD_ASSISTANT if role == "assistant" else UNREAD_OTHER)
        if role == "user":
            letters.append("u")
            user.append(c)
            chars[1] += len(c)
            turns += 1
        elif role == "assistant":
            letters.append("a")
            assistant.append(c)
            chars[2] += len(c)
            tc = m.get("tool_calls")
            if type(tc) is list:
                tool_calls += len(tc)
        elif role == "system" or role == "developer":
            letters.append("s" if role == "system" else "d")
            system.append(c)
            chars[0] += len(c)
        elif role == "tool" or role == "function":
            letters.append("t" if role == "tool" else "f")
            chars[3] += len(c)
        else:
            letters.append("?")
    return ("\n".join(user), "\n".join(assistant), "\n".join(system) if system else None, ",".join(letters),
            chars, tool_calls, turns, bad)


def join_compared(user: str, assistant: str, compare: str = "conversation") -> str:
    """The compared text from ``texts_of``'s user and assistant texts (see ``compared_text``)."""
    if compare == "conversation":
        return f"{user}\n{assistant}"
    return user if compare == "user" else assistant


def compared_text(rec: Any, fmt: str | None = None, compare: str = "conversation") -> str:
    """The text dedup hashes and compares for one example, which the TUI shows for a duplicate.

    ``compare`` is the scan's option: ``conversation`` (the user text, a line break, the
    assistant text, as ``texts_of`` joins them), ``user`` or ``assistant``. A record that is not
    a dict has no text (""). Whether it is compared at all is ``texts_of``'s ``unreadable``.
    """
    if compare not in COMPARE_MODES:
        raise ValueError(f"compare must be one of {', '.join(COMPARE_MODES)}, got {compare!r}")
    if type(rec) is not dict:
        return ""
    u, a = texts_of(rec, fmt)[:2]
    return join_compared(u, a, compare)


def message_text(m: Any) -> str:
    """One message as a person reads it: its content's text, then each tool call as
    ``name arguments``, one per line ("" for a non-dict message or content it cannot read)."""
    if type(m) is not dict:
        return ""
    c = content_text(m.get("content"))
    out = [c] if c else []
    calls = m.get("tool_calls")
    if type(calls) is list:
        for call in calls:
            fn = call.get("function") if type(call) is dict else None
            if type(fn) is dict:
                out.append(f"{fn.get('name', '')} {fn.get('arguments', '')}")
    return "\n".join(out)


def readable(rec: Any, what: str = "conversation", fmt: str | None = None) -> bool:
    """Whether every message of ``what`` (all, or one role's) has content of a known shape."""
    for m in messages_of(rec, fmt):
        if type(m) is not dict or (what != "conversation" and m.get("role") != what):
            continue
        if content_text(m.get("content")) is UNREADABLE:
            return False
    return True


def _last_answer(rec: Any, fmt: str | None) -> tuple[list, int] | None:
    """(messages, index of the last assistant message), or None when there is none or some
    content cannot be read."""
    if not readable(rec, fmt=fmt):
        return None
    msgs = messages_of(rec, fmt)
    last = None
    for k, m in enumerate(msgs):
        if type(m) is dict and m.get("role") == "assistant":
            last = k
    return None if last is None else (msgs, last)


def prompt_and_answer(rec: Any, fmt: str | None = None) -> tuple[str, str] | None:
    """DP503's (prompt, answer): every message before the last assistant message, then that
    message, each as ``message_text``; None when there is no assistant message or some content
    cannot be read (such an example takes no part in DP503)."""
    found = _last_answer(rec, fmt)
    if found is None:
        return None
    msgs, last = found
    prompt = "\n".join(t for t in (message_text(m) for m in msgs[:last]) if t)
    return prompt, message_text(msgs[last])


def answer_of(rec: Any, fmt: str | None = None) -> str | None:
    """``prompt_and_answer``'s answer alone (DP503 reads thousands: the prompt is not built)."""
    found = _last_answer(rec, fmt)
    return None if found is None else message_text(found[0][found[1]])


__all__ = [
    "COMPARE_MODES", "ROLE_LETTER", "UNREADABLE", "UNREAD_ASSISTANT", "UNREAD_OTHER", "UNREAD_USER",
    "answer_of", "compared_text", "content_text", "example_format", "join_compared", "message_text", "messages_of", "prompt_and_answer",
    "readable", "role_pattern", "texts_of",
]
