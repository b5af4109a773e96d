"""Opening-phrase concentration: how examples start, and how uniform that is.

An opening is the first 1, 2 or 3 words of a role's text (``words.openings``: lowercased,
punctuation dropped), so "Write a poem about the sea" opens with "write" / "write a" /
"write a poem". Examples whose text has no words are left out.

Per length k: the top openings with shares, the number of distinct ones, the Shannon entropy
(bits) of their distribution, and ``normalized_entropy`` = entropy / log2(texts): 1.0 when every
text opens differently, 0.0 when all open alike (normalising by the number of texts rather than
of distinct openings, so 10 templates used equally often still score low).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from dataprep.diversity.flags import Flag

MIN_DISTINCT_2 = 0.10  # DP601 defaults; presets override them
MAX_TOP_OPENING_SHARE = 0.25
OPENING_WORDS = 3
MIN_TEXTS = 50


def opening_stats(openings: pl.Series | Sequence[str], *, top: int = 10, max_words: int = OPENING_WORDS) -> dict:
    """Concentration figures of one role's openings (the ``openings.<role>`` report section)."""
    s = pl.Series("o", openings, dtype=pl.String).fill_null("")
    s = s.filter(s != "")
    n = len(s)
    out: dict = {"texts": n}
    words = s.str.split(" ")
    for k in range(1, max_words + 1):
        pref = (s if k == max_words else words.list.head(k).list.join(" ")).alias("opening")
        vc = pref.value_counts(name="count")
        # only the top rows need an order (ties by text): a selection, not a sort of every opening
        best = vc.top_k(top, by=["count", "opening"], reverse=[False, True]).sort(
            ["count", "opening"], descending=[True, False]
        )
        # value_counts comes back in no fixed order: sort so the float sums are reproducible
        counts = np.sort(vc["count"].to_numpy().astype(np.float64))
        if n:
            p = counts / n
            ent = max(0.0, float(-(p * np.log2(p)).sum()))  # no "-0.0" for a single opening
        else:
            ent = 0.0
        out[f"words_{k}"] = {
            "distinct": vc.height,
            "entropy": ent,
            "normalized_entropy": float(ent / np.log2(n)) if n > 1 else 0.0,
            "top_share": float(counts.max() / n) if n else 0.0,
            "top": [{"opening": o, "count": int(c), "share": c / n} for o, c in best.iter_rows()],
        }
    return out


def low_diversity(
    lexical: dict,
    openings: dict,
    *,
    min_distinct_2: float = MIN_DISTINCT_2,
    max_top_opening_share: float = MAX_TOP_OPENING_SHARE,
    opening_words: int = OPENING_WORDS,
    min_texts: int = MIN_TEXTS,
) -> Flag | None:
    """DP601: a role's distinct-2 below ``min_distinct_2``, or its most common
    ``opening_words``-word opening above ``max_top_opening_share`` of its texts (judged from
    ``min_texts`` texts on: in a handful of examples every opening is a large share).

    distinct-n falls as a corpus grows, so presets should scale ``min_distinct_2`` with size.
    """
    reasons, data = [], {}
    for role in ("user", "assistant"):
        d2 = (lexical.get(role) or {}).get("distinct_2")
        if d2 is not None and d2 < min_distinct_2:
            reasons.append(f"{role} distinct-2 {d2:.3f} < {min_distinct_2:g}")
            data[f"{role}_distinct_2"] = d2
        o = (openings.get(role) or {}).get(f"words_{opening_words}")
        if o and o["top"] and o["top_share"] > max_top_opening_share and openings[role]["texts"] >= min_texts:
            t = o["top"][0]
            reasons.append(f"{t['share']:.0%} of {role} texts open with \"{t['opening']}\" (max {max_top_opening_share:.0%})")
            data[f"{role}_top_opening"] = t
    if not reasons:
        return None
    return Flag("DP601", "low diversity: " + "; ".join(reasons), None, data)
