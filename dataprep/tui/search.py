"""Search (regex over message text) and filters (role, tools, over context, finding, language).

A ``Filter`` is what the examples list shows: the structural parts are numpy masks over the
scan's rows (instant); the regex part reads the candidate lines through the line index and
parses them (a worker thread, with progress), so it works before the scan has finished too.

Filter bar syntax (``f``), space separated, all must hold::

    role:tool  tools  over  rule:DP303  rule:DP3  lang:de  dup  errors  warnings  invalid
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
import orjson

from dataprep.text import ROLE_LETTER, message_text, messages_of
from dataprep.tui.model import Dataset

FLAGS = ("tools", "over", "dup", "errors", "warnings", "invalid")
ROLES = tuple(ROLE_LETTER)
FLAG_HELP = {
    "tools": "defines or calls tools",
    "over": "over the model's training context",
    "dup": "exact or near duplicate of an earlier example",
    "errors": "has an error finding",
    "warnings": "has a warning finding",
    "invalid": "fails validation",
}


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Filter:
    regex: str | None = None
    role: str | None = None  # only lines with a message of this role; the regex searches only them
    rule: str | None = None  # a rule id or prefix (DP3)
    lang: str | None = None
    flags: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.regex or self.role or self.rule or self.lang or self.flags)

    @property
    def needs_scan(self) -> bool:
        return bool(self.rule or self.lang or self.flags or (self.role and not self.regex))

    def describe(self) -> str:
        parts = []
        if self.regex:
            parts.append(f"/{self.regex}/")
        if self.role:
            parts.append(f"role:{self.role}")
        parts += list(self.flags)
        if self.rule:
            parts.append(f"rule:{self.rule}")
        if self.lang:
            parts.append(f"lang:{self.lang}")
        return " ".join(parts)

    def slug(self) -> str:
        """A file-name part for exports: ``finding-DP303``, ``search-refund``..."""
        parts = []
        if self.rule:
            parts.append(f"finding-{self.rule}")
        if self.role:
            parts.append(f"role-{self.role}")
        parts += list(self.flags)
        if self.lang:
            parts.append(f"lang-{self.lang}")
        if self.regex:
            parts.append("search-" + (re.sub(r"[^A-Za-z0-9]+", "-", self.regex).strip("-")[:24] or "regex"))
        return "-".join(parts) or "all"

    def with_filters(self, text: str) -> Filter:
        """This filter with its structural part replaced by the filter-bar ``text``."""
        f = parse_filters(text)
        return replace(f, regex=self.regex)


def parse_filters(text: str) -> Filter:
    role = rule = lang = None
    flags: list[str] = []
    for tok in text.split():
        key, _, val = tok.partition(":")
        key = key.lower()
        if key == "role" and val:
            if val.lower() not in ROLES:
                raise FilterError(f"unknown role {val!r}; one of {', '.join(ROLES)}")
            role = val.lower()
        elif key in ("rule", "finding") and val:
            from dataprep.schema.catalog import all_rules, get_rule

            v = val.upper()
            if not any(r.startswith(v) for r in all_rules()):
                try:
                    v = get_rule(val).id
                except KeyError:
                    raise FilterError(f"unknown rule {val!r}") from None
            rule = v
        elif key in ("lang", "language") and val:
            lang = val.lower()
        elif key in FLAGS and not val:
            if key not in flags:
                flags.append(key)
        else:
            raise FilterError(f"unknown filter {tok!r}; use role:R, rule:DPnnn, lang:xx, or {', '.join(FLAGS)}")
    return Filter(None, role, rule, lang, tuple(flags))


def compile_regex(pattern: str) -> re.Pattern:
    """Smart case: case-insensitive unless the pattern has an upper-case letter."""
    try:
        return re.compile(pattern, 0 if any(c.isupper() for c in pattern) else re.IGNORECASE)
    except re.error as e:
        raise FilterError(f"bad regex: {e}") from None


def candidates(ds: Dataset, f: Filter) -> np.ndarray:
    """0-based lines that pass the structural part of ``f`` (all lines when it has none)."""
    if not f.needs_scan:
        return np.arange(len(ds), dtype=np.int64)
    if ds.profile is None:
        raise FilterError("this filter needs the scan, which is still running")
    mask = np.ones(ds.n_rows, dtype=bool)
    for flag in f.flags:
        mask &= ds.mask(flag)
    if f.role and not f.regex:  # with a regex the search reads that role's messages itself
        mask &= ds.role_mask(ROLE_LETTER[f.role])
    if f.rule:
        keep = np.zeros(ds.n_rows, dtype=bool)
        lines = ds.rule_lines(f.rule)
        keep[lines[(lines >= 0) & (lines < ds.n_rows)]] = True
        mask &= keep
    if f.lang:
        keep = np.zeros(ds.n_rows, dtype=bool)
        keep[ds.language_lines(f.lang)] = True
        mask &= keep
    return np.flatnonzero(mask).astype(np.int64)


def message_texts(rec, role: str | None = None) -> Iterable[str]:
    """Every message's text as a person reads it (``dataprep.text.message_text``: content, then
    tool calls), optionally one role's; a preference example's rejected output is searched too."""
    for m in messages_of(rec, rejected=True):
        if type(m) is dict and not (role and m.get("role") != role):
            t = message_text(m)
            if t:
                yield t


def _literal(pattern: str) -> bytes | None:
    """The pattern's bytes when it is a plain word/space literal (a raw-bytes prefilter is then
    safe: JSON writers never escape ASCII letters, digits or spaces)."""
    if pattern and re.fullmatch(r"[A-Za-z0-9 ]+", pattern):
        return pattern.encode()
    return None


def line_matches(ds: Dataset, i: int, rx: re.Pattern, role: str | None, literal: bytes | None) -> bool:
    data = ds.index.line(i)
    if literal is not None:
        hay = data if rx.flags & re.IGNORECASE == 0 else data.lower()
        if (literal if rx.flags & re.IGNORECASE == 0 else literal.lower()) not in hay:
            return False
    try:
        rec = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        # a broken line has no messages: search its raw text so that it can be found at all
        return role is None and rx.search(data.decode("utf-8", errors="replace")) is not None
    return any(rx.search(t) for t in message_texts(rec, role))


def literal_lines(ds: Dataset, literal: bytes, ignore_case: bool, *, chunk: int = 16 << 20,
                  cancelled: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Lines whose raw bytes contain ``literal`` (ASCII): ``bytes.find`` over the mapped file,
    chunk by chunk, on a lower-cased copy of the chunk when the case is ignored."""
    buf = ds.index.buffer()
    size = len(buf)
    lit = literal.lower() if ignore_case else literal
    found: list[np.ndarray] = []
    pos = 0
    while pos < size:
        if cancelled and cancelled():
            return None
        end = min(size, pos + chunk)
        # read a little past the end: a match may straddle it; keep matches that start before it
        block = buf[pos: min(size, end + len(lit) - 1)]
        if ignore_case:
            block = block.lower()
        offs = []
        k = block.find(lit)
        while 0 <= k < end - pos:
            offs.append(pos + k)
            k = block.find(lit, k + 1)
        if offs:
            found.append(ds.index.lines_at(np.asarray(offs, dtype=np.uint64)))
        pos = end
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(found))


def run_search(ds: Dataset, f: Filter, lines: np.ndarray, *,
               progress: Callable[[int, int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None, batch: int = 20_000) -> np.ndarray | None:
    """The lines among ``lines`` whose message text matches ``f.regex`` (None when cancelled)."""
    rx = compile_regex(f.regex or "")
    literal = _literal(f.regex or "")
    if literal is not None and ds.index.done:
        hits0 = literal_lines(ds, literal, bool(rx.flags & re.IGNORECASE), cancelled=cancelled)
        if hits0 is None:
            return None
        lines = np.intersect1d(lines, hits0)  # only these can match; each is still checked below
    hits: list[int] = []
    total = len(lines)
    for k in range(0, total, batch):
        if cancelled and cancelled():
            return None
        for i in lines[k:k + batch].tolist():
            if line_matches(ds, i, rx, f.role, literal):
                hits.append(i)
        if progress:
            progress(min(total, k + batch), total, len(hits))
    return np.array(hits, dtype=np.int64)


def highlight_spans(text: str, rx: re.Pattern | None, limit: int = 200) -> list[tuple[int, int]]:
    if rx is None:
        return []
    out = []
    for m in rx.finditer(text):
        if m.end() > m.start():
            out.append((m.start(), m.end()))
            if len(out) >= limit:
                break
    return out
