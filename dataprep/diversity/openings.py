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
from dataprep.diversity.words import capped
from dataprep.diversity.words import openings as first_words
from dataprep.mask import redact

MIN_DISTINCT_2 = 0.10  # DP601 defaults; presets override them
MAX_TOP_OPENING_SHARE = 0.25
OPENING_WORDS = 3
MIN_TEXTS = 50
# Effective openings (2 ** entropy of the first-three-words openings): 10 templates used equally
# give 10 however large the set. Judged from EFFECTIVE_MIN_TEXTS texts on (a set of 60 distinct
# examples has at most 60); presets set their own floor (task: 50).
MIN_EFFECTIVE_OPENINGS = 50
EFFECTIVE_MIN_TEXTS = 500

# Openings are printed (reports, DP601's message), so they are computed from masked text: a key
# that opens 40% of the replies would otherwise be the chart's top bar, lower-cased and cut into
# words that no secret pattern recognises. Per text, the region that can reach the opening is
# its first k runs of word characters (each holds one or more of the scan's words) and
# MASK_MARGIN characters more (a secret or an email that starts in the opening is whole in it).
# Only regions this polars regex (a superset of dataprep.mask's hints) finds something in are
# masked in Python and cut into words again.
MASK_MARGIN = 320  # the longest valid email address; every secret pattern matches in fewer
_MAY_HOLD_SECRET = (r"(?i)sk-|akia|asia|gh[pousr]_|github_pat_|xox|aiza|_live_|private key|eyj"
                    r"|[a-z0-9/+]{40}|@|\d(?:[ .\-]?\d){3}|(?-i:[A-Z]{2}\d{2})")


def masked_openings(texts: Sequence[str | None], opens: pl.Series, k: int = OPENING_WORDS) -> pl.Series:
    """``opens`` (the first ``k`` words of each text) with every opening that a secret or personal
    data reaches recomputed from the text masked by ``dataprep.mask.redact`` (one placeholder word
    per secret, e.g. "redacted_secret please store")."""
    # capped like every text feature: no regex or masking pass over a 50 MB line
    s = pl.Series("t", capped(texts), dtype=pl.String).fill_null("")
    # characters up to the end of the k-th word run; null (the whole text) when it has fewer
    ends = s.str.extract(r"^(\W*\w+" + r"\W+\w+" * (k - 1) + ")", 1).str.len_chars()
    region = s.str.slice(0, (ends + MASK_MARGIN).fill_null(s.str.len_chars()))
    idx = np.flatnonzero(region.str.contains(_MAY_HOLD_SECRET).fill_null(False).to_numpy())
    if not len(idx):
        return opens
    # each distinct region once: copies of one example (and templated openings) share theirs
    regions = region.gather(idx).to_list()
    distinct = list(dict.fromkeys(regions))
    masked = dict(zip(distinct, first_words([redact(t, style="placeholder") for t in distinct], k)))
    return opens.scatter(idx, pl.Series([masked[t] for t in regions], dtype=pl.String))


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
            # masked again: the openings of a Profile cached before they were masked at the scan
            "top": [{"opening": redact(o), "count": int(c), "share": c / n} for o, c in best.iter_rows()],
        }
    return out


def effective_openings(words_k: dict) -> int:
    """2 to the power of the openings' entropy (bits): as many equally used openings as would
    be as varied (10 templates used equally: 10, however large the set)."""
    return round(2 ** words_k["entropy"])


def low_diversity(
    lexical: dict,
    openings: dict,
    *,
    min_distinct_2: float = MIN_DISTINCT_2,
    max_top_opening_share: float = MAX_TOP_OPENING_SHARE,
    min_effective_openings: int = MIN_EFFECTIVE_OPENINGS,
    opening_words: int = OPENING_WORDS,
    min_texts: int = MIN_TEXTS,
) -> Flag | None:
    """DP601: a role's distinct-2 below ``min_distinct_2``, or its most common
    ``opening_words``-word opening above ``max_top_opening_share`` of its texts (judged from
    ``min_texts`` texts on: in a handful of examples every opening is a large share), or fewer
    than ``min_effective_openings`` effective openings (from ``EFFECTIVE_MIN_TEXTS`` texts on).

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
        if o and o["top"] and openings[role]["texts"] >= EFFECTIVE_MIN_TEXTS:
            eff = effective_openings(o)
            if eff < min_effective_openings:
                reasons.append(f"{role} texts have {eff:,} effective openings ({o['distinct']:,} distinct; "
                               f"min {min_effective_openings:,})")
                data[f"{role}_effective_openings"] = eff
    if not reasons:
        return None
    return Flag("DP601", "low diversity: " + "; ".join(reasons), None, data)
