"""``--output-format text``: findings grouped by file then rule; for a report judged against a
preset (gate), then the verdict: volume tier, every threshold with its measured value and limit."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from dataprep.output.report import Report
from dataprep.schema.findings import Finding


def render(report: Report, *, max_lines_per_rule: int = 5, **_) -> str:
    text = findings_text(report, max_lines_per_rule=max_lines_per_rule)
    if report.preset is not None:
        text += verdict_text(report)
    return text


def findings_text(report: Report, *, max_lines_per_rule: int = 5) -> str:
    """Grouped by file then rule, with counts and the first few lines of each."""
    out: list[str] = []
    for rep in report.files:
        head = f"{rep.path}: {rep.examples} example(s), {rep.valid_examples} valid, format {rep.format}"
        out.append(head)
        by_rule: dict[str, list[Finding]] = defaultdict(list)
        for f in rep.findings:
            by_rule[f.rule].append(f)
        for rid in sorted(by_rule, key=lambda r: (-by_rule[r][0].severity.rank, r)):
            fs = by_rule[rid]
            f0 = fs[0]
            out.append(f"  {rid} {f0.name} [{f0.severity.value}] x{len(fs)}")
            for f in fs[:max_lines_per_rule]:
                where = f"line {f.line}" if f.line else "file"
                if f.column:
                    where += f":{f.column}"
                ptr = f" {f.pointer}" if f.pointer else ""
                out.append(f"    {where}{ptr}: {f.message}")
            if len(fs) > max_lines_per_rule:
                more = ", ".join(str(f.line) for f in fs[max_lines_per_rule:max_lines_per_rule + 10])
                extra = "…" if len(fs) > max_lines_per_rule + 10 else ""
                out.append(f"    … and {len(fs) - max_lines_per_rule} more (lines {more}{extra})")
        if not rep.findings:
            out.append("  no findings")
    s = report.summary()
    out.append(f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s): {s['verdict'].upper()}")
    return "\n".join(out) + "\n"


def verdict_text(report: Report) -> str:
    """Per file the volume tier, every threshold with its measured value and limit, and the
    verdict; the preset and the overall verdict around them."""
    p = report.preset
    chain = " <- ".join(reversed([_short_path(f) for f in p.files]))
    out = [f"preset {p.name}: {p.description} ({chain})"]
    for r in report.files:
        j = report.judgement(r)
        out.append(f"{r.path}: {j.verdict.upper()}")
        v = j.volume or {}
        if v.get("tier"):
            out.append(f"  volume: {v['valid_examples']:,} valid examples; {v['tier']} tier minimum {v['fail_below']:,}, "
                       f"{v['warn_below']:,}+ recommended: {v['status']}")
        for t in j.thresholds:
            if t.measured is None:
                mark = "n/a   "
            elif t.passed:
                mark = "ok    "
            else:
                mark = f"FAILED [{t.severity.value if t.severity else 'off'}]"
            out.append(f"  {mark} {t.message}")
        for d in j.failed:
            out.append(f"  ANALYSIS FAILED {d['analysis']}: {d['reason']}; not checked: {d['not_checked'] or d['analysis']}")
        for n in j.notes:
            out.append(f"  note: {n}")
    s = report.summary()
    failed = f"; {s['analyses_failed']} analysis(es) failed" if s.get("analyses_failed") else ""
    out.append(f"verdict: {s['verdict'].upper()} ({s['errors']} error(s), {s['warnings']} warning(s), "
               f"{s['infos']} info(s); {s['thresholds_failed']} threshold(s) failed{failed})")
    return "\n".join(out) + "\n"


def _short_path(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[-3:]) if "presets" in parts else path
