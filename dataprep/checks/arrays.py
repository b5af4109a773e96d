"""A whole file that is one JSON array (not JSON Lines): one DP103 that names the records' format
and the `convert` command, and DP112 for the records `convert` would reject."""

from __future__ import annotations

from collections import Counter

import orjson

from dataprep.checks import formats as F
from dataprep.checks.base import Sink
from dataprep.checks.lines import check_convertible
from dataprep.checks.state import FileReport
from dataprep.io.reader import BOM
from dataprep.schema.findings import Finding


def looks_like_array(head: bytes) -> bool:
    """Whether a file's first bytes open a JSON array (then the whole file is read as one value)."""
    return head.lstrip(BOM + b" \t\r\n").startswith(b"[")


def json_array_report(path: str, data: bytes) -> FileReport | None:
    """The report of a whole-file JSON array, or None when ``data`` is not one JSON document
    (then it is judged line by line like any JSONL file)."""
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    sink = Sink(path, 1)
    try:
        value = orjson.loads(data[3:] if data.startswith(BOM) else data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, list):
        sink.add("DP103", "file is one JSON value, not JSON Lines")
        return FileReport(path, F.UNKNOWN, 1, 0, n_lines, sink.findings)
    fmts = Counter(F.detect(r) for r in value)
    fmt = F.majority(fmts)
    sink.add("DP103", f"file is one JSON array of {len(value)} {F.LABELS[fmt]} records, not JSON Lines (one object "
             f"per line); run `dataprep convert {path} OUT.jsonl`")
    findings = sink.findings
    if fmt in F.CONVERTIBLE:
        findings += _array_conversion_findings(path, data, fmt)
    return FileReport(path, fmt, len(value), 0, n_lines, findings)


def _array_conversion_findings(path: str, data: bytes, fmt: str) -> list[Finding]:
    """DP112 for the records of a JSON array that `convert` would reject, at the line each starts on."""
    from dataprep.io.records import _array_records  # convert's own splitter: the same line numbers

    out: list[Finding] = []
    for src in _array_records(path, data):
        out += src.findings  # e.g. a key given twice (DP104) in one record
        if not src.ok or not isinstance(src.value, dict):
            continue
        own = F.detect(src.value)
        if own == fmt or own == F.UNKNOWN:  # records of another format: the array's DP103 speaks for them
            sink = Sink(path, src.line)
            check_convertible(src.value, fmt, sink)
            out += sink.findings
    return out
