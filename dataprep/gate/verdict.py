"""From one Profile and a preset to a verdict: every analysis, the thresholds, pass/warn/fail.

``assess(profile, preset)`` runs, on the one scan of a file: the validator's findings (already in
the Profile), tokens and cost (DP400 per over-length example, DP401 budget), duplicates
(DP500/501/503, DP502 against other files), diversity (DP309-311, DP601-603), the volume tier
(DP600) and the preset's thresholds; then applies the preset's severities and decides.

Verdict: ``fail`` when any error remains (or the file is unreadable), ``warn`` when any warning
remains, else ``pass``. ``gate`` and ``audit`` both call this, so they never disagree.

Fail closed: when an analysis raises on a file (a bug, or data no one foresaw), its checks were
not made, so the file cannot pass. The analysis and its error become a DP199 finding (error,
whatever the preset says of other rules), the verdict is ``fail``, and the exit code is 2 ("could
not judge", as for unreadable input) unless the preset sets ``analysis_failure = "fail"`` (exit 1).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from dataprep.gate.presets import THRESHOLDS, Preset, load_preset
from dataprep.output.report import Judgement
from dataprep.schema.findings import Counts, Finding, Severity, make_finding

VERDICTS = ("pass", "warn", "fail")
TIER_PRESETS = ("style", "task", "domain")  # built-in presets whose [volume] make the tier ladder
TOP_CLUSTERS = 10
ANALYSIS_FAILED = "DP199"
# what each analysis checks: the DP199 message says what was not checked
ANALYSIS_CHECKS = {
    "tokens": "DP400/DP401 lengths, token budget and cost",
    "dedup": "DP500-DP503 duplicates, leakage and conflicting answers",
    "diversity": "DP309-DP311 and DP601-DP603 diversity",
    "language": "DP309 language mismatch and DP602 language mix",
}
MAX_REASON_CHARS = 300  # an exception message may quote data; the finding keeps its head


@dataclass
class Threshold:
    """One threshold of the preset, measured on one file."""

    key: str
    rule: str
    label: str
    op: str  # "<=" or ">="
    limit: object
    measured: float | int | None  # None: could not be measured (no examples, analysis skipped)
    passed: bool
    severity: Severity | None  # what a failure weighs (None: its rule is off in the preset)
    detail: str = ""

    @property
    def message(self) -> str:
        if self.measured is None:
            return f"{self.label}: not measured ({self.detail or 'no examples'})"
        m, lim = format_value(self.key, self.measured), format_value(self.key, self.limit)
        d = f" ({self.detail})" if self.detail else ""
        if self.passed:
            return f"{self.label} {m}{d} within {self.key} {lim}"
        verb = "exceeds" if self.op == "<=" else "is below"
        return f"{self.label} {m}{d} {verb} {self.key} {lim}"

    def to_dict(self) -> dict:
        return {"key": self.key, "rule": self.rule, "label": self.label, "op": self.op, "limit": self.limit,
                "measured": self.measured, "passed": self.passed,
                "severity": None if self.severity is None else self.severity.value, "detail": self.detail,
                "message": self.message}


def format_value(key: str, v) -> str:
    """A threshold value as people read it: shares as percentages, distinct-2 with 3 decimals."""
    if v is None:
        return "-"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    spec = THRESHOLDS.get(key)
    if spec is not None and spec.kind == "share" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:.1%}" if key != "min_distinct_2" else f"{v:.3f}"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass
class FileAssessment:
    """Everything gate and audit know about one file; also the "file report" the renderers read
    (path, format, examples, valid_examples, findings)."""

    path: str
    format: str
    examples: int
    valid_examples: int
    lines: int
    findings: list[Finding]
    readable: bool = True
    size: int | None = None
    preset: str = ""
    verdict: str = "pass"
    thresholds: list[Threshold] = field(default_factory=list)
    volume: dict = field(default_factory=dict)
    tokens: dict | None = None
    cost: list[dict] = field(default_factory=list)  # one row per model of rules/models.toml
    dedup: dict | None = None
    diversity: dict | None = None
    charts: dict = field(default_factory=dict)  # histogram bins and top lists for the reports
    stage_seconds: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # analyses skipped and why
    truncated: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # analysis -> its error (fail closed: DP199)

    @property
    def counts(self) -> Counts:
        # Read several times per report (summary, readiness, table, JSON): counted once per
        # findings list (a new list, or one grown since, is counted again).
        key = (id(self.findings), len(self.findings))
        hit = self.__dict__.get("_counts")
        if hit is not None and hit[0] == key:
            return hit[1]
        c = Counts.of(self.findings)
        self.__dict__["_counts"] = (key, c)
        return c

    @property
    def failed_thresholds(self) -> list[Threshold]:
        return [t for t in self.thresholds if not t.passed and t.severity is not None]

    def to_dict(self) -> dict:
        """The gate JSON file object: validate's shape plus ``verdict`` and ``thresholds``."""
        d = {"path": self.path, "examples": self.examples, "valid_examples": self.valid_examples,
             "format": self.format, "findings": [f.to_dict() for f in self.findings]}
        if self.truncated:
            d["findings_truncated"] = self.truncated
        d["verdict"] = self.verdict
        d["thresholds"] = [t.to_dict() for t in self.thresholds]
        d["volume"] = self.volume
        d["analyses_failed"] = self.failed_list()
        return d

    def judged(self) -> Judgement:
        """This file's verdict and what decided it, as the output formats read it."""
        return Judgement(self.verdict, self.thresholds, self.volume, self.failed_list(), self.notes)

    def failed_list(self) -> list[dict]:
        return [{"analysis": k, "reason": v, "not_checked": ANALYSIS_CHECKS.get(k, "")} for k, v in self.failed.items()]

    def audit_dict(self) -> dict:
        """The ``audit --json`` object of one file (docs/audit-json.md)."""
        c = self.counts
        by_rule: dict[str, dict] = {}
        for f in self.findings:
            e = by_rule.setdefault(f.rule, {"name": f.name, "severity": f.severity.value, "count": 0})
            e["count"] += 1
        return {
            "path": self.path,
            "format": self.format,
            "size_bytes": self.size,
            "readable": self.readable,
            "validation": {"lines": self.lines, "examples": self.examples, "valid_examples": self.valid_examples,
                           "errors": c.errors, "warnings": c.warnings, "infos": c.infos,
                           "by_rule": dict(sorted(by_rule.items())),
                           "findings": [f.to_dict() for f in self.findings]},
            "tokens": self.tokens,
            "cost": self.cost,
            "dedup": self.dedup,
            "diversity": self.diversity,
            "verdict": {"verdict": self.verdict, "preset": self.preset, "volume": self.volume,
                        "thresholds": [t.to_dict() for t in self.thresholds]},
            "analyses_failed": self.failed_list(),
            "charts": self.charts,
            "notes": self.notes,
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
        }


# --------------------------------------------------------------------------------------------- tiers

def tier_ladder() -> list[dict]:
    """The built-in volume tiers, smallest first: ``{tier, fail_below, warn_below, source}``."""
    out = []
    for name in TIER_PRESETS:
        p = load_preset(name)
        if p.volume is not None:
            out.append({"tier": p.volume.tier, "fail_below": p.volume.fail_below, "warn_below": p.volume.warn_below,
                        "source": p.source, "as_of": p.as_of})
    return sorted(out, key=lambda t: t["warn_below"])


def tier_reached(n: int, ladder: list[dict] | None = None) -> dict:
    """Which built-in tier ``n`` valid examples reach fully (``warn_below`` or more), which one
    they are inside the warning band of, and the next tier up."""
    ladder = ladder or tier_ladder()
    reached = [t["tier"] for t in ladder if n >= t["warn_below"]]
    band = [t["tier"] for t in ladder if t["fail_below"] <= n < t["warn_below"]]
    nxt = next((t for t in ladder if n < t["warn_below"]), None)
    return {"examples": n, "reached": reached[-1] if reached else None, "partly": band[-1] if band else None,
            "next": None if nxt is None else nxt["tier"], "next_needs": None if nxt is None else nxt["warn_below"],
            "ladder": ladder}


# --------------------------------------------------------------------------------------------- analyses

def _example_frame(profile):
    import polars as pl

    # only the columns read here: a filter of the whole frame copies every column (~200 MB at 1M lines)
    return profile.rows.select("line", "valid", "tokens_total", "roles", "turns", "is_example").filter(
        pl.col("is_example"))


def _tokens(profile, preset: Preset, ex) -> tuple[dict, list[dict], list[Finding], dict]:
    """tokens section (preset model), cost rows for every model, DP400 findings, histogram."""
    from dataprep.tokens import estimate, list_models
    from dataprep.tokens.analyze import analyze
    from dataprep.tokens.models import get_model

    # DP401 is the token_budget threshold here (measured value and limit), so no budget below.
    rep = analyze(profile, model=preset.model)
    section = rep.to_dict()
    section.pop("path", None)
    counted = get_model(profile.options.model).encoding
    section["counted_with"] = counted
    section["estimate"] = True
    cost = []
    for m in list_models().values():
        e = estimate(rep.tokens, m)
        cost.append({"model": m.id, "provider": m.provider, "status": m.status, "context_limit": m.training_context,
                     "epochs": e.epochs, "billed_tokens": e.billed_tokens, "charged_tokens": e.charged_tokens,
                     "over_limit": int(e.over_limit.size),
                     "price_per_1m_training_tokens_usd": m.price_per_1m_training_tokens_usd,
                     "estimated_cost_usd": None if e.estimated_cost_usd is None else round(e.estimated_cost_usd, 4),
                     "gpu_hours": None if e.gpu_hours is None else round(e.gpu_hours, 3), "gpu_method": e.gpu_method,
                     "as_of": m.as_of, "approximate_counts": m.encoding != counted or not m.encoding_exact})
    hist = token_histogram(ex["tokens_total"].to_numpy(), rep.estimate.context_limit)
    return section, cost, list(rep.findings), hist


def token_histogram(tokens: np.ndarray, context_limit: int | None) -> dict:
    """Power-of-two bins of example lengths (what the reports draw), the context limit marked."""
    t = np.asarray(tokens, dtype=np.int64)
    if t.size == 0:
        return {"edges": [], "counts": [], "context_limit": context_limit}
    lo = max(1, int(t.min()))
    edges = [1 << int(np.floor(np.log2(lo)))]
    top = max(int(t.max()), context_limit or 0) if context_limit and t.max() > context_limit / 2 else int(t.max())
    while edges[-1] <= top:
        edges.append(edges[-1] * 2)
    counts, _ = np.histogram(np.maximum(t, edges[0]), bins=np.asarray(edges, dtype=np.int64))
    return {"edges": [int(e) for e in edges], "counts": [int(c) for c in counts], "context_limit": context_limit,
            "over_limit": int((t > context_limit).sum()) if context_limit else 0}


def _dedup(profile, against) -> tuple[dict, list[Finding], list[dict]]:
    """dedup section, DP500/501/502/503 findings, the biggest clusters (1-based lines)."""
    from dataprep.dedup.analyze import analyze

    rep = analyze(profile, against=against or None)
    d = rep.to_dict()
    d["_sizes"] = np.diff(rep.result.cluster_offsets).tolist()  # for diversity's topic spread; popped by assess
    return d, list(rep.findings), rep.largest_clusters(TOP_CLUSTERS)


def _start_language(profile, jobs: int):
    """The diversity analysis's language sample, detected in workers while dedup runs here
    (``diversity.analyze.LanguageJob``); what it raises on starting is raised again by
    ``_diversity``, so it fails the diversity analysis as it did when read there."""
    from dataprep.diversity.analyze import LanguageJob

    try:
        return LanguageJob(profile, jobs=jobs)
    except Exception as e:
        return e


def _diversity(profile, preset: Preset, jobs: int, cluster_sizes,
               language_job=None) -> tuple[dict, list[Finding], dict]:
    """diversity report dict, DP309/310/311/601/603 findings (DP602 is the gate's threshold,
    measured from the report's language shares) and the parts that failed (language)."""
    from dataprep.diversity.analyze import analyze

    if isinstance(language_job, Exception):
        raise language_job
    kw = {}
    for key in ("min_distinct_2", "max_top_opening_share", "min_effective_openings"):
        v = preset.threshold(key)
        if v is not None:
            kw[key] = v
    res = analyze(profile, jobs=jobs, cluster_sizes=cluster_sizes, language_job=language_job, **kw)
    return res.report, list(res.findings), dict(res.failed)


# --------------------------------------------------------------------------------------------- thresholds

def _measure(preset: Preset, key: str, ctx: dict) -> tuple[object, str]:
    """(measured value, detail) of one threshold; (None, why) when it cannot be measured."""
    n = ctx["examples"]
    failed = ctx.get("failed", {})
    for analysis, keys in (("tokens", ("max_over_length_share", "token_budget")), ("dedup", ("max_duplicate_share",)),
                           ("diversity", ("min_distinct_2", "max_top_opening_share", "min_effective_openings",
                                          "allowed_languages")),
                           ("language", ("allowed_languages",))):
        if key in keys and analysis in failed:
            return None, f"the {analysis} analysis failed (DP199)"
    if key == "max_duplicate_share":
        d = ctx.get("dedup")
        if not d or not d.get("examples"):
            return None, "no examples"
        dups = d["exact_duplicates"] + d["near_duplicates"]
        return dups / d["examples"], f"{d['exact_duplicates']} exact + {d['near_duplicates']} near of {d['examples']}"
    if key == "max_over_length_share":
        t = ctx.get("tokens")
        if not t or not t["examples"]:
            return None, "no valid examples"
        k = len(t["over_limit"])
        return k / t["examples"], f"{k} of {t['examples']} over {t['context_limit']:,} tokens ({t['model']})"
    if key == "token_budget":
        t = ctx.get("tokens")
        if not t:
            return None, "no valid examples"
        return t["charged_tokens"], f"{t['epochs']} epoch(s) x {t['billed_tokens']:,} billed tokens ({t['model']}, estimate)"
    div = ctx.get("diversity")
    if key == "min_distinct_2":
        if not div:
            return None, "diversity not analysed"
        vals = {r: div["lexical"][r].get("distinct_2") for r in ("user", "assistant")}
        vals = {r: v for r, v in vals.items() if v is not None}
        if not vals:
            return None, "no words"
        role = min(vals, key=vals.get)
        return round(vals[role], 4), f"lowest: {role}; " + ", ".join(f"{r} {v:.3f}" for r, v in vals.items())
    if key == "max_top_opening_share":
        if not div:
            return None, "diversity not analysed"
        best, detail = None, ""
        for r in ("user", "assistant"):
            o = div["openings"].get(r, {}).get("words_3")
            if o and o.get("top") and (best is None or o["top_share"] > best):
                best = o["top_share"]
                detail = f"{o['top'][0]['count']} {r} texts open with \"{o['top'][0]['opening']}\""
        return (None, "no words") if best is None else (round(best, 4), detail)
    if key == "min_effective_openings":
        from dataprep.diversity.openings import effective_openings

        if not div:
            return None, "diversity not analysed"
        vals = {}
        for r in ("user", "assistant"):
            o = div["openings"].get(r, {}).get("words_3")
            if o and o.get("top"):
                vals[r] = (effective_openings(o), o["distinct"])
        if not vals:
            return None, "no words"
        role = min(vals, key=lambda r: vals[r][0])
        return vals[role][0], f"lowest: {role}; " + ", ".join(
            f"{r} {v:,} ({d:,} distinct)" for r, (v, d) in vals.items())
    if key == "allowed_languages":
        if not div or not div.get("languages"):
            return None, "languages not analysed"
        allowed = set(preset.threshold("allowed_languages"))
        other = {k: v for k, v in div["languages"].items() if k != "und" and k not in allowed}
        share = sum(v["share"] for v in other.values())
        sample = div.get("language_sample", n)
        desc = ", ".join(f"{k} {v['share']:.1%}" for k, v in sorted(other.items(), key=lambda kv: -kv[1]["share"])[:5])
        kind = "sample" if div.get("language_sampled") else "all"
        return round(share, 4), (f"{desc or 'none'} in a {kind} of {sample} examples" if kind == "sample"
                                 else f"{desc or 'none'} over all {sample} examples")
    if key == "require_system_prompt":
        missing = ctx.get("missing_system")
        if missing is None:
            return None, "no examples"
        first = ", ".join(map(str, missing[:10])) + ("…" if len(missing) > 10 else "")
        return len(missing), (f"lines {first}" if missing else "every example has one")
    raise KeyError(key)


def evaluate_thresholds(preset: Preset, ctx: dict) -> list[Threshold]:
    out = []
    for key, setting in preset.thresholds.items():
        spec = THRESHOLDS[key]
        if spec.rule is None:
            continue
        if key == "require_system_prompt" and setting.value is False:
            continue
        measured, detail = _measure(preset, key, ctx)
        limit = setting.value
        if key == "allowed_languages":
            limit = preset.threshold("max_other_language_share") or 0.0
            detail = f"allowed {sorted(setting.value)}; " + detail
        elif key == "require_system_prompt":
            limit = 0
        if measured is None:
            passed = True
        elif spec.op == "<=":
            passed = measured <= limit
        else:
            passed = measured >= limit
        sev = setting.severity or preset.severity(spec.rule)
        t = Threshold(key, spec.rule, spec.label, spec.op, limit, measured, passed, sev, detail)
        if key == "allowed_languages":
            t.key = "max_other_language_share"  # the compared limit's name, for the message
            t.label = "share in languages outside " + "/".join(sorted(setting.value))
        out.append(t)
    return out


# --------------------------------------------------------------------------------------------- assess

class _stage:
    """Time one analysis; if it crashes on this file, record it in ``failed`` (a DP199 finding
    later: fail closed) and in the notes, and go on (one analysis failing must not lose the
    validation findings or the other analyses)."""

    def __init__(self, fa: FileAssessment, name: str):
        self.fa, self.name = fa, name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, kind, exc, tb):
        self.fa.stage_seconds[self.name] = time.perf_counter() - self.t0
        if exc is not None and isinstance(exc, Exception):
            self.fa.failed[self.name] = _reason(exc)
            self.fa.notes.append(f"{self.name} analysis failed on this file ({self.fa.failed[self.name]}); "
                                 "its figures are missing and the file cannot pass")
            return True
        return False


def _reason(exc: BaseException | str) -> str:
    r = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    r = " ".join(r.split())  # one line, whatever the message held
    return r if len(r) <= MAX_REASON_CHARS else r[: MAX_REASON_CHARS - 1] + "…"


def failure_findings(fa: FileAssessment) -> list[Finding]:
    """One DP199 error per failed analysis: what failed, why, and what was not checked."""
    return [make_finding(ANALYSIS_FAILED, fa.path, 0,
                         f"the {name} analysis failed ({why}); not checked: {ANALYSIS_CHECKS.get(name, name)}. "
                         "A file that was not fully checked cannot pass; please report this error with the file",
                         severity=Severity.ERROR)
            for name, why in fa.failed.items()]


def _volume(preset: Preset, n: int, path: str) -> tuple[dict, list[Finding]]:
    tier = tier_reached(n)
    v = preset.volume
    info = {"valid_examples": n, "reached": tier["reached"], "partly": tier["partly"], "next": tier["next"],
            "next_needs": tier["next_needs"]}
    if v is None:
        info.update({"tier": None, "status": "not checked"})
        return info, []
    info.update({"tier": v.tier, "fail_below": v.fail_below, "warn_below": v.warn_below})
    sev = preset.severity("DP600")
    if n >= v.warn_below:
        info["status"] = "ok"
        return info, []
    if sev is None:
        info["status"] = "off"
        return info, []
    if n < v.fail_below:
        info["status"] = "below"
        msg = (f"{n:,} valid example(s): below the {v.tier} tier's minimum of {v.fail_below:,} "
               f"({v.warn_below:,}+ recommended)")
    else:
        info["status"] = "low"
        sev = min(sev, Severity.WARNING, key=lambda s: s.rank)
        msg = f"{n:,} valid example(s): the {v.tier} tier recommends {v.warn_below:,}+ (minimum {v.fail_below:,})"
    return info, [make_finding("DP600", path, 0, msg, severity=sev)]


def assess(profile, preset: Preset | str | None = None, *, jobs: int = 1, against: list | None = None,
           analyses: tuple[str, ...] = ("tokens", "dedup", "diversity")) -> FileAssessment:
    """Every analysis of one scanned file against a preset (see the module doc)."""
    preset = load_preset(preset)
    ex = _example_frame(profile)
    n_valid = int(ex["valid"].sum()) if ex.height else 0
    fa = FileAssessment(profile.path, profile.format, profile.examples, profile.state.valid, profile.state.lines,
                        [], profile.readable, profile.size, preset.name)
    found: list[Finding] = [Finding(f.rule, f.name, f.severity, f.path, f.line, f.message, f.column, f.pointer)
                            for f in profile.findings]  # copies: severities change below, the cached Profile must not
    if preset.target:  # the training target's rules first; the preset's [rules] then have the last word
        from dataprep.targets import apply_target, load_target

        found = apply_target(found, load_target(preset.target), profile)
    ctx: dict = {"examples": ex.height}
    language = None
    try:
        if profile.readable and ex.height and "diversity" in analyses and "dedup" in analyses:
            language = _start_language(profile, jobs)  # overlaps the dedup stage
        _analyses(fa, profile, preset, ex, ctx, found, jobs, against, analyses, language)
    except BaseException as e:
        if hasattr(language, "close"):
            language.close(type(e), e, e.__traceback__)
        raise
    if hasattr(language, "close"):
        language.close()
    if not profile.readable:  # DP100 says it all; no volume or thresholds on a file never read
        fa.findings = found
        fa.verdict = "fail"
        return fa
    fa.volume, decided = _volume(preset, n_valid, profile.path)
    ctx["failed"] = fa.failed
    fa.thresholds = evaluate_thresholds(preset, ctx)
    # DP600, failed thresholds and DP199 carry their own severity; everything else takes the
    # preset's. DP199 is always an error: no preset can turn a crashed check into a pass.
    decided += [make_finding(t.rule, profile.path, 0, t.message, severity=t.severity) for t in fa.failed_thresholds]
    decided += failure_findings(fa)
    found = apply_severities(found, preset)
    found += decided
    found.sort(key=attrgetter("line", "rule"))
    fa.findings = found
    fa.verdict = decide(fa.findings, fa.readable)
    return fa


def _analyses(fa: FileAssessment, profile, preset: Preset, ex, ctx: dict, found: list[Finding], jobs: int,
              against, analyses: tuple[str, ...], language) -> None:
    """The analyses of ``assess``, each in its ``_stage``; their findings are added to ``found``."""
    if profile.readable and ex.height:
        sizes = None
        if "tokens" in analyses:
            with _stage(fa, "tokens"):
                fa.tokens, fa.cost, f400, fa.charts["token_hist"] = _tokens(profile, preset, ex)
                found += f400
                ctx["tokens"] = fa.tokens
        if "dedup" in analyses:
            with _stage(fa, "dedup"):
                fa.dedup, fdup, fa.charts["clusters"] = _dedup(profile, against)
                sizes = fa.dedup.pop("_sizes")
                found += fdup
                ctx["dedup"] = fa.dedup
        if "diversity" in analyses:
            with _stage(fa, "diversity"):
                fa.diversity, fdiv, failed = _diversity(profile, preset, jobs, sizes, language)
                for part, why in failed.items():  # a part of it (the language detector) failed alone
                    fa.failed[part] = _reason(why)
                    fa.notes.append(f"{part} analysis failed on this file ({fa.failed[part]}); "
                                    "its figures are missing and the file cannot pass")
                drop = set()
                if any(preset.threshold(k) is not None
                       for k in ("min_distinct_2", "max_top_opening_share", "min_effective_openings")):
                    drop.add("DP601")  # the thresholds explain it, with measured value and limit
                found += [f for f in fdiv if not (f.rule in drop and f.line == 0)]
                ctx["diversity"] = fa.diversity
        missing = ex.filter(~ex["roles"].str.contains("[sd]"))["line"].to_list()
        ctx["missing_system"] = missing
        fa.charts["turns"] = {str(k): v for k, v in sorted(Counter(ex["turns"].to_list()).items())}  # JSON keys
    elif profile.readable:
        fa.notes.append("no examples of a trainable format: tokens, duplicates and diversity not analysed")


def with_target(preset: Preset, target) -> Preset:
    """``preset`` judging by ``target`` (None: by the preset's own ``target``, if any), with a
    model that target trains; the target is checked here, before any file is read."""
    if target is None:
        target = preset.target
        if target is None:
            return preset
    from dataclasses import replace

    from dataprep.targets import Target, load_target

    t = load_target(target)  # a TargetError names the bad target before anything is scanned
    model = preset.model
    if t.models and model not in t.models:  # DP400 checks the context of a model this target trains
        model = t.models[0]
    return replace(preset, target=t.path if isinstance(target, Target) else str(target), model=model)


def _target_name(spec: str) -> str:
    from dataprep.targets import load_target

    return load_target(spec).name


def apply_severities(findings: list[Finding], preset: Preset) -> list[Finding]:
    """Each finding at the preset's severity of its rule; rules switched off are dropped."""
    out = []
    for f in findings:
        if f.rule == "DP100":  # unreadable input always counts: it decides exit code 2
            out.append(f)
            continue
        if f.rule in preset.rules:
            sev = preset.severity(f.rule)
            if sev is None:
                continue
            f.severity = sev
        out.append(f)
    return out


def decide(findings: list[Finding], readable: bool = True) -> str:
    if not readable or any(f.severity is Severity.ERROR for f in findings):
        return "fail"
    if any(f.severity is Severity.WARNING for f in findings):
        return "warn"
    return "pass"


def worst(verdicts) -> str:
    vs = list(verdicts)
    return max(vs, key=VERDICTS.index) if vs else "pass"


# --------------------------------------------------------------------------------------------- gate

def unreadable_assessment(path: str, reason: str, preset: str = "") -> FileAssessment:
    from dataprep.validate import _unreadable

    rep = _unreadable(path, reason)
    fa = FileAssessment(path, rep.format, 0, 0, 0, rep.findings, False, None, preset, "fail")
    fa.notes.append(f"unreadable: {reason}")
    return fa


def assess_path(path: str, preset: Preset | str | None = None, *, jobs: int | None = None, cache: bool = True,
                progress: bool = False, against: list[str] | None = None) -> FileAssessment:
    """Scan one file once (with the preset's model for token counts) and assess it."""
    from dataprep.scan import default_jobs, scan

    preset = load_preset(preset)
    t0 = time.perf_counter()
    prof = scan(path, jobs=jobs, cache=cache, progress=progress, model=preset.model)
    scan_s = time.perf_counter() - t0
    others = None
    if against and prof.readable:
        others = [scan(a, jobs=jobs, cache=cache, model=preset.model) for a in against]
    fa = assess(prof, preset, jobs=jobs or default_jobs(), against=others)
    fa.stage_seconds = {"scan": scan_s, **fa.stage_seconds}
    if prof.cached:
        fa.notes.append("profile read from the cache (file unchanged since its last scan)")
    return fa


@dataclass
class GateResult:
    """The gate over one or more files; renders like a ValidationResult (``files``, ``summary()``)."""

    files: list[FileAssessment]
    preset: Preset
    totals: dict | None = None  # the full summary when findings were capped for display

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    @property
    def unreadable(self) -> bool:
        return any(not r.readable for r in self.files)

    @property
    def verdict(self) -> str:
        return self.summary()["verdict"]

    def summary(self) -> dict:
        if self.totals is not None:
            return dict(self.totals)
        c = Counts.total(r.counts for r in self.files)
        return {"errors": c.errors, "warnings": c.warnings, "infos": c.infos,
                "verdict": worst(r.verdict for r in self.files) if self.files else "fail",
                "preset": self.preset.name, "files": len(self.files),
                **({"target": _target_name(self.preset.target)} if self.preset.target else {}),
                "thresholds_failed": sum(len(r.failed_thresholds) for r in self.files),
                "analyses_failed": sum(len(r.failed) for r in self.files)}

    @property
    def analysis_failed(self) -> bool:
        return any(r.failed for r in self.files)

    def exit_code(self, fail_on: Severity | str = Severity.ERROR) -> int:
        """0 pass (and warn, unless ``fail_on`` is warning), 1 fail, 2 unreadable input or an
        analysis that failed (1 when the preset sets ``analysis_failure = "fail"``)."""
        if self.unreadable or not self.files:
            return 2
        if self.analysis_failed and self.preset.analysis_failure == "error":
            return 2
        v = self.verdict
        if v == "fail" or (v == "warn" and Severity(fail_on) is Severity.WARNING):
            return 1
        return 0

    def capped(self, n: int) -> GateResult:
        files = []
        for r in self.files:
            c = dataclasses.replace(r, findings=r.findings[:n], truncated=max(0, len(r.findings) - n))
            files.append(c)
        return GateResult(files, self.preset, self.summary())

    def to_dict(self) -> dict:
        return {"version": 1, "preset": self.preset.to_dict(), "files": [r.to_dict() for r in self.files],
                "summary": self.summary()}

    def judgement(self, file: FileAssessment) -> Judgement:
        """(dataprep.output.Report) Every file of a gate is judged against the preset."""
        return file.judged()


def run_gate(paths: str | list[str], preset: Preset | str | None = "openai", *, jobs: int | None = None,
             cache: bool = True, progress: bool = False, against: list[str] | None = None,
             target=None) -> GateResult:
    """Scan every file once and judge it against ``preset`` (a built-in name or a TOML path).

    ``target`` (a name or TOML path, dataprep.targets) replaces the preset's ``target``. Raises
    PresetError for a preset and TargetError for a target that cannot be used; unreadable inputs
    are files with a DP100 finding (exit code 2), never exceptions.
    """
    from dataprep.io.reader import expand_inputs

    p = with_target(load_preset(preset), target)
    if isinstance(paths, str):
        paths = [paths]
    files, errors = expand_inputs([str(x) for x in paths])
    out = [unreadable_assessment(e.path, e.reason, p.name) for e in errors]
    for f in files:
        try:
            out.append(assess_path(f, p, jobs=jobs, cache=cache, progress=progress, against=against))
        except Exception as e:  # the scan itself broke on this file: fail closed, keep the other files
            out.append(unreadable_assessment(f, f"analysis failed: {_reason(e)}", p.name))
    return GateResult(out, p)
