"""``--output-format json``: the report's own document, stamped with the dataprep version."""

from __future__ import annotations

import orjson

from dataprep.meta import stamped
from dataprep.output.report import Report


def render_bytes(report: Report) -> bytes:
    """The document as UTF-8 bytes: what a file gets, without the str copy (at 1M duplicated lines the
    document is ~450 MB, and every copy of it is parent memory)."""
    # numpy scalars may sit in an audit's charts; orjson writes them as plain numbers
    return orjson.dumps(stamped(report.to_dict()), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n"


def render(report: Report, **_) -> str:
    return render_bytes(report).decode()
