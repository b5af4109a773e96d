"""The per-line unit of every scan: parse one line, run every per-line rule on it.

``check_line`` is what the scan's workers run for each line (``dataprep.scan``), and what
``convert`` and ``fix`` run on each line they write; ``check_convertible`` (DP112) asks
``convert``'s own record converter what it would do with a record of a convertible format.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from dataprep.checks import formats as F
from dataprep.checks.base import Sink, short
from dataprep.checks.chat import check_chat, check_dpo
from dataprep.checks.content import line_hints
from dataprep.checks.parse import NOTHING, parse_line
from dataprep.io.reader import RawLine
from dataprep.schema.findings import Finding, Severity


@dataclass(slots=True)
class LineOutcome:
    record: object  # the parsed value, or parse.NOTHING when the line did not parse / was blank
    format: str  # detected format of this line (formats.UNKNOWN when none)
    findings: list[Finding]
    blank: bool
    valid: bool  # parsed and no error-severity finding


def check_line(line: RawLine, path: str, expected: str = F.OPENAI_CHAT, content: bool = True) -> LineOutcome:
    """Parse one line and run every per-line rule on it.

    ``expected`` is the file's format: lines whose own format is unknown are checked as that
    format, so a broken chat line gets chat findings (DP200...) rather than nothing.
    ``content=False`` skips the DP3xx text rules (structure only).
    """
    sink = Sink(path, line.number)
    data = line.data
    rec = parse_line(data, sink, first_line=line.offset == 0)
    if rec is NOTHING:
        blank = bool(sink.findings) and sink.findings[-1].rule == "DP105"
        return LineOutcome(NOTHING, F.UNKNOWN, sink.findings, blank, False)
    if type(rec) is dict and "messages" in rec:  # what F.detect says first: a chat line, the usual case
        fmt = F.OPENAI_CHAT
        # The raw line tells which content rule families can fire at all (one pass, not one per text).
        check_chat(rec, sink, content, line_hints(data) if content else 0)
        findings = sink.findings
        return LineOutcome(rec, fmt, findings, False, not findings or not sink.has_error)
    fmt = F.detect(rec)
    if not isinstance(rec, dict):
        sink.add("DP103", f"line is a JSON {_json_type(rec)}, not an object; each line must be one example object")
    else:
        target = fmt if fmt != F.UNKNOWN else expected
        if target == F.OPENAI_CHAT:
            check_chat(rec, sink, content, line_hints(data) if content else 0)
        elif target == F.OPENAI_DPO:
            check_dpo(rec, sink, content, line_hints(data) if content else 0)
        elif target in F.CONVERTIBLE:
            # The file gets one DP110 (convert it); a record that convert would reject is named here.
            check_convertible(rec, target, sink, content)
    findings = sink.findings
    return LineOutcome(rec, fmt, findings, False, not findings or not sink.has_error)


_COLUMNS = None  # convert's default column and speaker names (no --map), built on first use


def check_convertible(rec: dict, fmt: str, sink: Sink, content: bool = True) -> None:
    """DP112: what `dataprep convert` would do with this record of a convertible format.

    Runs convert's own record converter (no --map, the record's natural target), then the same
    per-line check convert runs on what it would write: a reject reason, or each error-severity
    finding of the converted line, becomes one DP112 at this line.
    """
    global _COLUMNS
    from dataprep.io import convert as C

    if _COLUMNS is None:
        _COLUMNS = C._Columns({})
    target = F.OPENAI_DPO if fmt in C.PREFERENCE_SOURCES else F.OPENAI_CHAT
    why = None
    try:
        converted = C._convert_one(rec, fmt, target, C._Ctx(sink.line, _COLUMNS, C.ConvertResult("", "", None)))
        data = orjson.dumps(converted)
    except C._Reject as r:
        why = r.reason
    except (orjson.JSONEncodeError, TypeError, ValueError, KeyError, AttributeError, RecursionError) as e:
        why = f"the converter fails on it ({type(e).__name__}: {short(str(e), 60)})"  # fail closed: say so
    if why is not None:
        sink.add("DP112", f"`dataprep convert` would reject this record: {why}")
        return
    out = check_line(RawLine(sink.line, 1, data, b"\n"), sink.path, target, content)
    for f in out.findings:
        if f.severity is Severity.ERROR:
            where = f" at {f.pointer}" if f.pointer else ""
            sink.add("DP112", f"`dataprep convert` would reject this record: converted, it breaks {f.rule} "
                     f"{f.name}{where}: {f.message}")


def _json_type(v) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(v), "null")
