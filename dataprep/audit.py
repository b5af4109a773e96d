"""Audits of many files: each scanned once and assessed like the gate does, then a readiness
verdict in plain words, a per-file table, and HTML / Markdown / JSON reports.

``audit(paths, preset=..., jobs=...) -> AuditResult``. Small files are scanned side by side in a
process pool (one file per worker: a file of a few MB cannot keep two cores busy on its own); a
big file is scanned by all workers at once. A file that cannot be read, or is empty, is a row
with its finding; nothing stops the audit.

The readiness verdict follows the source documents' decision guide (reference FACTS.md):
volume against the tiers (style 50-100, task 500+, domain 5,000+, from rules/presets/), quality
(errors, duplicates, leakage), diversity, estimated cost and time, and below the style tier the
advice that fine-tuning is premature. Every statement carries the figure it rests on.
"""

from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path

from dataprep.checks.formats import CONVERTIBLE
from dataprep.gate.presets import Preset, load_preset
from dataprep.gate.verdict import (
    ANALYSIS_CHECKS,
    FileAssessment,
    assess_path,
    tier_ladder,
    tier_reached,
    unreadable_assessment,
    worst,
)
from dataprep.output.numbers import dollars, hours
from dataprep.output.report import Judgement
from dataprep.schema.findings import Counts, Severity


# A file at least this big is scanned with every worker (the scan shards it); smaller files are
# scanned one per worker. Two scan shards: below that a file's own scan cannot use two cores.
def _big_file_bytes() -> int:
    from dataprep.scan import SHARD_BYTES

    return 2 * SHARD_BYTES


_SPLIT_NAMES = re.compile(r"(?:^|[._-])(train|training|val|valid|validation|dev|eval|test)(?:[._-]|$)", re.I)


@dataclass
class Statement:
    """One sentence of the readiness verdict, and the figure behind it."""

    topic: str  # volume | quality | duplicates | leakage | diversity | cost | advice
    level: str  # good | warn | bad | info
    text: str
    figure: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"topic": self.topic, "level": self.level, "text": self.text, "figure": self.figure}


@dataclass
class AuditResult:
    files: list[FileAssessment]
    preset: Preset
    seconds: float = 0.0
    jobs: int = 1

    @property
    def findings(self):
        return [f for r in self.files for f in r.findings]

    @property
    def unreadable(self) -> bool:
        return any(not r.readable for r in self.files)

    def summary(self) -> dict:
        c = Counts.total(r.counts for r in self.files)
        verdicts = [r.verdict for r in self.files]
        return {"errors": c.errors, "warnings": c.warnings, "infos": c.infos,
                "verdict": worst(verdicts) if verdicts else "fail", "preset": self.preset.name,
                "files": len(self.files), "unreadable": sum(not r.readable for r in self.files),
                "pass": verdicts.count("pass"), "warn": verdicts.count("warn"), "fail": verdicts.count("fail"),
                "examples": sum(r.examples for r in self.files),
                "valid_examples": sum((r.volume or {}).get("valid_examples", 0) for r in self.files),
                "billed_tokens": sum((r.tokens or {}).get("billed_tokens", 0) for r in self.files),
                "estimated_cost_usd": total_cost(self.files),
                "model": self.preset.model,
                "thresholds_failed": sum(len(r.failed_thresholds) for r in self.files),
                "analyses_failed": sum(len(r.failed) for r in self.files),
                "seconds": round(self.seconds, 3)}

    def exit_code(self, fail_on: Severity | str = Severity.ERROR) -> int:
        """As the gate: 0 pass/warn, 1 a failing file (or warn with fail_on warning), 2 when a file
        could not be read at all or an analysis failed on it (fail closed; 1 when the preset sets
        ``analysis_failure = "fail"``), after every other file was audited and reported.
        ``fail_on`` "never": a report-only run, 0 unless a file was unreadable or not fully analysed."""
        if self.unreadable or not self.files:
            return 2
        if any(r.failed for r in self.files) and self.preset.analysis_failure == "error":
            return 2
        if fail_on == "never":
            return 0
        v = self.summary()["verdict"]
        return 1 if v == "fail" or (v == "warn" and Severity(fail_on) is Severity.WARNING) else 0

    def judgement(self, file: FileAssessment) -> Judgement:
        """(dataprep.output.Report) Every audited file is judged against the preset, as by the gate."""
        return file.judged()

    def readiness(self) -> list[Statement]:
        return overall_readiness(self.files)

    def to_dict(self) -> dict:
        """``audit --json`` (docs/audit-json.md)."""
        return {"version": 1, "kind": "audit", "preset": self.preset.to_dict(), "summary": self.summary(),
                "tiers": tier_ladder(),
                "readiness": [s.to_dict() for s in self.readiness()],
                "files": [{**r.audit_dict(), "readiness": [s.to_dict() for s in file_readiness(r)]}
                          for r in self.files]}


# --------------------------------------------------------------------------------------------- running

def _worker(path: str, preset: Preset, cache: bool, against: list[str] | None) -> FileAssessment:
    try:
        return assess_path(path, preset, jobs=1, cache=cache, against=against)
    except Exception as e:  # a bug on one file must not lose the other 999 rows
        fa = unreadable_assessment(path, f"analysis failed: {type(e).__name__}: {e}", preset.name)
        return fa


def split_partners(files: list[str]) -> dict[str, list[str]]:
    """train file -> the validation/test files beside it (same directory, same name apart from
    the split word), checked for leakage (DP502)."""
    groups: dict[tuple[str, str], dict[str, list[str]]] = {}
    for f in files:
        p = Path(f)
        m = _SPLIT_NAMES.search(p.name)
        if not m:
            continue
        word = m.group(1).lower()
        role = "train" if word in ("train", "training") else "held"
        key = (str(p.parent), p.name[: m.start(1)] + "*" + p.name[m.end(1):])
        groups.setdefault(key, {"train": [], "held": []})[role].append(f)
    out = {}
    for g in groups.values():
        if len(g["train"]) == 1 and g["held"]:
            out[g["train"][0]] = sorted(g["held"])
    return out


def audit(paths: str | list[str], preset: Preset | str | None = "openai", *, jobs: int | None = None,
          cache: bool = True, progress: bool = False, leakage: bool = True, target=None) -> AuditResult:
    """Audit files, directories and globs; every file becomes one FileAssessment, bad ones too.

    ``target``: judge by a training target's rules (dataprep.targets), replacing the preset's."""
    from dataprep.gate.verdict import with_target
    from dataprep.io.reader import expand_inputs
    from dataprep.scan import _pool, default_jobs

    t0 = time.perf_counter()
    p = with_target(load_preset(preset), target)
    jobs = jobs or default_jobs()
    if isinstance(paths, (str, os.PathLike)):
        paths = [str(paths)]
    files, errors = expand_inputs([str(x) for x in paths])
    partners = split_partners(files) if leakage else {}
    results: dict[str, FileAssessment] = {e.path: unreadable_assessment(e.path, e.reason, p.name) for e in errors}
    big, small = [], []
    limit = _big_file_bytes()
    for f in files:
        try:
            size = os.path.getsize(f) if f != "-" else 0
        except OSError:
            size = 0
        (big if f == "-" or size >= limit else small).append(f)
    bar = _Bar(len(files), progress)
    try:
        if len(small) > 1 and jobs > 1:
            # spawn: polars and tiktoken hold thread pools that a fork can deadlock
            # scan's pool: workers that die with us and are ended at once on Ctrl-C (dataprep.lifetime)
            with _pool(min(jobs, len(small))) as ex:
                futs = {ex.submit(_worker, f, p, cache, partners.get(f)): f for f in small}
                for fut in as_completed(futs):
                    f = futs[fut]
                    try:
                        results[f] = fut.result()
                    except Exception as e:  # a crashed worker process
                        results[f] = unreadable_assessment(f, f"analysis failed: {type(e).__name__}: {e}", p.name)
                    bar.advance(f)
        else:
            for f in small:  # one small file (or --jobs 1): it may use every worker itself
                results[f] = _worker_inline(f, p, cache, partners.get(f), jobs=jobs if len(small) == 1 else 1)
                bar.advance(f)
        for f in big:
            results[f] = _worker_inline(f, p, cache, partners.get(f), jobs=jobs, progress=progress)
            bar.advance(f)
    finally:
        bar.close()
    order = [e.path for e in errors] + files
    return AuditResult([results[f] for f in order], p, time.perf_counter() - t0, jobs)


def _worker_inline(path, preset, cache, against, *, jobs, progress=False) -> FileAssessment:
    from dataprep import cache as profile_cache

    try:
        # the profile cache is written while the file is analysed, and complete when this returns
        with profile_cache.saves_in_background():
            return assess_path(path, preset, jobs=jobs, cache=cache, against=against, progress=progress)
    except Exception as e:
        return unreadable_assessment(path, f"analysis failed: {type(e).__name__}: {e}", preset.name)


class _Bar:
    """Files done / total on stderr (only on a terminal, only when asked)."""

    def __init__(self, total: int, enabled: bool):
        self.p = None
        if enabled and total and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.p = Progress(TextColumn("auditing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                              TextColumn("{task.fields[last]}"), console=Console(stderr=True), transient=True)
            self.p.start()
            self.task = self.p.add_task("audit", total=total, last="")

    def advance(self, path: str) -> None:
        if self.p is not None:
            self.p.update(self.task, advance=1, last=Path(path).name[:40])

    def close(self) -> None:
        if self.p is not None:
            self.p.stop()


# --------------------------------------------------------------------------------------------- readiness

def total_cost(files) -> float | None:
    """Sum of the per-file dollar estimates; None when no file has one (a model without a
    published price), never a $0.00 that reads as free."""
    costs = [c for r in files if (c := (r.tokens or {}).get("estimated_cost_usd")) is not None]
    return round(sum(costs), 4) if costs else None


def _cost_phrase(cost: float | None, model: str) -> str:
    if cost is None:
        return f"no dollar estimate ({model} has no published price)"
    return f"estimated cost {dollars(cost)} on {model}"


def file_readiness(r: FileAssessment) -> list[Statement]:
    """The decision guide applied to one file, each sentence with its figure."""
    out: list[Statement] = []
    if not r.readable:
        msg = r.findings[0].message if r.findings else "cannot be read"
        return [Statement("quality", "bad", f"Unreadable: {msg}.", {"readable": False})]
    vol = r.volume or {}
    n = vol.get("valid_examples", 0)
    why = unusable(r)
    if why is not None:  # empty, CSV, JSON array, not UTF-8, another format: one sentence says what to do
        return [Statement("quality", "bad", f"{why[:1].upper()}{why[1:]}.",
                          {"examples": r.examples, "valid_examples": r.valid_examples, "format": r.format})]
    for name, why in r.failed.items():  # first: every figure below may be missing because of it
        out.append(Statement("quality", "bad",
                             f"The {name} analysis failed ({why}): not checked: {ANALYSIS_CHECKS.get(name, name)}; "
                             "the file cannot pass until it runs (DP199; please report the error with the file).",
                             {"analysis": name, "reason": why}))
    ladder = tier_ladder()
    t = tier_reached(n, ladder)
    by = {x["tier"]: x for x in ladder}
    first = ladder[0]
    if n < first["fail_below"]:
        out.append(Statement("volume", "bad",
                             f"{n:,} valid examples: below the {first['fail_below']}-{first['warn_below']} the source "
                             f"documents give for even the smallest use, {first['tier']}/tone adjustment.",
                             {"valid_examples": n, "tier": first["tier"], "needs": first["fail_below"]}))
        out.append(Statement("advice", "bad",
                             "Fine-tuning is premature at this size: try few-shot prompting (put a handful of these "
                             "examples in the prompt) or retrieval over your documents first, and collect more "
                             f"examples; come back with at least {first['fail_below']}.",
                             {"valid_examples": n}))
    else:
        reached = t["reached"]
        if reached:
            what = f"enough for {reached} ({_tier_range(by[reached])})"
        else:
            what = f"at the low end of {t['partly']} ({_tier_range(by[t['partly']])})"
        nxt = f"; {t['next']} needs {t['next_needs']:,}+" if t["next"] else ""
        out.append(Statement("volume", "good" if reached else "warn", f"{n:,} valid examples: {what}{nxt}.",
                             {"valid_examples": n, "reached": reached, "next": t["next"], "next_needs": t["next_needs"]}))
    c = r.counts
    invalid = r.examples - r.valid_examples
    if c.errors:
        top = _top_rules(r, Severity.ERROR)
        # A recognised foreign format is fixed by converting it, not by `fix`.
        remedy = ("run `dataprep convert` to turn it into OpenAI chat JSONL"
                  if r.format in CONVERTIBLE else "run `dataprep fix`, then validate again")
        out.append(Statement("quality", "bad",
                             f"{c.errors:,} error(s) ({top}); {invalid:,} of {r.examples:,} records are invalid and "
                             f"would be rejected: {remedy}.",
                             {"errors": c.errors, "invalid": invalid, "records": r.examples}))
    else:
        out.append(Statement("quality", "good", f"No errors: all {r.valid_examples:,} records are valid.",
                             {"errors": 0, "valid": r.valid_examples}))
    if c.warnings:
        out.append(Statement("quality", "warn", f"{c.warnings:,} warning(s) to review ({_top_rules(r, Severity.WARNING)}).",
                             {"warnings": c.warnings}))
    d = r.dedup
    if d and d.get("examples"):
        dups = d["exact_duplicates"] + d["near_duplicates"]
        share = dups / d["examples"]
        level = "good" if dups == 0 else ("warn" if share <= 0.05 else "bad")
        # say what the share is of: the dedup compares every record that holds a conversation,
        # which is the valid-example count unless some records are invalid
        of = (f"of the {d['examples']:,} valid examples" if d["examples"] == n else
              f"of the {d['examples']:,} conversations compared ({n:,} of them valid)")
        text = (f"No duplicates (exact or near) among the {d['examples']:,} conversations compared." if dups == 0 else
                f"Duplicate share {share:.1%} {of}: {d['exact_duplicates']:,} exact and {d['near_duplicates']:,} near "
                f"duplicates in {d['clusters']:,} cluster(s), largest {d.get('largest_cluster', 0)}; duplicates "
                "over-weight what they repeat (`dataprep dedup --out`).")
        out.append(Statement("duplicates", level, text, {"duplicate_share": round(share, 4), "exact": d["exact_duplicates"],
                                                         "near": d["near_duplicates"]}))
        if d.get("conflicts"):
            out.append(Statement("duplicates", "warn", f"{d['conflicts']} prompt(s) have materially different answers "
                                 f"({d['conflict_lines']} lines, DP503).", {"conflicts": d["conflicts"]}))
        for lk in d.get("leakage", []):
            lev = "bad" if lk["leaked"] else "good"
            txt = (f"{lk['leaked']:,} of {lk['examples']:,} lines of {lk['path']} also appear in this training file "
                   "(DP502): evaluation on them is not held out." if lk["leaked"]
                   else f"No leakage into {lk['path']} ({lk['examples']:,} lines checked).")
            out.append(Statement("leakage", lev, txt, {"against": lk["path"], "leaked": lk["leaked"]}))
    div = r.diversity
    if div and div.get("lexical"):
        d2 = {k: div["lexical"][k].get("distinct_2") for k in ("user", "assistant")}
        op = {k: (div["openings"].get(k, {}).get("words_3") or {}) for k in ("user", "assistant")}
        top_role = max(op, key=lambda k: op[k].get("top_share", 0))
        o = op[top_role]
        fig = {"distinct_2_user": d2["user"], "distinct_2_assistant": d2["assistant"],
               "top_opening_share": o.get("top_share")}
        bad601 = any(f.rule == "DP601" and f.severity is not Severity.INFO for f in r.findings)
        parts = [f"distinct-2 {d2['assistant']:.3f} (assistant), {d2['user']:.3f} (user)" if d2["assistant"] is not None
                 and d2["user"] is not None else "distinct-2 n/a"]
        if o.get("top"):
            parts.append(f"most common opening \"{o['top'][0]['opening']}\" on {o['top_share']:.0%} of {top_role} texts")
        langs = div.get("languages") or {}
        if langs:
            ls = ", ".join(f"{language_name(k)} {v['share']:.0%}" for k, v in list(langs.items())[:4])
            note = (f"sample of {div.get('language_sample')}" if div.get("language_sampled")
                    else f"all {div.get('language_sample')}")
            parts.append(f"languages {ls} ({note})")
            fig["languages"] = {k: round(v["share"], 4) for k, v in langs.items()}
        out.append(Statement("diversity", "warn" if bad601 else "good",
                             ("Low diversity: " if bad601 else "Diversity: ") + "; ".join(parts) + ".", fig))
    tok = r.tokens
    if tok and tok.get("examples"):
        cost = tok.get("estimated_cost_usd")
        text = (f"Estimated cost on {tok['model']}: {dollars(cost)} for {tok['epochs']} epoch(s) x "
                f"{tok['billed_tokens']:,} billed tokens (an estimate; price as of {tok.get('price_as_of')}).")
        fig = {"model": tok["model"], "estimated_cost_usd": cost, "epochs": tok["epochs"],
               "billed_tokens": tok["billed_tokens"]}
        gpu = next((m for m in r.cost if m.get("gpu_hours") is not None), None)
        if gpu:
            gpu_h = "under 0.01" if gpu["gpu_hours"] < 0.01 else f"about {hours(gpu['gpu_hours'])}"
            text += (f" Time: {gpu_h} GPU-hours on {gpu['model']} ({gpu['gpu_method']}, "
                     "A100-class throughput from rules/gpu_throughput.toml; an estimate).")
            fig["gpu_hours"] = gpu["gpu_hours"]
            fig["gpu_model"] = gpu["model"]
        if tok.get("over_limit"):
            text += f" {len(tok['over_limit']):,} example(s) exceed the {tok['context_limit']:,}-token context and would be truncated."
        out.append(Statement("cost", "info", text, fig))
        wind = next((w for w in tok.get("warnings", []) if "winding down" in w), None)
        if wind:
            out.append(Statement("cost", "warn", wind, {"provider": tok.get("provider")}))
    return out


def unusable(r: FileAssessment) -> str | None:
    """Why ``r`` has no valid example to train on, and what to do (dataprep.usable: the sentence
    every command prints); None when it has one, or when a failed analysis is the reason (DP199
    says so itself)."""
    from dataprep.usable import reason_from

    if r.failed and r.readable:
        return None
    return reason_from(r.readable, _valid(r) > 0, r.lines, r.findings)


def _valid(r: FileAssessment) -> int:
    """The valid examples the analyses ran on (the volume's count, as the table and the summary)."""
    return (r.volume or {}).get("valid_examples", r.valid_examples)


def needs_convert(r: FileAssessment) -> bool:
    """A readable file whose records are in another known format (Alpaca, ShareGPT, ...) and none
    valid: `dataprep convert` is all it needs."""
    return (r.readable and _valid(r) == 0 and r.lines > 0 and not r.failed
            and (r.format in CONVERTIBLE or any(f.rule == "DP110" for f in r.findings)))


def language_name(code: str) -> str:
    """A language code as the reports print it: "und" is jargon for "undetermined"."""
    return "undetermined" if code == "und" else code


def display_names(paths: list[str]) -> tuple[str, dict[str, str]]:
    """(folder, path -> name): names relative to the folder every file is in, so a table of
    /long/prefix/a.jsonl, /long/prefix/b.jsonl shows a.jsonl and b.jsonl under "in /long/prefix"."""
    real = [p for p in paths if p != "-"]
    if not real:
        return "", {p: p for p in paths}
    try:
        base = os.path.commonpath([os.path.dirname(p) or "." for p in real])
    except ValueError:  # absolute and relative paths mixed
        return "", {p: p for p in paths}
    if base in ("", ".", os.sep):  # "in /" says nothing: keep the paths as given
        return "", {p: p for p in paths}
    return base, {p: (os.path.relpath(p, base) if p != "-" else p) for p in paths}


def _named(rs: list[FileAssessment], names: dict[str, str], *, detail=None, limit: int = 8) -> str:
    """"a.json, b.json and 3 more": the files a sentence is about, by name."""
    items = [names.get(r.path, r.path) + (f" ({detail(r)})" if detail else "") for r in rs]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit:,} more (see the table)"
    return ", ".join(items)


def cost_by_model(files: list[FileAssessment]) -> list[dict]:
    """The per-model cost rows of every file summed into one row per model (the reports print
    this table once, not once per file): billed tokens per epoch, dollars and GPU-hours added up;
    a dollar figure only when every file has one (never a partial sum that reads as the total)."""
    rows: dict[str, dict] = {}
    for r in files:
        for c in r.cost:
            m = rows.setdefault(c["model"], {
                "model": c["model"], "provider": c.get("provider", ""), "status": c.get("status", ""),
                "context_limit": c["context_limit"], "epochs": set(), "billed_tokens": 0, "over_limit": 0,
                "price_per_1m_training_tokens_usd": c.get("price_per_1m_training_tokens_usd"),
                "estimated_cost_usd": 0.0, "gpu_hours": 0.0, "gpu_method": c.get("gpu_method"),
                "approximate_counts": False, "as_of": c.get("as_of", ""), "files": 0})
            m["files"] += 1
            m["epochs"].add(c["epochs"])
            m["billed_tokens"] += c["billed_tokens"]
            m["over_limit"] += c.get("over_limit", 0)
            m["approximate_counts"] |= bool(c.get("approximate_counts"))
            m["estimated_cost_usd"] = (None if m["estimated_cost_usd"] is None or c["estimated_cost_usd"] is None
                                       else m["estimated_cost_usd"] + c["estimated_cost_usd"])
            m["gpu_hours"] = (None if m["gpu_hours"] is None or c.get("gpu_hours") is None
                              else m["gpu_hours"] + c["gpu_hours"])
    for m in rows.values():
        e = sorted(m["epochs"])
        m["epochs"] = f"{e[0]}" if len(e) == 1 else f"{e[0]}-{e[-1]}"
    return list(rows.values())


def _tier_range(t: dict) -> str:
    return f"{t['fail_below']:,}-{t['warn_below']:,} examples" if t["tier"] == "style" else f"{t['warn_below']:,}+ examples"


def _top_rules(r: FileAssessment, sev: Severity, k: int = 3) -> str:
    from collections import Counter

    c = Counter(f"{f.rule} {f.name}" for f in r.findings if f.severity is sev)
    return ", ".join(f"{name} x{n}" for name, n in c.most_common(k))


def overall_readiness(files: list[FileAssessment]) -> list[Statement]:
    """A few sentences over all files: how many are ready, what holds the others back."""
    out: list[Statement] = []
    n = len(files)
    if not n:
        return [Statement("quality", "bad", "No input files.", {})]
    v = [r.verdict for r in files]
    unread = sum(not r.readable for r in files)
    valid = sum((r.volume or {}).get("valid_examples", 0) for r in files)
    ladder = tier_ladder()
    level = "good" if v.count("fail") == 0 and v.count("warn") == 0 else ("warn" if v.count("fail") == 0 else "bad")
    out.append(Statement("verdict", level,
                         f"{n} file(s): {v.count('pass')} pass, {v.count('warn')} warn, {v.count('fail')} fail"
                         + (f" ({unread} unreadable)" if unread else "") + f"; {valid:,} valid examples in all.",
                         {"files": n, "pass": v.count("pass"), "warn": v.count("warn"), "fail": v.count("fail"),
                          "unreadable": unread, "valid_examples": valid}))
    _, names = display_names([r.path for r in files])
    small = [r for r in files if r.readable and 0 < (r.volume or {}).get("valid_examples", 0) < ladder[0]["fail_below"]]
    if small:
        def valid(r):
            return f"{r.volume['valid_examples']:,} valid"

        out.append(Statement("advice", "bad",
                             f"{len(small)} file(s) have fewer than {ladder[0]['fail_below']} valid examples, below the "
                             "style tier: fine-tuning on them alone is premature (try few-shot prompting or retrieval "
                             f"first): {_named(small, names, detail=valid)}.",
                             {"files": [r.path for r in small]}))
    if n == 1:
        return out + file_readiness(files[0])
    failing = [r for r in files if r.verdict == "fail"]
    convert = [r for r in files if needs_convert(r)]
    if convert:
        out.append(Statement("advice", "bad",
                             f"{len(convert)} of {len(failing)} failing file(s) only need `dataprep convert` (their "
                             f"records are in another format, e.g. Alpaca or ShareGPT): {_named(convert, names)}.",
                             {"files": [r.path for r in convert]}))
    others = [(r, why) for r in files if r not in convert and (why := unusable(r)) is not None]
    for r, why in others[:8]:
        out.append(Statement("quality", "bad", f"{names.get(r.path, r.path)}: {why}.",
                             {"file": r.path, "readable": r.readable}))
    if len(others) > 8:
        out.append(Statement("quality", "bad", f"{len(others) - 8:,} more file(s) have nothing to train on (see "
                             "the table).", {"files": [r.path for r, _ in others[8:]]}))
    broken = [r for r in files if r.failed]
    if broken:
        out.append(Statement("quality", "bad", f"{len(broken)} file(s) were not fully analysed (an analysis failed, "
                             f"DP199): they cannot pass: {_named(broken, names)}.", {"files": [r.path for r in broken]}))
    # the files above are told what to do already; these have valid examples and some errors
    skip = {r.path for r in convert} | {r.path for r, _ in others}
    errs = [r for r in files if r.counts.errors and r.path not in skip]
    if errs:
        out.append(Statement("quality", "bad", f"{len(errs)} file(s) have errors that the provider would reject "
                             f"({sum(r.counts.errors for r in errs):,} in all): "
                             f"{_named(errs, names, detail=lambda r: f'{r.counts.errors:,}')}; run `dataprep fix` "
                             "to drop or repair the invalid lines (`dataprep validate FILE` lists them).",
                             {"files": len(errs), "paths": [r.path for r in errs]}))
    cost = total_cost(files)
    model = next(((r.tokens or {}).get("model") for r in files if r.tokens), None)
    if model and cost is None:
        out.append(Statement("cost", "info", f"{model} has no published training price in rules/models.toml: no "
                             "dollar estimate (pass --model with a priced row, or see GPU-hours).",
                             {"estimated_cost_usd": None}))
    elif model:
        out.append(Statement("cost", "info", f"Estimated cost of training on every file with {model}: {dollars(cost)} "
                             "(sum of per-file estimates, default epochs).", {"estimated_cost_usd": cost}))
    return out


# --------------------------------------------------------------------------------------------- terminal

COLUMNS = ("file", "format", "examples", "errors", "warnings", "top rules", "tokens", "est. cost", "dup share",
           "distinct-2", "top opening", "languages", "tier", "verdict")
RIGHT = {"examples", "errors", "warnings", "tokens", "est. cost", "dup share", "distinct-2", "top opening"}
# The terminal table: the verdict right after the name (it never falls off the right edge), then
# the columns in the order they are dropped when the terminal is too narrow for all of them whole.
TERMINAL = ("file", "verdict", "examples", "errors", "warnings", "dup share", "tier", "tokens", "est. cost",
            "format", "top rules", "languages", "distinct-2", "top opening")
NAME_MIN = 24  # a name column narrower than this costs a column: "sharegpt_toolcall_en_demo.jsonl" in 2 lines
KEEP = 4  # file, verdict, examples, errors: below that a per-file block reads better than a table
HEADERS = {"examples": "valid / records", "dup share": "dup share", "est. cost": "est. cost",
           "top opening": "top opening", "distinct-2": "distinct-2"}


def renderables(result: AuditResult, *, max_files: int | None = None, width: int | None = None) -> list:
    """rich renderables: the readiness verdict, then one table row per file. Every value is printed
    whole: on a narrow terminal the least needed columns go first, then each file becomes a block
    of "column  value" lines (the reports always have every column)."""
    from rich.text import Text

    from dataprep.tables import column_widths, fit_table, fits

    style = {"good": "green", "warn": "yellow", "bad": "red", "info": "cyan"}
    mark = {"good": "✓", "warn": "!", "bad": "✗", "info": "·"}
    out = [Text("Readiness", style="bold")]
    for s in result.readiness():
        out.append(Text(f" {mark[s.level]} {s.text}", style=style[s.level]))
    w = width or 200
    files = result.files if max_files is None else result.files[:max_files]
    base, names = display_names([r.path for r in result.files])
    rows = []
    for r in files:
        cells = dict(zip(COLUMNS, table_row(r, names.get(r.path), money_none="n/a")))
        rows.append([cells[c] for c in TERMINAL])
    cols = [(HEADERS.get(c, c), "right" if c in RIGHT else "left") for c in TERMINAL]
    where = f" in {base}{os.sep}" if base else ""
    title = f"Audit of {len(result.files)} file(s){where}, preset {result.preset.name}"
    name = min(max([len(x[0]) for x in rows] + [4]), NAME_MIN)

    def roomy(k: int) -> bool:  # every value whole and the names at least NAME_MIN wide (or whole)
        widths = column_widths(cols[:k], [x[:k] for x in rows], w)
        return widths is not None and widths[0] >= name

    keep = len(TERMINAL)
    while keep > KEEP and not roomy(keep):
        keep -= 1
    if not fits(cols[:keep], [x[:keep] for x in rows], w):
        keep = len(TERMINAL)  # blocks: one "column  value" line each, so every column fits again
    out.append(Text(title, style="italic"))
    out.append(fit_table(cols[:keep], [x[:keep] for x in rows], w))
    if keep < len(TERMINAL):
        out.append(Text(f"(not shown at {w} columns: {', '.join(TERMINAL[keep:])}; the --html, --markdown and "
                        "--json reports have every column)", style="dim"))
    if max_files is not None and len(result.files) > max_files:
        out.append(Text(f"… {len(result.files) - max_files} more file(s) in the JSON/HTML report"))
    s = result.summary()
    out.append(Text(f"{s['files']} file(s), {s['valid_examples']:,} valid examples, {s['errors']:,} error(s), "
                    f"{s['warnings']:,} warning(s); {_cost_phrase(s['estimated_cost_usd'], s['model'])}; "
                    f"{s['seconds']:.1f} s", style="bold"))
    return out


def table_row(r: FileAssessment, name: str | None = None, *, money_none: str = "no published price") -> list[str]:
    """The per-file figures, as strings (terminal table, Markdown, HTML), in COLUMNS order;
    ``name``: the file as shown (default its path)."""
    c = r.counts
    top = ", ".join(f"{k}×{v}" for k, v in sorted(c.by_rule.items(), key=lambda kv: -kv[1])[:3])
    tok = r.tokens or {}
    d = r.dedup or {}
    div = r.diversity or {}
    d2 = (div.get("lexical") or {}).get("assistant", {}).get("distinct_2")
    ops = [((div.get("openings") or {}).get(k, {}).get("words_3") or {}).get("top_share") for k in ("user", "assistant")]
    ops = [x for x in ops if x is not None]
    langs = ", ".join(f"{language_name(k)} {v['share']:.0%}" for k, v in list((div.get("languages") or {}).items())[:2])
    vol = r.volume or {}
    tier = vol.get("reached") or (f"low {vol['partly']}" if vol.get("partly") else
                                  ("below style" if r.readable and _valid(r) else "-"))
    return [
        name or r.path, r.format, f"{vol.get('valid_examples', 0):,}/{r.examples:,}", f"{c.errors:,}", f"{c.warnings:,}",
        top, f"{tok['billed_tokens']:,}" if tok else "-",
        dollars(tok.get("estimated_cost_usd"), none=money_none) if tok else "-",
        f"{d['duplicate_share']:.1%}" if d.get("examples") else "-", f"{d2:.3f}" if d2 is not None else "-",
        f"{max(ops):.0%}" if ops else "-", langs or "-", tier or "-", r.verdict.upper(),
    ]
