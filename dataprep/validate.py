"""Validation of whole files: every line through every rule, and the file-level rules on top.

``validate_file`` is a scan without its optional parts (``dataprep.scan.scan`` with no tokens,
signatures or text features): the same format sniffing, the same shards on all cores, the same
cache. The per-line checks live in ``dataprep.checks.lines``, the file state, file-level rules
and the per-file report in ``dataprep.checks.state``; their names stay importable from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dataprep.checks.lines import LineOutcome, check_convertible, check_line
from dataprep.checks.state import FILE_LEVEL_RULES, FileReport, FileState, file_level_findings, unreadable_report
from dataprep.io.reader import expand_inputs
from dataprep.schema.catalog import all_rules, get_rule
from dataprep.schema.findings import Counts, Finding, Severity, any_at_or_above

__all__ = ["FileReport", "FileState", "LineOutcome", "ValidationResult", "check_convertible", "check_line",
           "file_level_findings", "validate", "validate_file"]


def validate_file(path: str, *, provider: str = "openai", jobs: int | None = None, cache: bool = True,
                  target=None) -> FileReport:
    """Every per-line and file-level rule over one file: a scan without its optional parts (no
    tokens, signatures or text features), on all cores (``jobs``) and cached like any scan.
    ``target``: a training target (name, TOML path or ``dataprep.targets.Target``) whose rules
    judge the findings (``dataprep.targets.apply_target``)."""
    from dataprep.scan import scan

    prof = scan(path, jobs=jobs, cache=cache, tokens=False, sketch=False, text=False)
    rep = prof.report()
    if path == "-":  # the scan read a spool file of stdin; the user named "-"
        spool = rep.path
        rep.path = path
        for f in rep.findings:
            if f.path == spool:
                f.path = path
    if provider != "openai" and prof.readable and prof.rows.height == prof.state.lines:
        # The scan applies OpenAI's file limits; another provider's replace them. (Only for a
        # file scanned line by line: a whole-file JSON array has no line state to judge.)
        rep.findings = [f for f in rep.findings if f.rule not in FILE_LEVEL_RULES]
        rep.findings += file_level_findings(rep.path, prof.state, prof.size, provider)
        rep.findings.sort(key=lambda f: (f.line, f.rule))
    if target is not None:
        from dataprep.targets import apply_target, load_target

        rep.findings = apply_target(rep.findings, load_target(target), prof)
    return rep


def _unreadable(path: str, reason: str) -> FileReport:
    return unreadable_report(path, reason)


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
        c = Counts.of(f for r in self.files for f in r.findings)
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
        return 1 if any_at_or_above(self.findings, fail_on) else 0

    def to_dict(self) -> dict:
        return {"version": 1, "files": [r.to_dict() for r in self.files], "summary": self.summary()}

    #: (dataprep.output.Report) validation applies no preset: the rules' own severities decide
    preset = None  # not annotated: a class attribute, not a dataclass field

    def judgement(self, file: FileReport) -> None:
        """(dataprep.output.Report) No preset judges a validated file; its findings speak alone."""
        return None


def validate(paths: str | list[str], *, select: list[str] | None = None, ignore: list[str] | None = None,
             provider: str = "openai", jobs: int | None = None, cache: bool = True,
             target=None) -> ValidationResult:
    """Validate files, directories, globs or ``-``; every finding of every file, nothing dropped.

    Each file is scanned on ``jobs`` processes (default: all cores) and its profile cached
    (``cache=False`` skips the cache). ``target``: judge by the rules of where the data will
    train (``"together"``, ``"trl"``, a target TOML path; ``dataprep.targets``); raises
    ``dataprep.targets.TargetError`` for one that cannot be used.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [str(paths)]
    if target is not None:
        from dataprep.targets import load_target

        target = load_target(target)  # a bad target is a usage error before any file is read
    files, errors = expand_inputs(list(paths))
    reports = [_unreadable(e.path, e.reason) for e in errors]
    reports += [validate_file(p, provider=provider, jobs=jobs, cache=cache, target=target) for p in files]
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
