"""The audit as Markdown (a PR comment, a wiki page, a CI job summary): the same sections as the
HTML report, with text bars instead of charts."""

from __future__ import annotations

from pathlib import Path

from dataprep.audit import AuditResult, cost_by_model, display_names, file_readiness, language_name, table_row
from dataprep.gate.verdict import FileAssessment, format_value, tier_ladder
from dataprep.mask import redact
from dataprep.meta import VERSION
from dataprep.output.markdown import md_cell
from dataprep.output.numbers import dollars, gpu_hours
from dataprep.report.excerpt import excerpt

MAX_FINDINGS = 200  # per file; the JSON report has them all
MARK = {"good": "✅", "warn": "⚠️", "bad": "❌", "info": "ℹ️"}
VERDICT = {"pass": "✅ PASS", "warn": "⚠️ WARN", "fail": "❌ FAIL"}


def _bar(frac: float, width: int = 20) -> str:
    n = int(round(max(0.0, min(1.0, frac)) * width))
    return "█" * n + "░" * (width - n)


def _table(head: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    # cells quote dataset text (openings, messages): masked here too, whatever built them
    # (an excerpt first: a 50 MB line is not a table cell)
    out += ["| " + " | ".join(md_cell(redact(excerpt(c)) if isinstance(c, str) else c) for c in r) + " |" for r in rows]
    return out


def _hist(fa: FileAssessment) -> list[str]:
    h = fa.charts.get("token_hist") or {}
    edges, counts, limit = h.get("edges") or [], h.get("counts") or [], h.get("context_limit")
    if not counts:
        return []
    peak = max(counts) or 1
    lines = ["```", f"tokens per example ({(fa.tokens or {}).get('model', '')})"]
    w = len(f"{edges[-1] - 1:,}")
    for i, c in enumerate(counts):
        if limit and edges[i] <= limit < edges[i + 1] and limit != edges[i + 1] - 1:
            lines.append(f"{'':>{w}}   ── context limit {limit:,} tokens falls in the next bin ──")
        lines.append(f"{edges[i]:>{w},} - {edges[i + 1] - 1:>{w},} | {_bar(c / peak, 30)} {c:,}")
    if limit and limit >= edges[-1]:
        lines.append(f"── context limit {limit:,} tokens: every example fits ──")
    elif limit:
        lines.append(f"{h.get('over_limit', 0):,} example(s) over the {limit:,}-token context")
    return lines + ["```"]


def file_markdown(i: int, fa: FileAssessment, max_findings: int = MAX_FINDINGS, readiness: bool = True) -> list[str]:
    out = ["", f"## {i + 1}. `{md_cell(fa.path)}` — {VERDICT.get(fa.verdict, fa.verdict)}", ""]
    if readiness:
        out += [f"- {MARK[s.level]} **{s.topic}**: {excerpt(s.text)}" for s in file_readiness(fa)]
    tok = fa.tokens
    if tok:
        out += [""] + _hist(fa)
    t = fa.charts.get("turns") or {}
    if t:
        peak = max(t.values())
        out += ["", "User turns per example:", ""]
        out += _table(["turns", "examples", ""], [[str(k), f"{v:,}", _bar(v / peak)] for k, v in sorted(t.items(), key=lambda kv: int(kv[0]))], {1})
    div = fa.diversity or {}
    langs = div.get("languages") or {}
    if langs:
        note = (f"sample of {div.get('language_sample')} examples" if div.get("language_sampled")
                else f"all {div.get('language_sample')} examples")
        out += ["", f"Languages ({note}):", ""]
        out += _table(["language", "share", "95% CI", ""],
                      [[language_name(k), f"{v['share']:.1%}", f"{v['ci_low']:.1%}-{v['ci_high']:.1%}", _bar(v["share"])]
                       for k, v in list(langs.items())[:10]], {1})
    cl = fa.charts.get("clusters") or []
    if cl:
        out += ["", "Largest duplicate clusters:", ""]
        out += _table(["lines", "size", "kept", "min similarity"],
                      [[", ".join(map(str, c["lines"][:10])) + ("…" if len(c["lines"]) > 10 else ""),
                        str(c.get("size", len(c["lines"]))), str(c["kept"]), f"{c['similarity']:.2f}"] for c in cl], {1})
    for role in ("user", "assistant"):
        o = ((div.get("openings") or {}).get(role) or {}).get("words_3") or {}
        if o.get("top"):
            out += ["", f"Opening phrases ({role}, first three words):", ""]
            out += _table(["opening", "count", "share"],
                          [[x["opening"], str(x["count"]), f"{x['share']:.1%}"] for x in o["top"][:10]], {1, 2})
    if fa.thresholds:
        out += ["", f"Thresholds (preset `{fa.preset}`):", ""]
        out += _table(["threshold", "measured", "limit", "result", "detail"],
                      [[f"{t.label} (`{t.key}`)", format_value(t.key, t.measured), f"{t.op} {format_value(t.key, t.limit)}",
                        "n/a" if t.measured is None else ("ok" if t.passed else
                                                          f"**FAILED** ({t.severity.value if t.severity else 'off'})"),
                        t.detail] for t in fa.thresholds], {1, 2})
    out += ["", f"Findings ({len(fa.findings):,}):", ""]
    if fa.findings:
        out += _table(["line", "rule", "severity", "message"],
                      [[str(f.line) if f.line else "file", f"{f.rule} {f.name}", f.severity.value,
                        f.message + (f" ({f.pointer})" if f.pointer else "")] for f in fa.findings[:max_findings]], {0})
        if len(fa.findings) > max_findings:
            out += ["", f"_{len(fa.findings) - max_findings:,} more in the JSON report._"]
    else:
        out.append("None.")
    return out


def _cost_markdown(files: list[FileAssessment]) -> list[str]:
    """The cost of training every file, per model: once for the audit, not once per file."""
    rows = []
    for c in cost_by_model(files):
        ap = "≈ " if c.get("approximate_counts") else ""
        rows.append([c["model"], f"{c['context_limit']:,}", str(c["epochs"]), f"{ap}{c['billed_tokens']:,}",
                     f"{ap}{dollars(c['estimated_cost_usd'])}" if c["estimated_cost_usd"] is not None else "-",
                     gpu_hours(c["gpu_hours"]) if c.get("gpu_hours") is not None else "-", c["as_of"]])
    if not rows:
        return []
    return (["", f"## Cost of training, per model ({len(files):,} file(s) together)", "",
             "Estimates: sums of the per-file figures; epochs are each file's default (a range when they differ); "
             "≈: counted with another tokenizer.", ""]
            + _table(["model", "context", "epochs", "billed tokens / epoch", "est. cost", "GPU-hours (A100)", "as of"],
                     rows, {1, 2, 3, 4, 5}))


def render_markdown(result: AuditResult, *, title: str = "dataprep audit", max_findings: int = MAX_FINDINGS) -> str:
    s = result.summary()
    out = [f"# {title}: {VERDICT.get(s['verdict'], s['verdict'])}", "",
           f"{s['files']} file(s), preset `{result.preset.name}`; {s['valid_examples']:,} valid examples of "
           f"{s['examples']:,} records; {s['errors']:,} error(s), {s['warnings']:,} warning(s); estimated cost "
           f"{dollars(s['estimated_cost_usd'])} on {s['model']} (estimate); written by dataprep {VERSION}.", "",
           "## Readiness", ""]
    out += [f"- {MARK[x.level]} **{x.topic}**: {excerpt(x.text)}" for x in result.readiness()]
    out += ["", "## Files", ""]
    head = ["file", "format", "valid/records", "errors", "warnings", "top rules", "billed tokens", "est. cost",
            "dup share", "distinct-2", "top opening", "languages", "tier", "verdict"]
    base, names = display_names([r.path for r in result.files])
    if base:
        out += [f"In `{md_cell(base)}/`:", ""]
    out += _table(head, [table_row(r, names.get(r.path), money_none="n/a") for r in result.files],
                  {2, 3, 4, 6, 7, 8, 9, 10})
    out += _cost_markdown(result.files)
    for i, fa in enumerate(result.files):
        out += file_markdown(i, fa, max_findings, readiness=len(result.files) > 1)
    tiers = "; ".join(f"{t['tier']} {t['fail_below']:,} minimum, {t['warn_below']:,}+ recommended" for t in tier_ladder())
    out += ["", f"_Volume tiers: {tiers} (rules/presets/). Token counts, costs and GPU-hours are estimates._"]
    return "\n".join(out) + "\n"


def write_markdown(result: AuditResult, path: str | Path, **kw) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_markdown(result, **kw), encoding="utf-8")
    return p
