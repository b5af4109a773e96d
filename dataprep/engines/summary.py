"""The short summary of one Profile that ``dataprep scan`` prints (text or JSON)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from dataprep.output.numbers import mib
from dataprep.schema.findings import Severity


def profile_summary(profile, engine: str = "local") -> dict:
    """``scan --json``: counts over the Profile, no analysis beyond the scan itself."""
    rows = profile.rows
    ex = rows.filter(rows["is_example"]) if rows.height else rows
    sev = Counter(f.severity for f in profile.findings)
    exact = None
    if profile.exact is not None:  # None: scanned without the sketch part
        exact = profile.exact[rows["is_example"].to_numpy()] if rows.height else np.zeros(0, np.uint64)
    return {
        "version": 1,
        "path": profile.path,
        "engine": engine,
        "format": profile.format,
        "size": profile.size,
        "readable": profile.readable,
        "lines": profile.state.lines,
        "blank_lines": profile.state.blank,
        "examples": profile.examples,
        "valid_examples": profile.state.valid,
        "findings": {"errors": sev[Severity.ERROR], "warnings": sev[Severity.WARNING], "infos": sev[Severity.INFO]},
        "rules": dict(sorted(Counter(f.rule for f in profile.findings).items())),
        "tokens": None if not profile.options.tokens else {
            "model": profile.options.model,  # None: rules/models.toml's default
            "total": int(ex["tokens_total"].sum()) if ex.height else 0,
            "trainable": int(ex["tokens_trainable"].sum()) if ex.height else 0,
            "max_example": int(ex["tokens_total"].max()) if ex.height else 0,
        },
        "with_tools": int(ex["has_tools"].sum()) if ex.height else 0,
        "system_prompts": len(profile.system_prompts),
        # Examples whose normalised compared text equals an earlier one's (dedup's DP500 count).
        "exact_duplicates": None if exact is None else int(len(exact) - len(np.unique(exact))),
        "seconds": round(profile.seconds, 3),
        "cached": profile.cached,
    }


def render_summary(d: dict) -> str:
    size = mib(d["size"])
    f, t = d["findings"], d["tokens"]
    top = ", ".join(f"{r} x{n}" for r, n in sorted(d["rules"].items(), key=lambda kv: -kv[1])[:6])
    lines = [
        f"scan {d['path']} ({d['format']}, {size}) on the {d['engine']} engine"
        + (" (profile from the cache)" if d["cached"] else ""),
        f"  lines {d['lines']:,} · examples {d['examples']:,} · valid {d['valid_examples']:,} · blank {d['blank_lines']:,}",
        f"  findings: {f['errors']:,} errors, {f['warnings']:,} warnings, {f['infos']:,} infos" + (f" ({top})" if top else ""),
        (f"  tokens: {t['total']:,} total, {t['trainable']:,} trainable, at most {t['max_example']:,} per example"
         if t is not None else "  tokens: not counted"),
        f"  exact duplicates: {'not computed' if d['exact_duplicates'] is None else format(d['exact_duplicates'], ',')} · system prompts: {d['system_prompts']:,} · "
        f"with tools: {d['with_tools']:,}",
        f"  {d['seconds']:.2f} s",
    ]
    return "\n".join(lines) + "\n"
