"""The diversity report (``dataprep diversity --json``), its flags, and its terminal views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from dataprep.diversity import language as lang
from dataprep.diversity.features import ROLES, TextFeatures, combined_texts, features_in_shards
from dataprep.diversity.flags import Flag
from dataprep.diversity.lexical import lexical_metrics
from dataprep.diversity.openings import (
    MAX_TOP_OPENING_SHARE,
    MIN_DISTINCT_2,
    MIN_EFFECTIVE_OPENINGS,
    OPENING_WORDS,
    low_diversity,
    opening_stats,
)
from dataprep.diversity.structure import length_skew_flag, missing_system_rows, structure_stats, system_prompt_drift
from dataprep.diversity.vendi import VENDI_SAMPLE, vendi_score
from dataprep.diversity.words import WORD_PATTERN

REPORT_VERSION = 1


def cluster_spread(sizes: Sequence[int], examples: int) -> dict:
    """Topic spread from near-duplicate clusters (sizes of clusters of 2+ from dedup)."""
    s = np.asarray([x for x in sizes if x >= 2], dtype=np.int64)
    in_clusters = int(s.sum())
    hist = {}
    for lo, hi, label in ((2, 2, "2"), (3, 5, "3-5"), (6, 20, "6-20"), (21, 100, "21-100"), (101, None, "101+")):
        m = (s >= lo) & ((s <= hi) if hi is not None else True)
        if m.any():
            hist[label] = int(m.sum())
    return {
        "clusters": int(len(s)),
        "examples_in_clusters": in_clusters,
        "share_in_clusters": in_clusters / examples if examples else 0.0,
        "largest": int(s.max()) if len(s) else 0,
        "size_hist": hist,
        # each cluster counts once: the number of "different things" the near-dup view sees
        "effective_examples": examples - in_clusters + int(len(s)),
    }


def diversity_report(
    features: TextFeatures,
    structure: pl.DataFrame | None = None,
    *,
    language: lang.LanguageSample | None = None,
    vendi_texts: Sequence[str] | None = None,
    vendi_sample: int = VENDI_SAMPLE,
    system_previews: Mapping[int, str] | None = None,
    cluster_sizes: Sequence[int] | None = None,
) -> dict:
    """The ``diversity --json`` object.

    ``features``: merged ``TextFeatures`` of the whole file. ``structure``: the Profile's
    structural columns (see ``structure.py``). ``language``: ``detect_sample`` of the rows
    ``sample_indices(n, k)``. ``vendi_texts``: whole-example texts (``combined_texts``) of an
    evenly spread sample, e.g. the language sample's rows; the Vendi sample is drawn from them.
    """
    lex0 = next(iter(features.lexicon.values()), None)
    report: dict = {"version": REPORT_VERSION, "examples": features.examples}
    report["lexical"] = {r: lexical_metrics(features.lexicon[r]) for r in ROLES}
    report["lexical"]["params"] = {
        "mattr_window": lex0.window if lex0 else None,
        "mtld_threshold": lex0.threshold if lex0 else None,
        "stream_blocks": lex0.blocking if lex0 else None,
        "corpus": (
            "distinct-n over all texts of a role, n-grams inside one text; MATTR and MTLD over the role's "
            "running text in stream blocks of consecutive examples (file order), pooled over blocks"
        ),
        "words": WORD_PATTERN,
    }
    report["openings"] = {r: opening_stats(features.rows[f"{r}_opening"]) for r in ROLES}
    if structure is not None:
        report["structure"] = structure_stats(structure, system_previews=system_previews)
    if language is not None:
        report.update(lang.language_section(language))
    else:
        report.update({"languages": {}, "language_sample": 0, "language_sampled": False, "language_note": "not run"})
    if vendi_texts is not None:
        report["vendi"] = vendi_score(vendi_texts, sample=vendi_sample)
    if cluster_sizes is not None:
        report["near_duplicates"] = cluster_spread(cluster_sizes, features.examples)
    return report


def diversity_flags(
    report: dict,
    *,
    structure: pl.DataFrame | None = None,
    language: lang.LanguageSample | None = None,
    expected_languages: Sequence[str] | None = None,
    max_other_language_share: float = 0.01,
    min_distinct_2: float = MIN_DISTINCT_2,
    max_top_opening_share: float = MAX_TOP_OPENING_SHARE,
    min_effective_openings: int = MIN_EFFECTIVE_OPENINGS,
    opening_words: int = OPENING_WORDS,
    system_majority: float = 0.5,
) -> list[Flag]:
    """DP309, DP310, DP311, DP601, DP602, DP603 from a report (thresholds from the preset).

    DP602 runs only when ``expected_languages`` is given; DP311 and DP309 need the Profile
    frame and the language sample for their rows.
    """
    out: list[Flag | None] = [
        low_diversity(
            report["lexical"],
            report["openings"],
            min_distinct_2=min_distinct_2,
            max_top_opening_share=max_top_opening_share,
            min_effective_openings=min_effective_openings,
            opening_words=opening_words,
        )
    ]
    st = report.get("structure")
    if st:
        out += [system_prompt_drift(st), length_skew_flag(st)]
    if structure is not None:
        out.append(missing_system_rows(structure, majority=system_majority))
    if language is not None:
        out.append(lang.language_mismatch(language))
    if expected_languages is not None and report.get("languages"):
        out.append(lang.language_mix(report["languages"], expected_languages, max_share=max_other_language_share))
    return [f for f in out if f is not None]


@dataclass
class DiversityResult:
    report: dict
    features: TextFeatures
    language: lang.LanguageSample | None
    flags: list[Flag] = field(default_factory=list)


def analyze_texts(
    user_texts: Sequence[str | None],
    assistant_texts: Sequence[str | None],
    structure: pl.DataFrame | None = None,
    *,
    language_sample: int = lang.SAMPLE_SIZE,
    full_language: bool = False,
    languages: bool = True,
    jobs: int = 1,
    vendi_sample: int = VENDI_SAMPLE,
    expected_languages: Sequence[str] | None = None,
    system_previews: Mapping[int, str] | None = None,
    **flag_options,
) -> DiversityResult:
    """Everything for a dataset held in memory (tests, small files); the scan-based path calls
    ``text_features`` per shard and ``diversity_report`` instead."""
    n = len(user_texts)
    tf = features_in_shards(user_texts, assistant_texts, jobs=jobs)
    rows = lang.sample_indices(n, language_sample, full=full_language)
    sample = None
    if languages and n:
        sample = lang.detect_sample([user_texts[i] for i in rows], [assistant_texts[i] for i in rows], rows, n, jobs=jobs)
    vt = combined_texts([user_texts[i] for i in rows], [assistant_texts[i] for i in rows])
    report = diversity_report(
        tf, structure, language=sample, vendi_texts=vt, vendi_sample=vendi_sample, system_previews=system_previews
    )
    flags = diversity_flags(report, structure=structure, language=sample, expected_languages=expected_languages, **flag_options)
    return DiversityResult(report, tf, sample, flags)


# ---------------------------------------------------------------- terminal views

_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(frac: float | None, width: int = 20) -> str:
    """A horizontal bar of ``frac`` (0..1) of ``width`` cells, in eighths."""
    if frac is None or not np.isfinite(frac):
        return ""
    eighths = int(round(max(0.0, min(1.0, frac)) * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[rest] if rest else "")


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _console(console):
    if console is None:
        from rich.console import Console

        console = Console()
    return console


def render_terminal(report: dict, console=None) -> None:
    """Print the report with small bar charts (rich)."""
    from rich.table import Table

    con = _console(console)
    con.print(f"[bold]Diversity[/bold]  {report.get('examples', 0):,} examples")
    if "lexical" not in report:  # nothing was analysed (no examples): say why instead of a KeyError
        con.print(report.get("note", "no examples to analyse"))
        return

    t = Table(title="Lexical", title_justify="left", show_edge=False)
    t.add_column("metric")
    for r in ROLES:
        t.add_column(r, justify="right")
    lex = report["lexical"]
    for key in ("distinct_1", "distinct_2", "distinct_3", "mattr", "mtld", "vocab", "words"):
        t.add_row(key, *[_fmt(lex[r].get(key), 1 if key == "mtld" else 3) for r in ROLES])
    con.print(t)
    p = lex.get("params", {})
    con.print(f"[dim]MATTR window {p.get('mattr_window')}, MTLD threshold {p.get('mtld_threshold')}[/dim]")

    for r in ROLES:
        o = report["openings"][r].get(f"words_{OPENING_WORDS}")
        if not o:
            continue
        t = Table(title=f"{r} openings (first {OPENING_WORDS} words)", title_justify="left", show_edge=False)
        t.add_column("opening")
        t.add_column("share", justify="right")
        t.add_column("")
        for item in o["top"][:5]:
            t.add_row(item["opening"], f"{item['share']:.1%}", bar(item["share"]))
        con.print(t)
        con.print(f"[dim]{o['distinct']:,} distinct, entropy {o['entropy']:.2f} bits, normalised {o['normalized_entropy']:.2f}[/dim]")

    st = report.get("structure")
    if st and st.get("examples"):
        t = Table(title="Turns (user messages)", title_justify="left", show_edge=False)
        t.add_column("turns")
        t.add_column("share", justify="right")
        t.add_column("")
        for h in st["turns"]["hist"]:
            t.add_row(h["turns"], f"{h['share']:.1%}", bar(h["share"]))
        con.print(t)
        t = Table(title="Lengths", title_justify="left", show_edge=False)
        for c in ("", "p10", "p50", "p90", "p99", "max"):
            t.add_column(c, justify="right" if c else "left")
        for unit, groups in st["lengths"].items():
            for g, s in groups.items():
                if s.get("count"):
                    t.add_row(f"{g} ({unit})", *[f"{s[k]:,.0f}" for k in ("p10", "p50", "p90", "p99", "max")])
        con.print(t)
        t = Table(title="Role patterns", title_justify="left", show_edge=False)
        t.add_column("pattern")
        t.add_column("share", justify="right")
        t.add_column("")
        for item in st["role_patterns"]["top"][:5]:
            t.add_row(item["pattern"][:40], f"{item['share']:.1%}", bar(item["share"]))
        con.print(t)
        sp = st["system_prompts"]
        con.print(
            f"tool-calling {st['tool_calling']['share']:.1%} · system prompt in {sp['share_with_system']:.1%}"
            + (f", {sp['distinct']} distinct" if "distinct" in sp else "")
        )
        sk = st.get("length_skew", {})
        if sk.get("flagged"):
            con.print(f"[yellow]length skew ({sk['basis']}): " + ("bimodal " if sk["bimodal"] else "") + ("heavy tail" if sk["heavy_tail"] else "") + "[/yellow]")

    if report.get("languages"):
        t = Table(title=f"Languages ({report.get('language_note', '')})", title_justify="left", show_edge=False)
        for c in ("lang", "share", "95% CI", ""):
            t.add_column(c, justify="left" if c in ("lang", "") else "right")
        for code, v in list(report["languages"].items())[:8]:
            t.add_row(code, f"{v['share']:.1%}", f"{v['ci_low']:.1%}-{v['ci_high']:.1%}", bar(v["share"]))
        con.print(t)
    v = report.get("vendi")
    if v:
        con.print(f"Vendi score {v['score']:.1f} of {v['sample']} sampled ({_fmt(v['normalized'])}) {bar(v['normalized'])}")
    nd = report.get("near_duplicates")
    if nd:
        con.print(f"near-duplicate clusters {nd['clusters']:,} holding {nd['share_in_clusters']:.1%} of examples (largest {nd['largest']})")


def _compare_rows(r: dict) -> dict[str, float | int | None]:
    rows: dict[str, float | int | None] = {"examples": r.get("examples", 0)}
    for role in ROLES:
        for k in ("distinct_1", "distinct_2", "distinct_3", "mattr", "mtld", "vocab"):
            rows[f"{role} {k}"] = ((r.get("lexical") or {}).get(role) or {}).get(k)
        o = ((r.get("openings") or {}).get(role) or {}).get(f"words_{OPENING_WORDS}", {})
        rows[f"{role} top opening share"] = o.get("top_share")
        rows[f"{role} opening entropy (norm.)"] = o.get("normalized_entropy")
    st = r.get("structure") or {}
    if st.get("examples"):
        rows["turns mean"] = st["turns"]["mean"]
        rows["tool-calling share"] = st["tool_calling"]["share"]
        rows["system prompts distinct"] = st["system_prompts"].get("distinct")
    for code, v in (r.get("languages") or {}).items():
        rows[f"lang {code}"] = v["share"]
    if r.get("vendi"):
        rows["vendi score"] = r["vendi"]["score"]
    return rows


def render_compare(a: dict, b: dict, console=None, labels: tuple[str, str] = ("A", "B")) -> None:
    """Two reports side by side (e.g. before/after dedup), with the difference B - A."""
    from rich.table import Table

    con = _console(console)
    ra, rb = _compare_rows(a), _compare_rows(b)
    t = Table(title="Diversity compared", title_justify="left", show_edge=False)
    t.add_column("metric")
    t.add_column(labels[0], justify="right")
    t.add_column(labels[1], justify="right")
    t.add_column("Δ", justify="right")
    for k in list(ra) + [k for k in rb if k not in ra]:
        va, vb = ra.get(k), rb.get(k)
        d = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        dig = 1 if "mtld" in k or "vendi" in k else 3
        t.add_row(k, _fmt(va, dig), _fmt(vb, dig), "" if d is None else (f"{d:+,}" if isinstance(d, int) else f"{d:+.{dig}f}"))
    con.print(t)
