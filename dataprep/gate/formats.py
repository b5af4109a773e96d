"""Output formats over the one findings model: text, json, github, junit, sarif, markdown.

Every renderer takes the same inputs (file reports + summary) and returns a string, so a new
format is one function added to ``RENDERERS``.
"""

from __future__ import annotations

from collections import defaultdict
from xml.sax.saxutils import escape, quoteattr

import orjson

from dataprep.meta import VERSION as __version__
from dataprep.meta import stamped
from dataprep.schema.catalog import all_rules, get_rule
from dataprep.schema.findings import Finding, Severity

FORMATS = ("text", "json", "github", "junit", "sarif", "markdown")
GITHUB_ANNOTATION_CAP = 10  # GitHub shows at most 10 annotations of each level per step


def render_json(result, **_) -> str:
    return orjson.dumps(stamped(result.to_dict()), option=orjson.OPT_INDENT_2).decode() + "\n"


def render_text(result, *, max_lines_per_rule: int = 5, color: bool = False, **_) -> str:
    """Grouped by file then rule, with counts and the first few lines of each."""
    out: list[str] = []
    for rep in result.files:
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
    s = result.summary()
    out.append(f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s): {s['verdict'].upper()}")
    return "\n".join(out) + "\n"


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def render_github(result, **_) -> str:
    """GitHub Actions workflow commands; the first 10 per level, then one notice summarising the rest."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    shown: dict[Severity, int] = defaultdict(int)
    hidden: dict[Severity, int] = defaultdict(int)
    out = []
    for f in result.findings:
        if shown[f.severity] >= GITHUB_ANNOTATION_CAP:
            hidden[f.severity] += 1
            continue
        shown[f.severity] += 1
        props = [f"file={_gh_escape(f.path, True)}"]
        if f.line:
            props.append(f"line={f.line}")
        if f.column:
            props.append(f"col={f.column}")
        props.append(f"title={_gh_escape(f'{f.rule} {f.name}', True)}")
        msg = f.message + (f" ({f.pointer})" if f.pointer else "")
        out.append(f"::{level[f.severity]} {','.join(props)}::{_gh_escape(msg)}")
    if hidden:
        parts = ", ".join(f"{n} more {level[s]}(s)" for s, n in sorted(hidden.items(), key=lambda t: -t[0].rank))
        out.append(f"::notice title=dataprep::{_gh_escape(parts + ' not annotated (GitHub shows 10 per level); run dataprep validate locally for all')}")
    s = result.summary()
    out.append(f"dataprep: {s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s): {s['verdict']}")
    return "\n".join(out) + "\n"


def render_junit(result, **_) -> str:
    """JUnit XML: one testsuite per file, one testcase per rule (failed when the rule fired)."""
    rules = all_rules()
    suites = []
    total_fail = 0
    total_tests = 0
    for rep in result.files:
        by_rule: dict[str, list[Finding]] = defaultdict(list)
        for f in rep.findings:
            by_rule[f.rule].append(f)
        cases = []
        failures = 0
        for rid, rule in rules.items():
            fs = by_rule.get(rid)
            name = quoteattr(f"{rid} {rule.name}")
            if not fs:
                cases.append(f'    <testcase classname={quoteattr(rep.path)} name={name}/>')
                continue
            body = escape("\n".join(f"line {f.line}: {f.message}" for f in fs[:200]))
            if fs[0].severity is Severity.INFO:  # infos inform; they never fail a test case
                inner = f"      <system-out>{body}</system-out>"
            else:
                failures += 1
                inner = (f'      <failure type={quoteattr(fs[0].severity.value)} '
                         f'message={quoteattr(f"{len(fs)} finding(s)")}>{body}</failure>')
            cases.append(f'    <testcase classname={quoteattr(rep.path)} name={name}>\n{inner}\n    </testcase>')
        total_fail += failures
        total_tests += len(rules)
        suites.append(f'  <testsuite name={quoteattr(rep.path)} tests="{len(rules)}" failures="{failures}" '
                      f'errors="0">\n' + "\n".join(cases) + "\n  </testsuite>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="dataprep" tests="{total_tests}" failures="{total_fail}">\n'
            + "\n".join(suites) + "\n</testsuites>\n")


def render_sarif(result, **_) -> str:
    """SARIF 2.1.0 with the rule catalog as tool metadata."""
    rules = all_rules()
    ids = list(rules)
    index = {rid: i for i, rid in enumerate(ids)}
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    results = []
    for f in result.findings:
        loc: dict = {"physicalLocation": {"artifactLocation": {"uri": f.path}}}
        if f.line:
            region = {"startLine": f.line}
            if f.column:
                region["startColumn"] = f.column
            loc["physicalLocation"]["region"] = region
        if f.pointer:
            loc["logicalLocations"] = [{"fullyQualifiedName": f.pointer, "kind": "member"}]
        results.append({
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": level[f.severity],
            "message": {"text": f.message},
            "locations": [loc],
        })
    driver_rules = []
    for rid in ids:
        r = rules[rid]
        driver_rules.append({
            "id": rid,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.doc},
            "help": {"text": f"{r.doc}\n\nBad:\n{r.bad}\n\nFixed:\n{r.fixed}"},
            "defaultConfiguration": {"level": level[r.severity]},
        })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "dataprep", "version": __version__,
                                "informationUri": "https://pypi.org/project/dataprep-chat/", "rules": driver_rules}},
            "results": results,
        }],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"


_VERDICT_MARK = {"pass": "✅ PASS", "warn": "⚠️ WARN", "fail": "❌ FAIL"}


def md_cell(value) -> str:
    """A value safe inside one Markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def render_markdown(result, *, max_lines_per_rule: int = 5, title: str = "dataprep", **_) -> str:
    """GitHub-flavoured Markdown (a job summary): verdict, one row per file, thresholds, findings by rule."""
    s = result.summary()
    preset = s.get("preset")
    out = [f"## {title}: {_VERDICT_MARK.get(s['verdict'], s['verdict'])}" + (f" (preset `{preset}`)" if preset else ""),
           "",
           f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s) in {len(result.files)} file(s)"
           + (f"; {s['thresholds_failed']} threshold(s) failed" if s.get("thresholds_failed") else "") + ".",
           "",
           "| file | format | examples | valid | errors | warnings | infos | verdict |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for rep in result.files:
        c = {"error": 0, "warning": 0, "info": 0}
        for f in rep.findings:
            c[f.severity.value] += 1
        v = getattr(rep, "verdict", None) or ("fail" if c["error"] else "warn" if c["warning"] else "pass")
        out.append(f"| `{md_cell(rep.path)}` | {rep.format} | {rep.examples:,} | {rep.valid_examples:,} | {c['error']} "
                   f"| {c['warning']} | {c['info']} | {_VERDICT_MARK.get(v, v)} |")
    for rep in result.files:
        ths = getattr(rep, "thresholds", None) or []
        if not rep.findings and not ths:
            continue
        out += ["", f"### `{md_cell(rep.path)}`"]
        vol = getattr(rep, "volume", None) or {}
        if vol.get("tier"):
            out += ["", f"Volume: {vol['valid_examples']:,} valid examples against the **{vol['tier']}** tier "
                    f"(minimum {vol['fail_below']:,}, recommended {vol['warn_below']:,}+): {vol['status']}."]
        if ths:
            out += ["", "| threshold | measured | limit | result | why |", "|---|---:|---:|---|---|"]
            from dataprep.gate.verdict import format_value  # lazy: keeps `validate` from importing the gate

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
                           f"| {md_cell(fs[0].message[:200])} |")
        trunc = getattr(rep, "truncated", 0)
        if trunc:
            out += ["", f"_{trunc} more finding(s) not shown._"]
    return "\n".join(out) + "\n"


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "junit": render_junit,
    "sarif": render_sarif,
    "markdown": render_markdown,
}


def render(fmt: str, result, **kw) -> str:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(RENDERERS)}")
    return RENDERERS[fmt](result, **kw)


def rule_doc(key: str) -> str:
    """The doc page of one rule, as `dataprep rules DP211` prints it."""
    r = get_rule(key)
    return (f"{r.id} {r.name} ({r.severity.value})\n\n{r.summary}\n\nWhy this is bad\n{r.doc}\n\n"
            f"Example\n  {r.bad}\n\nFixed\n  {r.fixed}\n")
