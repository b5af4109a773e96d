"""Validation of whole files: every line through every rule, and the file-level rules on top.

``check_line`` is the per-line unit the parallel scan runs in its workers; ``FileState`` gathers
what file-level rules need (format counts, CRLF, record counts) and merges across shards.
"""

from __future__ import annotations

import io
import os
from array import array
from collections import Counter
from dataclasses import dataclass, field

import orjson

from dataprep.checks import formats as F
from dataprep.checks.base import Sink, short
from dataprep.checks.chat import check_chat, check_dpo
from dataprep.checks.content import line_hints
from dataprep.checks.parse import NOTHING, parse_line
from dataprep.io.reader import BOM, InputError, RawLine, expand_inputs, iter_lines, open_binary
from dataprep.schema.catalog import all_rules, get_rule
from dataprep.schema.findings import Counts, Finding, Severity
from dataprep.schema.limits import provider_limits


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


@dataclass
class FileState:
    """What the file-level rules need, accumulated line by line (mergeable across shards)."""

    lines: int = 0
    blank: int = 0
    records: int = 0
    valid: int = 0
    crlf: int = 0
    first_crlf: int = 0
    format_lines: dict[str, array] = field(default_factory=dict)

    def add(self, line: RawLine, out: LineOutcome) -> None:
        self.lines += 1
        if line.ending == b"\r\n":
            self.crlf += 1
            if not self.first_crlf or line.number < self.first_crlf:
                self.first_crlf = line.number
        if out.blank:
            self.blank += 1
            return
        self.records += 1
        self.valid += out.valid
        if out.record is not NOTHING:
            arr = self.format_lines.get(out.format)
            if arr is None:  # not setdefault: that would build an array for every line
                arr = self.format_lines[out.format] = array("q")
            arr.append(line.number)

    def merge(self, other: FileState) -> None:
        self.lines += other.lines
        self.blank += other.blank
        self.records += other.records
        self.valid += other.valid
        if other.crlf and (not self.first_crlf or other.first_crlf < self.first_crlf):
            self.first_crlf = other.first_crlf
        self.crlf += other.crlf
        for fmt, arr in other.format_lines.items():
            self.format_lines.setdefault(fmt, array("q")).extend(arr)

    @property
    def format_counts(self) -> Counter:
        return Counter({f: len(a) for f, a in self.format_lines.items()})

    @property
    def format(self) -> str:
        return F.majority(self.format_counts)


def file_level_findings(path: str, state: FileState, size: int | None, provider: str = "openai") -> list[Finding]:
    """DP107-DP111 from the accumulated state."""
    sink = Sink(path, 0)
    limits = provider_limits(provider)
    fmt = state.format
    if size is not None and size > limits["max_file_bytes"]:
        sink.add("DP107", f"file is {size / 2**20:.0f} MiB; {provider} accepts at most "
                 f"{limits['max_file_bytes'] / 2**20:.0f} MiB per file. Split it", line=0)
    if state.crlf:
        sink.add("DP111", f"{state.crlf} line(s) end in CRLF (`dataprep fix` normalises them)", line=state.first_crlf)
    counts = state.format_counts
    if fmt in F.CONVERTIBLE or fmt == F.TEXT:
        lines = state.format_lines[fmt]
        how = ("run `dataprep convert` to turn it into OpenAI chat JSONL" if fmt != F.TEXT
               else "plain text records cannot become chat examples without prompts; they cannot be converted")
        sink.add("DP110", f"{counts[fmt]} record(s) are {F.LABELS[fmt]}, not OpenAI chat: {how}", line=lines[0])
    for other, lines in sorted(state.format_lines.items()):
        if other in (fmt, F.UNKNOWN):
            continue
        for ln in sorted(lines):
            sink.add("DP108", f"this line is {F.LABELS[other]} but the file is {F.LABELS[fmt]} "
                     f"({counts[fmt]} lines); keep one format per file", line=ln)
    if fmt in F.TRAINABLE and state.records < limits["min_examples"]:
        sink.add("DP109", f"{state.records} example(s); {provider} requires at least {limits['min_examples']}",
                 line=0)
    return sink.findings


@dataclass
class FileReport:
    path: str
    format: str
    examples: int
    valid_examples: int
    lines: int
    findings: list[Finding]
    readable: bool = True
    truncated: int = 0  # findings left out of ``findings`` by --max-findings

    def to_dict(self) -> dict:
        d = {
            "path": self.path,
            "examples": self.examples,
            "valid_examples": self.valid_examples,
            "format": self.format,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.truncated:
            d["findings_truncated"] = self.truncated
        return d


def validate_file(path: str, *, provider: str = "openai") -> FileReport:
    """Every per-line and file-level rule over one file, streaming (bounded memory)."""
    try:
        stream = open_binary(path)
    except InputError as e:
        return _unreadable(path, e.reason)
    size = None
    if path != "-":
        try:
            size = os.path.getsize(path)
        except OSError:
            pass
    try:
        with stream:
            head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
            if head.lstrip(BOM + b" \t\r\n").startswith(b"["):
                return _validate_json_array(path, stream, size, provider)
            return _validate_stream(path, stream, size, provider)
    except (OSError, EOFError) as e:  # truncated or corrupt gzip/zstd (the reader raises these)
        return _unreadable(path, f"read failed: {e}")


def _validate_stream(path: str, stream, size: int | None, provider: str) -> FileReport:
    state = FileState()
    findings: list[Finding] = []
    expected: str | None = None
    pending: list[RawLine] = []  # unknown-format lines seen before the file's format is known
    for line in iter_lines(stream):
        if expected is None:
            out = check_line(line, path, F.OPENAI_CHAT)
            if out.format in F.TRAINABLE or out.format in F.CONVERTIBLE:
                expected = out.format
                findings.extend(_recheck(pending, path, expected, state))
                pending = []
            elif out.record is not NOTHING and len(pending) < 1000:
                pending.append(line)  # judged once the file's format is known (bounded)
                continue
        else:
            out = check_line(line, path, expected)
        state.add(line, out)
        findings.extend(out.findings)
    # Format never became clear: judge the held lines as chat, what we train on.
    findings.extend(_recheck(pending, path, F.OPENAI_CHAT, state))
    findings.extend(file_level_findings(path, state, size, provider))
    findings.sort(key=lambda f: (f.line, f.rule))
    return FileReport(path, state.format, state.records, state.valid, state.lines, findings)


def _recheck(lines: list[RawLine], path: str, fmt: str, state: FileState) -> list[Finding]:
    out: list[Finding] = []
    for line in lines:
        o = check_line(line, path, fmt)
        state.add(line, o)
        out.extend(o.findings)
    return out


def _validate_json_array(path: str, stream, size: int | None, provider: str) -> FileReport:
    """A whole-file JSON array: one DP103 with the records' format and a pointer at `convert`."""
    data = stream.read()
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    sink = Sink(path, 1)
    try:
        value = orjson.loads(data[3:] if data.startswith(BOM) else data)
    except orjson.JSONDecodeError:
        # Not one JSON document: judge it line by line like any JSONL file.
        return _validate_stream(path, io.BytesIO(data), size, provider)
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


def _unreadable(path: str, reason: str) -> FileReport:
    sink = Sink(path, 0)
    sink.add("DP100", f"cannot read {path}: {reason}")
    return FileReport(path, F.UNKNOWN, 0, 0, 0, sink.findings, readable=False)


@dataclass
class ValidationResult:
    files: list[FileReport]
    totals: dict | None = None  # the full summary when findings were capped for display

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    def summary(self) -> dict:
        if self.totals is not None:
            return dict(self.totals)
        c = Counts()
        for f in self.findings:
            c.add(f)
        verdict = "fail" if c.errors else ("warn" if c.warnings else "pass")
        return {"errors": c.errors, "warnings": c.warnings, "infos": c.infos, "verdict": verdict}

    def capped(self, n: int) -> ValidationResult:
        """A copy showing at most ``n`` findings per file; the summary still counts them all."""
        files = []
        for r in self.files:
            c = FileReport(r.path, r.format, r.examples, r.valid_examples, r.lines, r.findings[:n], r.readable)
            c.truncated = max(0, len(r.findings) - n)
            files.append(c)
        return ValidationResult(files, self.summary())

    @property
    def unreadable(self) -> bool:
        return any(not r.readable for r in self.files)

    def exit_code(self, fail_on: Severity = Severity.ERROR) -> int:
        if self.unreadable:
            return 2
        return 1 if any(f.severity.rank >= fail_on.rank for f in self.findings) else 0

    def to_dict(self) -> dict:
        return {"version": 1, "files": [r.to_dict() for r in self.files], "summary": self.summary()}


def validate(paths: str | list[str], *, select: list[str] | None = None, ignore: list[str] | None = None,
             provider: str = "openai") -> ValidationResult:
    """Validate files, directories, globs or ``-``; every finding of every file, nothing dropped."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [str(paths)]
    files, errors = expand_inputs(list(paths))
    reports = [_unreadable(e.path, e.reason) for e in errors]
    reports += [validate_file(p, provider=provider) for p in files]
    if select or ignore:
        keep = _rule_filter(select, ignore)
        for r in reports:
            r.findings = [f for f in r.findings if keep(f.rule)]
    return ValidationResult(reports)


def _rule_filter(select: list[str] | None, ignore: list[str] | None):
    """ruff-style selectors: exact ids (DP211), prefixes (DP2, DP21) or names (invalid-tool-call)."""

    def norm(keys):
        out = []
        for k in keys or []:
            k = k.strip()
            if not k:
                continue
            try:
                out.append(get_rule(k).id)
            except KeyError:
                if not any(rid.startswith(k.upper()) for rid in all_rules()):
                    raise KeyError(f"{k!r} matches no rule id, prefix or name; `dataprep rules` lists them") from None
                out.append(k.upper())
        return out

    sel, ign = norm(select), norm(ignore)
    # DP100 (unreadable) is never filtered away: it decides exit code 2.
    return lambda rid: rid == "DP100" or ((not sel or any(rid.startswith(s) for s in sel))
                                          and not any(rid.startswith(i) for i in ign))
