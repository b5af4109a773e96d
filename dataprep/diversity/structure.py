"""Structural profile of a chat dataset: turns, lengths, role patterns, tools, system prompts.

Input is a polars frame with one row per example (the scan's Profile); columns:

- ``roles`` (str): the roles in order as letters joined by commas, e.g. ``"s,u,a,u,a"``
  (s system, d developer, u user, a assistant, t tool, f function, ? anything else);
  ``structure_row`` builds it.
- ``msg_chars`` (list[int], optional): characters of each message's text, aligned with ``roles``;
  or else ``chars_user``/``chars_assistant``/``chars_system``/``chars_tool`` (int, optional):
  each role's characters per example.
- optional ``msg_tokens`` (list[int]) and/or ``tokens`` (int, the whole example's tokens).
- optional ``tool_calls`` (bool): the example calls a tool; when absent, an example with a
  tool or function message counts as tool-calling.
- optional ``system_hash`` (uint64, null when there is no system message).

A turn is one user message. DP603 (length skew) is tested on per-example lengths in tokens
when ``tokens``/``msg_tokens`` is given, else in characters; see ``length_skew``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
import xxhash

from dataprep.diversity.flags import Flag
from dataprep.mask import redact
from dataprep.text import content_text, texts_of

TAIL_RATIO = 20.0  # DP603 heavy tail: p99 at least this many times the median
MIN_MODE_SHARE = 0.10  # DP603 bimodal: the smaller mode holds at least this share ...
MIN_ASHMAN_D = 3.0  # ... the modes are this far apart (Ashman's D, on log lengths) ...
MAX_DIP = 0.6  # ... and the density between them falls to at most this share of the lower peak
MIN_SKEW_EXAMPLES = 100  # below this a histogram is too noisy to call a shape
MIN_MODE_RATIO = 2.0  # ... and the longer mode is at least twice the shorter (38 vs 40 tokens is one length)


def system_prompt_hash(text: str) -> int:
    """64-bit id of a system prompt (surrounding whitespace ignored)."""
    return xxhash.xxh3_64_intdigest(text.strip().encode("utf-8", "surrogatepass"))


def structure_row(messages: Sequence[Mapping]) -> dict:
    """The structural columns of one example, from its parsed ``messages``: the role pattern,
    texts and system prompt as the scan records them (``dataprep.text.texts_of``).

    Returns ``{roles, msg_chars, tool_calls, system_hash, system_text}``; ``system_text`` is
    for the caller's preview table (``{hash: text[:120]}``), not a Profile column.
    """
    msgs = [dict(m) if isinstance(m, Mapping) else m for m in messages]
    _, _, sys_text, pattern, *_ = texts_of({"messages": msgs})
    chars = []
    tool = False
    for m in msgs:
        text = content_text(m.get("content")) if type(m) is dict else None
        chars.append(len(text) if text else 0)  # content of a shape the scan cannot read counts as no text
        if type(m) is dict and (m.get("role") in ("tool", "function") or m.get("tool_calls") or m.get("function_call")):
            tool = True
    return {
        "roles": pattern,
        "msg_chars": chars,
        "tool_calls": tool,
        "system_hash": system_prompt_hash(sys_text) if sys_text is not None else None,
        "system_text": sys_text,
    }


def _top(values: pl.Series, k: int) -> tuple[int, list[tuple]]:
    """(distinct values, the ``k`` most common as (value, count)), ties broken by value so
    the order never depends on polars' hashing."""
    vc = values.alias("v").value_counts(name="count")
    best = vc.top_k(k, by=["count", "v"], reverse=[False, True]).sort(["count", "v"], descending=[True, False])
    return vc.height, list(best.iter_rows())


def _stats(x: np.ndarray) -> dict:
    """Summary of a length distribution, with a log2-binned histogram for bar charts."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return {"count": 0}
    q = np.quantile(x, [0.1, 0.5, 0.9, 0.99])
    mx = float(x.max())
    # bins [0,1), [1,2), [2,4), ... up to the max: readable at any scale
    edges = [0.0, 1.0]
    while edges[-1] <= mx:
        edges.append(edges[-1] * 2)
    counts, _ = np.histogram(x, bins=edges)
    return {
        "count": int(len(x)),
        "mean": float(x.mean()),
        "p10": float(q[0]),
        "p50": float(q[1]),
        "p90": float(q[2]),
        "p99": float(q[3]),
        "max": mx,
        "hist": [{"lo": int(edges[i]), "hi": int(edges[i + 1]), "count": int(c)} for i, c in enumerate(counts) if c],
    }


def _two_means(x: np.ndarray) -> tuple[int, float, float, float, float]:
    """Exact 1-D 2-means on sorted ``x``: (left size, left mean, right mean, left sd, right sd)."""
    n = len(x)
    cs = np.cumsum(x)
    cs2 = np.cumsum(x * x)
    k = np.arange(1, n)
    lm = cs[:-1] / k
    rm = (cs[-1] - cs[:-1]) / (n - k)
    sse = (cs2[:-1] - k * lm**2) + ((cs2[-1] - cs2[:-1]) - (n - k) * rm**2)
    i = int(np.argmin(sse))
    left, right = x[: i + 1], x[i + 1 :]
    return i + 1, float(left.mean()), float(right.mean()), float(left.std()), float(right.std())


def _dip(x: np.ndarray, m1: float, m2: float, bins: int = 40) -> float:
    # Lowest smoothed density between the two means over the lower of the two peaks: ~1 for
    # one mode (or a flat spread), near 0 for two well separated modes. The means may lie
    # outside the trimmed range (a mode of a few values at the 0.5% / 99.5% quantiles): they
    # are clamped to the outer bins, so each side keeps at least one bin.
    lo, hi = np.quantile(x, [0.005, 0.995])
    if hi <= lo:
        return 1.0
    h, e = np.histogram(x, bins=bins, range=(lo, hi))
    h = np.convolve(h, np.ones(3) / 3, mode="same")
    c = (e[:-1] + e[1:]) / 2
    i1 = min(int(np.searchsorted(c, m1)), len(c) - 1)
    i2 = min(int(np.searchsorted(c, m2)), len(c) - 1)
    if i2 - i1 < 2:
        return 1.0
    peak = min(h[: i1 + 1].max(), h[i2:].max())
    return float(h[i1 : i2 + 1].min() / peak) if peak > 0 else 1.0


def length_skew(lengths: np.ndarray, *, tail_ratio: float = TAIL_RATIO) -> dict:
    """DP603 test on per-example lengths.

    Heavy tail: p99 >= ``tail_ratio`` x median. Bimodal: on log lengths, the exact 2-means split
    leaves at least 10% on each side, the two groups are well apart (Ashman's D >= 3) and the
    smoothed histogram dips between them to <= 60% of the lower peak (a single log-normal gives
    D ~ 2.65 and no dip; an even spread over several decades gives D ~ 3.5 but no dip either).
    The two modes must also be ``MIN_MODE_RATIO`` apart: on near-constant lengths (templated data,
    every example 38 or 40 tokens) the groups are tight, so D is large and the histogram empty
    between them, yet the lengths are all alike.
    Needs 100 examples; empty examples (length 0) are left out.
    """
    x = np.asarray(lengths, dtype=np.float64)
    x = np.sort(x[np.isfinite(x) & (x > 0)])
    out = {"examples": int(len(x)), "heavy_tail": False, "bimodal": False, "flagged": False}
    if len(x) < MIN_SKEW_EXAMPLES:
        return out
    if x[0] == x[-1]:  # every example the same length: no tail, no modes
        out.update(median=float(x[0]), p99=float(x[0]), tail_ratio=1.0)
        return out
    med, p99 = (float(v) for v in np.quantile(x, [0.5, 0.99]))
    out.update(median=med, p99=p99, tail_ratio=p99 / med if med else None)
    out["heavy_tail"] = bool(med > 0 and p99 >= tail_ratio * med)
    lx = np.log(x)
    k, m1, m2, s1, s2 = _two_means(lx)
    share_low = k / len(x)
    spread = np.sqrt(s1 * s1 + s2 * s2)
    d = float(np.sqrt(2) * (m2 - m1) / spread) if spread > 0 else float("inf")
    dip = _dip(lx, m1, m2)
    out["modes"] = {
        "low": {"share": share_low, "center": float(np.exp(m1))},
        "high": {"share": 1 - share_low, "center": float(np.exp(m2))},
        "ashman_d": d if np.isfinite(d) else None,
        "dip": dip,
    }
    out["bimodal"] = bool(min(share_low, 1 - share_low) >= MIN_MODE_SHARE and d >= MIN_ASHMAN_D and dip <= MAX_DIP
                          and m2 - m1 >= np.log(MIN_MODE_RATIO))
    out["flagged"] = out["heavy_tail"] or out["bimodal"]
    return out


def _role_lengths(df: pl.DataFrame, col: str) -> dict:
    ex = df.select(pl.col("roles").str.split(",").alias("r"), pl.col(col).alias("n")).explode(["r", "n"]).drop_nulls()
    out = {}
    for letter, name in (("u", "user"), ("a", "assistant"), ("s", "system"), ("t", "tool")):
        v = ex.filter(pl.col("r") == letter)["n"].to_numpy()
        if len(v):
            out[name] = _stats(v)
    return out


def structure_stats(df: pl.DataFrame, *, system_previews: Mapping[int, str] | None = None, top: int = 10) -> dict:
    """The ``structure`` section of the diversity report (see the module doc for columns)."""
    n = df.height
    out: dict = {"examples": n}
    if n == 0:
        return out
    roles = df["roles"].fill_null("")
    turns = roles.str.count_matches("u", literal=True).fill_null(0).to_numpy()  # role letters are single characters
    n_msgs = (roles.str.count_matches(",") + 1).to_numpy() * (roles.str.len_chars() > 0).to_numpy()
    hist = np.bincount(np.minimum(turns, 8), minlength=9)
    out["turns"] = {
        "mean": float(turns.mean()),
        "median": float(np.median(turns)),
        "p90": float(np.quantile(turns, 0.9)),
        "max": int(turns.max()),
        "hist": [{"turns": (str(i) if i < 8 else "8+"), "count": int(c), "share": int(c) / n} for i, c in enumerate(hist) if c],
    }
    out["messages"] = {"mean": float(n_msgs.mean()), "max": int(n_msgs.max())}

    lengths: dict = {}
    basis, ex_len = None, None
    role_cols = [c for c in ("chars_user", "chars_assistant", "chars_system", "chars_tool") if c in df.columns]
    if "msg_chars" in df.columns:
        ex_chars = df["msg_chars"].list.sum().fill_null(0).to_numpy()
        lengths["chars"] = {"example": _stats(ex_chars), **_role_lengths(df, "msg_chars")}
        basis, ex_len = "chars", ex_chars
    elif role_cols:  # per-example totals per role (the scan's Profile columns)
        per_role = {c[6:]: df[c].fill_null(0).to_numpy() for c in role_cols}
        ex_chars = np.sum(list(per_role.values()), axis=0)
        lengths["chars"] = {"example": _stats(ex_chars)}
        for role, v in per_role.items():
            if (v > 0).any():
                lengths["chars"][f"{role} (per example)"] = _stats(v[v > 0])
        basis, ex_len = "chars", ex_chars
    if "msg_tokens" in df.columns or "tokens" in df.columns:
        tok: dict = {}
        if "tokens" in df.columns:
            ex_tok = df["tokens"].fill_null(0).to_numpy()
        else:
            ex_tok = df["msg_tokens"].list.sum().fill_null(0).to_numpy()
        tok["example"] = _stats(ex_tok)
        if "msg_tokens" in df.columns:
            tok.update(_role_lengths(df, "msg_tokens"))
        lengths["tokens"] = tok
        basis, ex_len = "tokens", ex_tok
    out["lengths"] = lengths

    distinct, best = _top(roles, top)
    out["role_patterns"] = {
        "distinct": distinct,
        "top": [{"pattern": p, "count": int(c), "share": c / n} for p, c in best],
    }

    if "tool_calls" in df.columns:
        tools = df["tool_calls"].fill_null(False)
    else:
        tools = roles.str.contains(r"[tf]")
    nt = int(tools.sum())
    out["tool_calling"] = {"examples": nt, "share": nt / n}

    if "system_hash" in df.columns:
        sh = df["system_hash"].drop_nulls()
    else:  # without hashes only presence is known
        sh = pl.Series("system_hash", [], dtype=pl.UInt64)
    with_sys = int(roles.str.contains("s", literal=True).sum())
    sp: dict = {"examples_with_system": with_sys, "share_with_system": with_sys / n}
    if len(sh):
        distinct, best = _top(sh, top)
        sp["distinct"] = distinct
        sp["top"] = []
        for h, c in best:
            item = {"hash": f"{int(h):016x}", "count": int(c), "share": c / len(sh)}
            if system_previews and int(h) in system_previews:
                item["preview"] = redact(system_previews[int(h)])[:120]  # masked, then cut
            sp["top"].append(item)
    out["system_prompts"] = sp
    if ex_len is not None:
        out["length_skew"] = {"basis": basis, **length_skew(ex_len)}
    return out


def system_prompt_drift(structure: dict, *, min_distinct: int = 2) -> Flag | None:
    """DP310 (info): at least ``min_distinct`` distinct system prompts."""
    sp = structure.get("system_prompts", {})
    d = sp.get("distinct", 0)
    if d < min_distinct:
        return None
    tops = ", ".join(f"{t['hash'][:8]} {t['share']:.0%}" for t in sp.get("top", [])[:3])
    return Flag("DP310", f"{d} distinct system prompts (top: {tops})", None, {"distinct": d, "top": sp.get("top", [])})


def missing_system_rows(df: pl.DataFrame, *, majority: float = 0.5) -> Flag | None:
    """DP311 (info): the rows without a system message, when more than ``majority`` of the
    examples have one."""
    has = df["roles"].fill_null("").str.contains("s", literal=True).to_numpy()
    share = float(has.mean()) if len(has) else 0.0
    if share <= majority or share >= 1.0:
        return None
    rows = np.flatnonzero(~has)
    return Flag(
        "DP311",
        f"no system message, while {share:.0%} of the examples have one",
        rows,
        {"share_with_system": share, "missing": int(len(rows))},
    )


def length_skew_flag(structure: dict) -> Flag | None:
    """DP603 (info) from ``structure['length_skew']``."""
    s = structure.get("length_skew", {})
    if not s.get("flagged"):
        return None
    unit = s.get("basis", "chars")
    parts = []
    if s.get("bimodal"):
        lo, hi = s["modes"]["low"], s["modes"]["high"]
        parts.append(
            f"bimodal lengths: {lo['share']:.0%} around {lo['center']:.0f} {unit}, {hi['share']:.0%} around {hi['center']:.0f} {unit}"
        )
    if s.get("heavy_tail"):
        parts.append(f"heavy tail: p99 {s['p99']:.0f} {unit} is {s['tail_ratio']:.0f}x the median {s['median']:.0f}")
    return Flag("DP603", "; ".join(parts), None, {k: v for k, v in s.items() if k != "examples"})
