"""``--output-format junit``: one testsuite per file, one testcase per catalog rule."""

from __future__ import annotations

from collections import defaultdict
from xml.sax.saxutils import escape, quoteattr

from dataprep.output.report import Report
from dataprep.schema.catalog import all_rules
from dataprep.schema.findings import Finding, Severity

MAX_LINES_PER_CASE = 200  # a failure body lists this many findings; the message counts them all


def render(report: Report, **_) -> str:
    """A test case fails when its rule fired at warning or error; infos go to system-out."""
    rules = all_rules()
    suites = []
    total_fail = 0
    total_tests = 0
    for rep in report.files:
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
            body = escape("\n".join(f"line {f.line}: {f.message}" for f in fs[:MAX_LINES_PER_CASE]))
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
