"""``--output-format github``: GitHub Actions workflow commands (annotations)."""

from __future__ import annotations

from collections import defaultdict

from dataprep.output.report import Report
from dataprep.schema.findings import Severity

GITHUB_ANNOTATION_CAP = 10  # GitHub shows at most 10 annotations of each level per step
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape(s: str, prop: bool = False) -> str:
    """A workflow-command value: %, CR and LF always; ':' and ',' inside a property too."""
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def render(report: Report, **_) -> str:
    """The first 10 annotations per level, then one notice summarising the rest."""
    shown: dict[Severity, int] = defaultdict(int)
    hidden: dict[Severity, int] = defaultdict(int)
    out = []
    for f in report.findings:
        if shown[f.severity] >= GITHUB_ANNOTATION_CAP:
            hidden[f.severity] += 1
            continue
        shown[f.severity] += 1
        props = [f"file={escape(f.path, True)}"]
        if f.line:
            props.append(f"line={f.line}")
        if f.column:
            props.append(f"col={f.column}")
        props.append(f"title={escape(f'{f.rule} {f.name}', True)}")
        msg = f.message + (f" ({f.pointer})" if f.pointer else "")
        out.append(f"::{LEVEL[f.severity]} {','.join(props)}::{escape(msg)}")
    if hidden:
        parts = ", ".join(f"{n} more {LEVEL[s]}(s)" for s, n in sorted(hidden.items(), key=lambda t: -t[0].rank))
        out.append(f"::notice title=dataprep::{escape(parts + ' not annotated (GitHub shows 10 per level); run dataprep validate locally for all')}")
    s = report.summary()
    out.append(f"dataprep: {s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s): {s['verdict']}")
    return "\n".join(out) + "\n"
