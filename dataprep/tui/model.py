"""What the inspector knows about one file: the line index now, the scan's Profile and the
analyses later. Widgets read from here and never parse the file themselves beyond one line."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import orjson

from dataprep.schema.findings import Finding, Severity
from dataprep.text import messages_of, role_pattern
from dataprep.tui.line_index import LineIndex

DUP_NAMES = ("", "exact", "near")  # dataprep.dedup.clusters.DUP_KINDS, "none" shown as nothing
PARSE_LIMIT = 1 << 20  # lines above 1 MB are parsed only when opened, never while scrolling the list


@dataclass
class RowInfo:
    """One row of the examples list."""

    line: int  # 1-based
    roles: str
    tokens: int | None
    errors: int
    warnings: int
    infos: int = 0
    tools: bool = False
    over: bool = False
    dup: str = ""  # "exact" / "near" / ""
    note: str = ""  # "bad JSON", "12.0 MB" ...
    lang: str = ""


@dataclass
class Analysis:
    """Results that arrive after the scan (each None until computed)."""

    dedup: object | None = None  # DedupResult over example rows
    dedup_rows: np.ndarray | None = None  # 0-based line index of each dedup document
    languages: dict[int, str] = field(default_factory=dict)  # 0-based line -> example language (sample)
    language_sample: int = 0
    tier: dict | None = None  # the assessment's volume section
    notes: list[str] = field(default_factory=list)  # what could not be computed, and why


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@dataclass
class FindingsIndex:
    """Findings by line and by rule, and per-row counts by severity (rows of the Profile)."""

    findings: list[Finding]
    by_line: dict[int, list[Finding]]
    by_rule: dict[str, list[Finding]]
    errors: np.ndarray
    warnings: np.ndarray
    infos: np.ndarray


def index_findings(findings: Iterable[Finding], n_rows: int) -> FindingsIndex:
    """Group findings (plain Python, so it runs in a worker thread, off the UI)."""
    fs = list(findings)
    by_line: dict[int, list[Finding]] = defaultdict(list)
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    sev_lines: dict[Severity, list[int]] = {s: [] for s in Severity}
    for f in fs:
        by_line[f.line].append(f)
        by_rule[f.rule].append(f)
        if 0 < f.line <= n_rows:
            sev_lines[f.severity].append(f.line - 1)

    def count(s: Severity) -> np.ndarray:
        return np.bincount(np.asarray(sev_lines[s], dtype=np.int64), minlength=n_rows)[:n_rows].astype(np.int32)

    return FindingsIndex(fs, dict(by_line), dict(by_rule), count(Severity.ERROR), count(Severity.WARNING),
                         count(Severity.INFO))


class Dataset:
    """The index, the Profile (once scanned) and the analyses of one file."""

    def __init__(self, path: str, index: LineIndex):
        self.path = path
        self.index = index
        self.profile = None
        self.analysis = Analysis()
        self.version = 0  # bumped whenever rows may render differently
        self.findings: list[Finding] = []
        self.by_line: dict[int, list[Finding]] = {}
        self.by_rule: dict[str, list[Finding]] = {}
        self._row_cache: dict[int, RowInfo] = {}
        self._n_rows = 0

    # ------------------------------------------------------------------ profile

    def attach_profile(self, prof, findings: FindingsIndex | None = None) -> None:
        self.profile = prof
        rows = prof.rows
        self._n_rows = rows.height
        if rows.height:
            self._roles = rows["roles"]
            # copies: polars may hand out read-only views
            self._tokens = np.array(rows["tokens_total"].to_numpy())
            self._tools = np.array((rows["has_tools"] | (rows["tool_calls"] > 0)).to_numpy())
            self._example = np.array(rows["is_example"].to_numpy())
            self._parsed = np.array(rows["parsed"].to_numpy())
            self._valid = np.array(rows["valid"].to_numpy())
            self._blank = np.array(rows["blank"].to_numpy())
        self._over = np.zeros(rows.height, dtype=bool)
        self._dup = np.zeros(rows.height, dtype=np.uint8)
        self.set_findings(findings or index_findings(prof.findings, rows.height))

    def set_findings(self, fi: FindingsIndex) -> None:
        """Swap in a findings view (the scan's first, the gate's assessment later)."""
        self.findings = fi.findings
        self.by_line = fi.by_line
        self.by_rule = fi.by_rule
        self._errors, self._warnings, self._infos = fi.errors, fi.warnings, fi.infos
        self.touch()

    def set_over(self, line_numbers: Iterable[int]) -> None:
        for ln in line_numbers:
            if 0 < ln <= self._n_rows:
                self._over[ln - 1] = True
        self.touch()

    def set_dups(self, rows: np.ndarray, kind: np.ndarray) -> None:
        """``kind`` per 0-based row: 0 none (or kept), 1 exact, 2 near (dedup's DUP_KINDS order)."""
        self._dup[rows] = kind
        self.touch()

    def touch(self) -> None:
        self.version += 1
        self._row_cache.clear()

    @property
    def scanned(self) -> bool:
        return self.profile is not None

    @property
    def n_rows(self) -> int:
        return self._n_rows

    # ------------------------------------------------------------------ lines

    def __len__(self) -> int:
        return len(self.index)

    def raw_text(self, i: int, limit: int | None = None) -> str:
        return self.index.line(i, limit).decode("utf-8", errors="replace")

    def parse(self, i: int, limit: int | None = None):
        """(record, error): the parsed line, or (None, reason)."""
        if limit is not None and self.index.length(i) > limit:
            return None, f"{human_bytes(self.index.length(i))} line"
        data = self.index.line(i)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        if not data.strip():
            return None, "blank"
        try:
            return orjson.loads(data), None
        except orjson.JSONDecodeError as e:
            return None, f"bad JSON: {e}"

    def row(self, i: int) -> RowInfo:
        """The examples-list row of 0-based line ``i`` (scan data when present, else parsed now)."""
        hit = self._row_cache.get(i)
        if hit is not None:
            return hit
        if i < self._n_rows:
            roles = self._roles[i] or ""
            note = ""
            if not self._parsed[i]:
                note = "blank" if self._blank[i] else "unparsed"
            elif not self._example[i]:
                note = "not example"
            lang = self.analysis.languages.get(i, "")
            info = RowInfo(i + 1, roles, int(self._tokens[i]) if self._example[i] else None, int(self._errors[i]),
                           int(self._warnings[i]), int(self._infos[i]), bool(self._tools[i]), bool(self._over[i]),
                           DUP_NAMES[int(self._dup[i])], note, lang)
        else:
            rec, err = self.parse(i, PARSE_LIMIT)
            note = ""
            if err:
                note = err.split(":")[0]
            elif not isinstance(rec, dict):
                note = "not an object"
            tools = isinstance(rec, dict) and bool(rec.get("tools"))
            info = RowInfo(i + 1, role_pattern(messages_of(rec)), None, 0, 0, 0, tools, False, "", note)
        if len(self._row_cache) > 4096:
            self._row_cache.clear()
        self._row_cache[i] = info
        return info

    def findings_of(self, line: int) -> list[Finding]:
        return self.by_line.get(line, [])

    # ------------------------------------------------------------------ vectors for filters

    def mask(self, name: str) -> np.ndarray | None:
        """A per-row boolean mask by name, None before the scan."""
        if self.profile is None:
            return None
        if not self._n_rows:
            return np.zeros(0, dtype=bool)
        if name == "tools":
            return self._tools.copy()
        if name == "over":
            return self._over.copy()
        if name == "dup":
            return self._dup > 0
        if name == "errors":
            return self._errors > 0
        if name == "warnings":
            return self._warnings > 0
        if name == "invalid":
            return ~self._valid
        if name == "example":
            return self._example.copy()
        raise KeyError(name)

    def role_mask(self, letter: str) -> np.ndarray | None:
        if self.profile is None:
            return None
        if not self._n_rows:
            return np.zeros(0, dtype=bool)
        import polars as pl

        return self.profile.rows.select(
            pl.col("roles").str.contains(f"(^|,){letter}(,|$)")).to_series().fill_null(False).to_numpy()

    def rule_lines(self, rule: str) -> np.ndarray:
        """0-based lines with a finding of ``rule`` (an id or a prefix such as DP3)."""
        rule = rule.upper()
        lines = {f.line for r, fs in self.by_rule.items() if r.startswith(rule) for f in fs if f.line > 0}
        return np.array(sorted(lines), dtype=np.int64) - 1

    def language_lines(self, lang: str) -> np.ndarray:
        return np.array(sorted(i for i, lg in self.analysis.languages.items() if lg == lang), dtype=np.int64)

    def rule_counts(self) -> list[tuple[str, int, Severity]]:
        out = [(r, len(fs), fs[0].severity) for r, fs in self.by_rule.items()]
        out.sort(key=lambda t: (-t[2].rank, t[0]))
        return out

    def close(self) -> None:
        self.index.close()
