"""Diversity analysis of a scanned Profile: the `diversity --json` report plus DP3xx/DP6xx findings.

Lexical and structural figures come from what the scan already extracted (no second parse);
only the language sample (default 2,000 evenly spread examples) re-reads its few lines by offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson
import polars as pl

from dataprep.diversity import language as lang
from dataprep.diversity.features import combined_texts
from dataprep.diversity.flags import flags_to_findings
from dataprep.diversity.report import diversity_flags, diversity_report
from dataprep.diversity.vendi import VENDI_SAMPLE
from dataprep.io.reader import iter_lines, open_binary
from dataprep.schema.findings import Finding
from dataprep.text import example_format, texts_of
from dataprep.usable import unusable_reason  # noqa: F401  (re-exported: its one place is dataprep.usable)


@dataclass
class DiversityAnalysis:
    path: str
    report: dict
    findings: list[Finding] = field(default_factory=list)
    # part of the analysis that raised -> "ExceptionType: message"; its figures are missing
    # (today only "language": the lexical and structural figures do not depend on it)
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"path": self.path, **self.report}


def _sample_texts(profile, lines: np.ndarray) -> tuple[list[str], list[str]]:
    """User and assistant text of the given 1-based lines, read back by byte offset: the same
    texts the scan counted (``dataprep.text.texts_of``)."""
    want = {int(x) for x in lines}
    users: dict[int, str] = {}
    assistants: dict[int, str] = {}
    rows = profile.rows.filter(pl.col("line").is_in(list(want))).select("line", "offset", "length", "format")
    with open_binary(profile.path) as f:
        seekable = hasattr(f, "seekable") and f.seekable()
        if seekable:
            for line, off, ln, fmt in rows.iter_rows():
                f.seek(off)
                rec = orjson.loads(f.read(ln).removeprefix(b"\xef\xbb\xbf"))  # line 1 may carry a BOM
                users[line], assistants[line] = texts_of(rec, example_format(fmt, profile.format))[:2]
        else:
            fmts = dict(zip(rows["line"].to_list(), rows["format"].to_list()))
            for raw in iter_lines(f):
                if raw.number in want:
                    rec = orjson.loads(raw.data.removeprefix(b"\xef\xbb\xbf"))
                    fmt = fmts[raw.number]
                    users[raw.number], assistants[raw.number] = texts_of(rec, example_format(fmt, profile.format))[:2]
    return [users[int(x)] for x in lines], [assistants[int(x)] for x in lines]


class LanguageJob:
    """The language sample of a profile, read back and handed to worker processes at once, so
    that detection (~20 CPU-seconds for the default 2,000 examples) runs while the caller does
    other work (the audit: duplicates); ``analyze(..., language_job=job)`` collects it.

    The workers are spawned (``dataprep.scan._pool``: they die with this process and leave
    Ctrl-C to it), not forked: a fork of an audit holding a million-line profile counts that
    profile's pages as the worker's memory too (~2.5 GB per worker at 1M lines). With
    ``jobs`` 1 or a small sample, detection runs in this process when collected.
    Use as a context manager (or call ``close``): leaving it ends the workers.
    """

    CHUNK = 64
    # Below this many texts (~5 CPU-seconds) starting workers costs more than it saves.
    POOL_MIN_TEXTS = 1000

    def __init__(self, profile, *, jobs: int = 1, language_sample: int = lang.SAMPLE_SIZE,
                 full_language: bool = False):
        ex = profile.rows.select("line", "is_example").filter(pl.col("is_example"))
        self.total = ex.height
        self.rows = lang.sample_indices(self.total, language_sample, full=full_language)
        self.users, self.assistants = _sample_texts(profile, ex["line"].to_numpy()[self.rows])
        self._pool = None
        self._futs = None
        texts = self.users + self.assistants
        chunks = [texts[i : i + self.CHUNK] for i in range(0, len(texts), self.CHUNK)]
        if jobs > 1 and len(texts) >= self.POOL_MIN_TEXTS:
            from dataprep.scan import _pool

            self._pool = _pool(min(jobs, len(chunks)), lang._init)
            executor = self._pool.__enter__()
            try:
                self._futs = [executor.submit(lang._detect_chunk, c) for c in chunks]
            except BaseException as e:
                self.close(type(e), e, e.__traceback__)
                raise

    def __enter__(self) -> LanguageJob:
        return self

    def __exit__(self, *exc) -> None:
        self.close(*exc)

    def close(self, exc_type=None, exc=None, tb=None) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            # a failure or interruption ends the workers at once (_pool's rule); else they are idle
            pool.__exit__(exc_type if exc_type is not None else None, exc, tb)

    def result(self) -> lang.LanguageSample:
        """The sample's languages (raises what the detector raised)."""
        if self._futs is None:
            return lang.detect_sample(self.users, self.assistants, self.rows, self.total, jobs=1)
        try:
            res = [r for f in self._futs for r in f.result()]
        except BaseException as e:
            self.close(type(e), e, e.__traceback__)
            raise
        self.close()
        return lang.sample_from_detections(res, self.users, self.assistants, self.rows, self.total)


def analyze(profile, *, language_sample: int = lang.SAMPLE_SIZE, full_language: bool = False,
            languages: bool = True, expected_languages: Sequence[str] | None = None, jobs: int = 1,
            cluster_sizes: Sequence[int] | None = None, vendi_sample: int = VENDI_SAMPLE,
            language_job: LanguageJob | None = None, **flag_options) -> DiversityAnalysis:
    """The diversity report of a profile's examples and its findings (thresholds from a preset).

    ``language_job``: the language sample, started earlier by the caller (see ``LanguageJob``;
    made with the same ``language_sample``/``full_language``)."""
    # only the columns read here: a filter of the whole frame copies every column (~200 MB at 1M lines)
    cols = ["line", "is_example", "roles", "tool_calls", "system_hash", "tokens_total", "chars_system", "chars_user",
            "chars_assistant", "chars_tool"]
    rows = profile.rows.select(cols) if profile.rows.height else profile.rows
    ex = rows.filter(pl.col("is_example")) if rows.height else rows
    n = ex.height
    if n:
        profile.require("text", "the diversity analysis")
        profile.require("tokens", "the diversity analysis (example lengths)")
    if profile.text is None or n == 0:
        return DiversityAnalysis(profile.path, {"version": 1, "examples": 0, "note": "no examples to analyse"})
    structure = ex.select(
        "roles",
        (pl.col("tool_calls") > 0).alias("tool_calls"),
        pl.when(pl.col("system_hash") == 0).then(None).otherwise(pl.col("system_hash")).alias("system_hash"),
        pl.col("tokens_total").alias("tokens"),
        "chars_system", "chars_user", "chars_assistant", "chars_tool",
    )
    sample = None
    vendi_texts = None
    failed: dict[str, str] = {}
    if language_job is not None and languages:
        rows, users, assistants = language_job.rows, language_job.users, language_job.assistants
        try:
            sample = language_job.result()
        except Exception as e:
            failed["language"] = f"{type(e).__name__}: {e}"
        vendi_texts = combined_texts(users, assistants)
    elif languages or vendi_sample:
        rows = lang.sample_indices(n, language_sample, full=full_language)
        lines = ex["line"].to_numpy()[rows]
        users, assistants = _sample_texts(profile, lines)
        if languages:
            # The language detector is a separate analysis (DP309, DP602): when it fails, the
            # report keeps every other figure and says which part is missing and why.
            try:
                sample = lang.detect_sample(users, assistants, rows, n, jobs=jobs)
            except Exception as e:
                failed["language"] = f"{type(e).__name__}: {e}"
        vendi_texts = combined_texts(users, assistants)
    report = diversity_report(profile.text, structure, language=sample, vendi_texts=vendi_texts,
                              vendi_sample=vendi_sample, system_previews=profile.system_prompts,
                              cluster_sizes=cluster_sizes)
    report["examples"] = n
    if failed:
        report["language_note"] = f"language detection failed ({failed['language']})"
        report["failed"] = dict(failed)
    flags = diversity_flags(report, structure=structure, language=sample, expected_languages=expected_languages,
                            **flag_options)
    findings = flags_to_findings(flags, profile.path, lines=ex["line"].to_numpy())
    return DiversityAnalysis(profile.path, report, findings, failed)
