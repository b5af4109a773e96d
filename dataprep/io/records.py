"""Records with their source line numbers, from JSON Lines, one whole-file JSON array, or a table.

``convert`` takes both shapes: JSONL (one record per line) and the pretty-printed JSON arrays that
Alpaca / ShareGPT datasets ship as. For an array, a record's source line is the line where its
value starts. The array is split into items by a structural scan (strings skipped by one regex,
brackets and commas counted at depth one) and each item is parsed on its own with the same
``parse_line`` the validator uses, so a broken item becomes one reject with its line and reason
while its neighbours still convert, and duplicate keys are caught the same way as in JSONL.

Parquet and CSV/TSV files (Hugging Face datasets usually ship as parquet) are read with polars;
a record's number is then its 1-based data row (``line`` holds it, the stream's shape says so).
Parquet keeps nested columns (a list of message structs arrives as a list of dicts); a struct
field that is null is dropped from its dict, because a parquet struct cannot leave a key out and
``"weight": null`` is not the same as no weight. CSV cells are all read as text (no type guessing:
an answer ``42`` stays the string ``"42"``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from dataprep.checks.base import Sink
from dataprep.checks.parse import is_blank, parse_line
from dataprep.io.reader import BOM, InputError, iter_lines, open_binary, tabular_kind
from dataprep.schema.findings import Finding, Severity

# A JSON string (escapes included) or one structural character. Multi-byte UTF-8 sequences never
# contain ASCII bytes, so scanning the raw bytes is safe. A JSON string never holds a raw newline,
# so a string is matched within one line: a broken quote costs one item, not the rest of the file.
_TOKEN = re.compile(rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|[\[\]{},]')
_WS = b" \t\r\n"
_NO_VALUE = frozenset({"DP101", "DP102", "DP105"})  # parse findings that mean "no value came out"


@dataclass(slots=True)
class SourceRecord:
    """One input record: its parsed value, or why it could not be parsed."""

    line: int  # 1-based line where the record starts in the input
    value: object = None  # the parsed value (None when ``ok`` is False; JSON null is a value too)
    ok: bool = True  # parsed
    raw: bytes = b""  # the record's bytes as written (kept only when it did not parse)
    findings: list[Finding] = field(default_factory=list)  # parse findings (DP101/DP102/DP104...)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


@dataclass(slots=True)
class RecordStream:
    """What ``open_records`` found: the container shape and the records (a one-shot iterator)."""

    shape: str  # "jsonl", "json-array", "parquet", "csv" or "tsv"
    records: Iterator[SourceRecord]
    blank_lines: list[int] = field(default_factory=list)  # JSONL blank lines (not records), filled while iterating


def raw_text(data: bytes) -> tuple[str, str | None]:
    """Bytes as a JSON-safe string: UTF-8 text, or base64 (second item ``"base64"``) when not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # cannot happen for decoded UTF-8; belt and braces
        return base64.b64encode(data).decode("ascii"), "base64"
    return text, None


def open_records(path: str) -> RecordStream:
    """Records of a JSONL file or of a whole-file JSON array (decided by the first byte).

    Raises InputError when the input cannot be read at all.
    """
    stream = open_binary(path, tabular=True)
    try:
        head = stream.peek(1 << 16)[: 1 << 16] if hasattr(stream, "peek") else b""
    except (OSError, EOFError) as e:
        stream.close()
        raise InputError(path, f"read failed: {e}") from None
    kind = tabular_kind(head, path)
    if kind is not None:
        try:
            with stream:
                data = stream.read()
        except (OSError, EOFError) as e:
            raise InputError(path, f"read failed: {e}") from None
        return RecordStream(kind, _table_records(path, kind, data))
    if head.startswith(BOM):
        head = head[3:]
    if head.lstrip(_WS).startswith(b"["):
        try:
            with stream:
                data = stream.read()
        except (OSError, EOFError) as e:
            raise InputError(path, f"read failed: {e}") from None
        return RecordStream("json-array", _array_records(path, data))
    rs = RecordStream("jsonl", iter(()))
    rs.records = _jsonl_records(path, stream, rs.blank_lines)
    return rs


def _jsonl_records(path: str, stream, blanks: list[int]) -> Iterator[SourceRecord]:
    with stream:
        for line in iter_lines(stream):
            data = line.data
            if line.number == 1 and data.startswith(BOM):
                data = data[3:]
            if is_blank(data):
                blanks.append(line.number)
                continue
            yield _parse(path, line.number, data)


def _parse(path: str, number: int, data: bytes) -> SourceRecord:
    sink = Sink(path, number)
    value = parse_line(data, sink)
    if parse_failed(sink.findings):
        return SourceRecord(number, None, False, data, sink.findings)
    return SourceRecord(number, value, True, b"", sink.findings)


def parse_failed(findings: list[Finding]) -> bool:
    """Whether ``parse_line`` produced no value (its return value for that case is its own business)."""
    return any(f.rule in _NO_VALUE for f in findings)


def _array_records(path: str, data: bytes) -> Iterator[SourceRecord]:
    """Split ``[item, item, ...]`` into items (one structural scan) and parse each on its own."""
    start = 3 if data.startswith(BOM) else 0
    n = len(data)
    pos = start
    while pos < n and data[pos] in _WS:
        pos += 1
    pos += 1  # the opening '['
    line = 1 + data.count(b"\n", 0, pos)
    line_pos = pos  # newlines are counted up to here
    depth = 1
    item_start = pos
    closed = False

    def item(lo: int, hi: int) -> SourceRecord | None:
        nonlocal line, line_pos
        while lo < hi and data[lo] in _WS:
            lo += 1
        while hi > lo and data[hi - 1] in _WS:
            hi -= 1
        if lo == hi:
            return None
        line += data.count(b"\n", line_pos, lo)
        line_pos = lo
        return _parse(path, line, data[lo:hi])

    for m in _TOKEN.finditer(data, pos):
        tok = m.group()
        c = tok[0]
        if c == 0x22:  # a string
            continue
        if c in (0x7B, 0x5B):  # { [
            depth += 1
        elif c in (0x7D, 0x5D):  # } ]
            depth -= 1
            if depth == 0:  # the array's own closing bracket
                rec = item(item_start, m.start())
                if rec is not None:
                    yield rec
                closed = True
                pos = m.end()
                break
        elif depth == 1:  # a comma between items
            rec = item(item_start, m.start())
            if rec is None:
                rec = _bad(path, 1 + data.count(b"\n", 0, m.start()), b",", "empty array item (two commas in a row)")
            yield rec
            item_start = m.end()
    if not closed:
        rec = item(item_start, n)
        if rec is not None:
            if rec.ok:  # it parsed on its own, but the array around it never closed
                rec = _bad(path, rec.line, data[item_start:].strip(_WS),
                           "the JSON array is not closed with ']' (file truncated?)")
            yield rec
        else:
            yield _bad(path, 1 + data.count(b"\n"), b"", "the JSON array is not closed with ']' (file truncated?)")
        return
    rest = data[pos:].strip(_WS)
    if rest:
        yield _bad(path, 1 + data.count(b"\n", 0, pos), rest, "text after the closing ']' of the JSON array")


def _bad(path: str, line: int, raw: bytes, reason: str) -> SourceRecord:
    sink = Sink(path, line)
    sink.add("DP102", reason)
    return SourceRecord(line, None, False, raw, sink.findings)


TABULAR_SHAPES = frozenset({"parquet", "csv", "tsv"})
_SLICE = 4096  # rows turned into Python dicts at a time (bounded extra memory on large tables)


def _table_records(path: str, kind: str, data: bytes) -> Iterator[SourceRecord]:
    """The rows of a parquet / CSV / TSV file as records numbered by data row (1-based).

    The table is parsed before the first row is yielded, so a file polars cannot read is an
    InputError (nothing written), never a half-converted output.
    """
    import io

    import polars as pl

    try:
        if kind == "parquet":
            df = pl.read_parquet(io.BytesIO(data))
        else:
            df = pl.read_csv(io.BytesIO(data), separator="," if kind == "csv" else "\t",
                             infer_schema=False)
    except Exception as e:  # polars raises its own exception family for corrupt or ragged files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(path, f"not a readable {kind} file: {first}") from None
    return _rows(df)


def _rows(df) -> Iterator[SourceRecord]:
    row = 0
    for part in df.iter_slices(_SLICE):
        for rec in part.iter_rows(named=True):
            row += 1
            yield SourceRecord(row, {k: _drop_null_fields(v) for k, v in rec.items()})


def _drop_null_fields(v):
    """Nested struct fields that are null are absent keys (a parquet struct cannot omit one)."""
    if isinstance(v, dict):
        return {k: _drop_null_fields(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_drop_null_fields(x) for x in v]
    return v
