"""``--output-format markdown``: GitHub-flavoured Markdown (a job summary): the verdict, one row
per file, the thresholds of a judged report, findings by rule."""

from __future__ import annotations

from collections import defaultdict

from dataprep.output.report import Report, counted_verdict
from dataprep.schema.findings import Finding

VERDICT_MARK = {"pass": "✅ PASS", "warn": "⚠️ WARN", "fail": "❌ FAIL"}
MAX_MESSAGE_CHARS = 200  # a table cell shows the head of the first message


def md_cell(value) -> str:
    """A value safe inside one Markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def render(report: Report, *, max_lines_per_rule: int = 5, title: str = "dataprep", **_) -> str:
    s = report.summary()
    preset = s.get("preset")
    out = [f"## {title}: {VERDICT_MARK.get(s['verdict'], s['verdict'])}" + (f" (preset `{preset}`)" if preset else ""),
           "",
           f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s) in {len(report.files)} file(s)"
           + (f"; {s['thresholds_failed']} threshold(s) failed" if s.get("thresholds_failed") else "") + ".",
           "",
           "| file | format | examples | valid | errors | warnings | infos | verdict |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    judged = {id(rep): report.judgement(rep) for rep in report.files}
    for rep in report.files:
        c = {"error": 0, "warning": 0, "info": 0}
        for f in rep.findings:
            c[f.severity.value] += 1
        j = judged[id(rep)]
        v = j.verdict if j is not None else counted_verdict(rep)
        out.append(f"| `{md_cell(rep.path)}` | {rep.format} | {rep.examples:,} | {rep.valid_examples:,} | {c['error']} "
                   f"| {c['warning']} | {c['info']} | {VERDICT_MARK.get(v, v)} |")
    for rep in report.files:
        j = judged[id(rep)]
        ths = j.thresholds if j is not None else ()
        if not rep.findings and not ths:
            continue
        out += ["", f"### `{md_cell(rep.path)}`"]
        vol = (j.volume or {}) if j is not None else {}
        if vol.get("tier"):
            out += ["", f"Volume: {vol['valid_examples']:,} valid examples against the **{vol['tier']}** tier "
                    f"(minimum {vol['fail_below']:,}, recommended {vol['warn_below']:,}+): {vol['status']}."]
        if ths:
            from dataprep.gate.verdict import format_value  # lazy: keeps `validate` from importing the gate

            out += ["", "| threshold | measured | limit | result | why |", "|---|---:|---:|---|---|"]
            for t in ths:
                res = "—" if t.measured is None else ("ok" if t.passed else f"**failed** ({t.severity.value if t.severity else 'off'})")
                out.append(f"| {md_cell(t.label)} (`{t.key}`) | {md_cell(format_value(t.key, t.measured))} | {t.op} "
                           f"{md_cell(format_value(t.key, t.limit))} | {res} | {md_cell(t.detail)} |")
        if rep.findings:
            groups: dict[tuple, list[Finding]] = defaultdict(list)  # a threshold and its rule's lines may differ in severity
            for f in rep.findings:
                groups[(f.rule, f.severity)].append(f)
            out += ["", "| rule | severity | count | lines | first message |", "|---|---|---:|---|---|"]
            for key in sorted(groups, key=lambda k: (-k[1].rank, k[0])):
                fs = groups[key]
                rid = key[0]
                lines = ", ".join(str(f.line) for f in fs[:max_lines_per_rule] if f.line)
                if len(fs) > max_lines_per_rule:
                    lines += ", …"
                out.append(f"| {rid} {fs[0].name} | {fs[0].severity.value} | {len(fs)} | {lines or 'file'} "
                           f"| {md_cell(fs[0].message[:MAX_MESSAGE_CHARS])} |")
        if rep.truncated:
            out += ["", f"_{rep.truncated} more finding(s) not shown._"]
    return "\n".join(out) + "\n"
