"""The analyses behind the panels, run in the app's worker threads, each from the one Profile.

The verdict comes from :func:`dataprep.gate.verdict.assess` (the same call ``gate`` makes, so
the inspector and the gate cannot disagree); the duplicate clusters from
:func:`dataprep.dedup.analyze.duplicates`; the per-row language sample is detected only when a
``lang:`` filter asks for it. Each step degrades to a note when its library is missing.
"""

from __future__ import annotations

import numpy as np


def load_preset(spec: str | None):
    """The gate preset, or None when the gate's presets are not installed."""
    try:
        from dataprep.gate.presets import load_preset as _load
    except ImportError:
        return None
    return _load(spec)


def preset_model(preset) -> str | None:
    return getattr(preset, "model", None) if preset is not None else None


def example_rows(profile) -> np.ndarray:
    if profile.rows.height == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(profile.rows["is_example"].to_numpy())


def token_view(profile, model: str | None) -> dict | None:
    """Token counts of the valid examples and the model's context limit (for the histogram)."""
    import polars as pl

    from dataprep.tokens.models import get_model

    rows = profile.rows
    if not rows.height:
        return None
    ex = rows.filter(pl.col("is_example") & pl.col("valid"))
    spec = get_model(model or profile.options.model)
    tokens = ex["tokens_total"].to_numpy()
    over = ex.filter(pl.col("tokens_total") > spec.training_context)["line"].to_list()
    return {"model": spec.id, "context_limit": spec.training_context, "tokens": tokens, "over_lines": over}


def duplicate_clusters(profile):
    """(example rows, DedupResult) or raises ImportError."""
    try:
        from dataprep.dedup.analyze import duplicates
    except ImportError:
        from dataprep.dedup import find_duplicates

        ex = example_rows(profile)
        return ex, find_duplicates(profile.signatures[ex], profile.exact[ex], profile.options.minhash)
    return duplicates(profile)


def assessment(profile, preset, jobs: int):
    """The gate's FileAssessment of this profile against the preset."""
    from dataprep.gate.verdict import assess

    return assess(profile, preset, jobs=jobs)


def language_sample(dataset, jobs: int = 1) -> tuple[dict[int, str], int]:
    """{0-based line: example language} over the diversity report's sample of examples."""
    from dataprep.diversity.language import detect_sample, sample_indices
    from dataprep.text import example_format, texts_of

    prof = dataset.profile
    ex = example_rows(prof)
    picks = ex[sample_indices(len(ex))] if len(ex) else ex
    fmts = prof.rows["format"]
    users, assistants = [], []
    for i in picks.tolist():
        rec, _ = dataset.parse(i)
        if isinstance(rec, dict):
            u, a, *_ = texts_of(rec, example_format(fmts[i], prof.format))
        else:
            u, a = "", ""
        users.append(u)
        assistants.append(a)
    if not len(picks):
        return {}, 0
    sample = detect_sample(users, assistants, picks, len(ex), jobs=jobs)
    return dict(zip(picks.tolist(), sample.example)), len(picks)
