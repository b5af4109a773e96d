"""DP101-DP106: turn one raw line into a JSON object, or into findings that say exactly why not."""

from __future__ import annotations

import json
import re

import orjson

from dataprep.checks.base import Sink, pointer_escape, short
from dataprep.io.reader import BOM

# A key is a string followed by optional whitespace and a colon. Counting these in the raw text
# gives at least the number of keys written (string values can add matches, never remove them).
_KEY_END = re.compile(rb'"[ \t\r\n]*:')

# Returned when a line yields no value; ``None`` is a value (the line ``null``).
NOTHING = object()


def is_blank(data: bytes) -> bool:
    # only spaces, tabs, CR, LF, FF, VT: bytes.strip of those six is C speed, no regex call per line
    return not data.strip(b" \t\r\n\f\v")


def parse_line(data: bytes, sink: Sink, *, first_line: bool = False):
    """Parse one line; return the parsed value or NOTHING (then ``sink`` holds why).

    Blank lines return None with DP105. A BOM on the first line is reported (DP106) and skipped.
    """
    if first_line and data.startswith(BOM):
        sink.add("DP106", "file starts with a UTF-8 byte-order mark; JSONL readers such as OpenAI's reject it "
                 "(`dataprep fix` strips it)", column=1)
        data = data[3:]
    if not data.strip(b" \t\r\n\f\v"):  # is_blank, inline (once per line)
        sink.add("DP105", "blank line; JSONL allows no empty lines (`dataprep fix` drops them)")
        return NOTHING
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        _explain_parse_error(data, e, sink)
        return NOTHING
    except RecursionError:  # orjson guards its own depth; this is belt and braces
        sink.add("DP102", "nesting too deep to parse")
        return NOTHING
    if isinstance(value, dict):
        # The common compact line re-serialises byte for byte (_may_have_duplicate_keys' first
        # test, done here without the call).
        try:
            same = orjson.dumps(value) == data
        except (orjson.JSONEncodeError, TypeError):
            same = False
        if not same and _may_have_duplicate_keys(data, value):
            _report_duplicate_keys(data, sink)
    return value


def _explain_parse_error(data: bytes, e: orjson.JSONDecodeError, sink: Sink) -> None:
    msg = e.msg
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as u:
        col = len(data[: u.start].decode("utf-8", "replace")) + 1
        sink.add("DP101", f"invalid UTF-8: byte 0x{data[u.start]:02x} at byte offset {u.start} (column {col}); "
                 "re-encode the file as UTF-8", column=col)
        return
    col = e.pos + 1  # orjson's pos counts characters
    if "surrogate" in msg:
        sink.add("DP101", f"lone UTF-16 surrogate escape near column {col}: the text cannot be encoded as UTF-8; "
                 "remove or replace the escape", column=col)
        return
    nul = text.find("\x00")
    if nul >= 0:
        sink.add("DP102", f"NUL byte at column {nul + 1}: JSON allows no raw control characters; remove it",
                 column=nul + 1)
        return
    if text.lstrip().startswith("\ufeff"):
        sink.add("DP102", "byte-order mark in the middle of the file; remove it (`dataprep fix`)", column=1)
        return
    if msg.startswith("recursion limit"):
        sink.add("DP102", "nesting deeper than 1024 levels; no chat example needs this", column=col)
        return
    near = short(text[max(0, e.pos - 20): e.pos + 20], 50)
    sink.add("DP102", f"invalid JSON at column {col}: {msg} (near {near!r})", column=col)


def _may_have_duplicate_keys(data: bytes, value: dict) -> bool:
    """Cheap test: could this line hold a key twice? False means certainly not.

    orjson keeps the last of two equal keys silently. Re-serialising gives exactly one ``":`` per
    kept key (plus any inside strings); the raw text has at least as many as were written.
    If the raw count is not larger, nothing was dropped.
    """
    try:
        kept = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return True
    if kept == data:
        # Compact lines (orjson, json.dumps(separators=...)) re-serialise byte for byte: the
        # text then holds exactly the kept keys. One compare instead of six scans of the line.
        return False
    raw_count = data.count(b'":') + data.count(b'" :')
    # Rarer spacing before a colon: count exactly. (A tab or CR byte first: memchr, and ``int in
    # bytes`` / find() skip the exception ``bytes in bytes`` raises and clears internally.)
    if ((9 in data and data.find(b'"\t') >= 0) or (13 in data and data.find(b'"\r') >= 0)
            or data.find(b'"  ') >= 0):
        raw_count = len(_KEY_END.findall(data))
    kept_count = kept.count(b'":')
    # \u0022 in the raw text is a quote the raw count cannot see; be exact then.
    return raw_count > kept_count or (0x5C in data and (data.find(b"\\u0022") >= 0
                                                         or data.find(b"\\U0022") >= 0))


def _report_duplicate_keys(data: bytes, sink: Sink) -> None:
    dups: list[tuple[int, str]] = []

    def hook(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                dups.append((id(d), k))
            d[k] = v
        return d

    try:
        value = json.loads(data.decode("utf-8", "surrogatepass"), object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return
    if not dups:
        return
    paths = _paths_of_dicts(value, {i for i, _ in dups})
    for dict_id, key in dups:
        base = paths.get(dict_id, "")
        sink.add("DP104", f"key {key!r} appears more than once in one object; parsers disagree on which value "
                 "wins. Keep one.", pointer=f"{base}/{pointer_escape(key)}")


def _paths_of_dicts(root, wanted: set[int]) -> dict[int, str]:
    """JSON pointers of the dicts whose ids are wanted (iterative: input may nest 1000 deep)."""
    found: dict[int, str] = {}
    stack = [(root, "")]
    while stack and len(found) < len(wanted):
        node, path = stack.pop()
        if isinstance(node, dict):
            if id(node) in wanted:
                found[id(node)] = path
            stack.extend((v, f"{path}/{pointer_escape(str(k))}") for k, v in node.items() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, f"{path}/{i}") for i, v in enumerate(node) if isinstance(v, (dict, list)))
    return found
