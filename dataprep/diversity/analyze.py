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


def unusable_reason(profile) -> str | None:
    """Why a scanned file gives the diversity analysis nothing to read, with what to do, as one
    short sentence; None when it has examples. ``diversity`` prints it and exits 2."""
    if not profile.readable:
        return profile.findings[0].message if profile.findings else "the file cannot be read"
    if profile.rows.height and bool(profile.rows["is_example"].any()):
        return None
    rules: dict[str, object] = {}
    for f in profile.findings:
        rules.setdefault(f.rule, f)
    if profile.state.lines == 0:
        return "the file is empty: nothing to analyse"
    if "DP103" in rules or "DP110" in rules:  # a JSON array, or Alpaca/ShareGPT/...: convert it
        f = rules.get("DP110") or rules["DP103"]
        return f"not chat JSONL ({f.message.rstrip('.')})"
    if "DP101" in rules:
        f = rules["DP101"]
        return (f"not UTF-8 text (line {f.line}): re-encode it as UTF-8, e.g. "
                "`iconv -f cp1252 -t utf-8 IN > OUT`")
    if "DP102" in rules:
        f = rules["DP102"]
        return (f"no line is a JSON object (line {f.line} is not JSON); diversity reads chat JSONL, "
                "one example per line; `dataprep validate` shows why")
    if rules.keys() <= {"DP105", "DP109"}:
        return "no examples: the file holds only blank lines"
    top = ", ".join(f"{r} {f.name}" for r, f in list(rules.items())[:3])
    return f"no examples to analyse ({top}); `dataprep validate` lists every problem"


def _sample_texts(profile, lines: np.ndarray) -> tuple[list[str], list[str]]:
    """User and assistant text of the given 1-based lines, read back by byte offset."""
    from dataprep.scan import _texts_of

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
                users[line], assistants[line] = _texts_of(rec, fmt if fmt != "unknown" else profile.format)[:2]
        else:
            fmts = dict(zip(rows["line"].to_list(), rows["format"].to_list()))
            for raw in iter_lines(f):
                if raw.number in want:
                    rec = orjson.loads(raw.data.removeprefix(b"\xef\xbb\xbf"))
                    fmt = fmts[raw.number]
                    users[raw.number], assistants[raw.number] = _texts_of(rec, fmt if fmt != "unknown" else profile.format)[:2]
    return [users[int(x)] for x in lines], [assistants[int(x)] for x in lines]


def analyze(profile, *, language_sample: int = lang.SAMPLE_SIZE, full_language: bool = False,
            languages: bool = True, expected_languages: Sequence[str] | None = None, jobs: int = 1,
            cluster_sizes: Sequence[int] | None = None, vendi_sample: int = VENDI_SAMPLE,
            **flag_options) -> DiversityAnalysis:
    """The diversity report of a profile's examples and its findings (thresholds from a preset)."""
    ex = profile.rows.filter(pl.col("is_example")) if profile.rows.height else profile.rows
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
    if languages or vendi_sample:
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
