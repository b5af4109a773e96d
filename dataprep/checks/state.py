"""What a file's rules need beyond single lines: the state gathered line by line (mergeable
across shards), the file-level rules over it (DP107-DP111), and the per-file report."""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field

from dataprep.checks import formats as F
from dataprep.checks.base import Sink
from dataprep.checks.lines import LineOutcome
from dataprep.checks.parse import NOTHING
from dataprep.io.reader import RawLine
from dataprep.schema.findings import Finding
from dataprep.schema.limits import provider_limits

# The rules file_level_findings adds (a report for another provider recomputes exactly these).
FILE_LEVEL_RULES = ("DP107", "DP108", "DP109", "DP110", "DP111")


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


def file_level_findings(path: str, state: FileState, size: int | None, provider: str = "openai", *,
                        limits: dict | None = None) -> list[Finding]:
    """DP107-DP111 from the accumulated state, against ``provider``'s limits (rules/limits.toml),
    or against ``limits`` (a training target's [limits], dataprep.targets) named ``provider``."""
    sink = Sink(path, 0)
    if limits is None:
        limits = provider_limits(provider)
    fmt = state.format
    if size is not None and "max_file_bytes" in limits and size > limits["max_file_bytes"]:
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
    if fmt in F.TRAINABLE and state.records < limits.get("min_examples", 1):
        sink.add("DP109", f"{state.records} example(s); {provider} requires at least {limits.get('min_examples', 1)}",
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
    shards: int = 0  # byte ranges or blocks the scan cut the file into (0: not scanned, e.g. cached)
    jobs: int = 0  # processes (or Ray CPUs) the scan ran on

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


def unreadable_report(path: str, reason: str) -> FileReport:
    """The report of a file that cannot be read at all: one DP100 (exit code 2)."""
    sink = Sink(path, 0)
    sink.add("DP100", f"cannot read {path}: {reason}")
    return FileReport(path, F.UNKNOWN, 0, 0, 0, sink.findings, readable=False)
