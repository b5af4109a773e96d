"""``--output-format sarif``: SARIF 2.1.0 (GitHub code scanning) with the rule catalog as tool metadata."""

from __future__ import annotations

import orjson

from dataprep.meta import VERSION
from dataprep.output.report import Report
from dataprep.schema.catalog import all_rules
from dataprep.schema.findings import Severity

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report, **_) -> str:
    rules = all_rules()
    ids = list(rules)
    index = {rid: i for i, rid in enumerate(ids)}
    results = []
    for f in report.findings:
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
            "level": LEVEL[f.severity],
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
            "defaultConfiguration": {"level": LEVEL[r.severity]},
        })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "dataprep", "version": VERSION,
                                "informationUri": "https://pypi.org/project/dataprep-chat/", "rules": driver_rules}},
            "results": results,
        }],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"
