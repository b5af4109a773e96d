"""The one protocol every emitter reads.

A ``Report`` is what a command found: its files (each a :class:`FileView`), their findings, a
summary, an exit code and a JSON document. Reports judged against a preset (gate, audit) also
give a :class:`Judgement` per file and their preset; the others (validate, dedup) give ``None``.
Emitters ask ``report.judgement(file)``, never ``getattr(file, "verdict", None)``: a result type
that forgets the method fails the protocol check in the tests instead of rendering silently wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from dataprep.schema.findings import Finding, Severity


@runtime_checkable
class FileView(Protocol):
    """One file of a report, as every format shows it."""

    path: str
    format: str
    examples: int
    valid_examples: int
    findings: list[Finding]
    readable: bool
    truncated: int  # findings left out by --max-findings (the counts still include them)


@dataclass(frozen=True)
class Judgement:
    """A file's verdict against a preset, with what decided it."""

    verdict: str  # pass, warn or fail
    thresholds: Sequence[Any] = ()  # dataprep.gate.verdict.Threshold
    volume: Mapping[str, Any] = field(default_factory=dict)  # the volume tier: tier, status, limits
    #: analyses that raised (DP199): {"analysis", "reason", "not_checked"} each
    failed: Sequence[Mapping[str, str]] = ()
    notes: Sequence[str] = ()  # analyses skipped and why


@runtime_checkable
class Report(Protocol):
    """What validate, gate, audit and the dedup job return, and every emitter reads."""

    files: Sequence[FileView]

    @property
    def findings(self) -> list[Finding]: ...

    @property
    def preset(self) -> Any:
        """The preset the files were judged against (dataprep.gate.presets.Preset), or None."""

    def summary(self) -> dict: ...

    def exit_code(self, fail_on: Severity | str = Severity.ERROR) -> int: ...

    def to_dict(self) -> dict: ...

    def judgement(self, file: FileView) -> Judgement | None: ...


def counted_verdict(file: FileView) -> str:
    """The verdict a file's shown findings give when no preset judged it."""
    sev = {f.severity for f in file.findings}
    return "fail" if Severity.ERROR in sev else "warn" if Severity.WARNING in sev else "pass"
