"""Output formats: one module per format, one registry, one ``Report`` protocol.

Every command's result (validate, gate, audit, and the dedup job's per-file report) implements
:class:`dataprep.output.report.Report`; an emitter module ``dataprep/output/<name>.py`` has one
function ``render(report, **kw) -> str`` that reads only that protocol. ``--output-format`` of
every command is built from :data:`FORMATS`, so a new format is its module plus one line here.

Emitter modules are imported on first use: ``dataprep rules`` and ``--help`` import this package
and must stay light.
"""

from __future__ import annotations

import importlib
from enum import Enum

from dataprep.output.report import FileView, Judgement, Report

#: format name -> the module whose ``render(report, **kw)`` writes it, in the order --help lists them
FORMATS: dict[str, str] = {
    "text": "dataprep.output.text",
    "json": "dataprep.output.json",
    "github": "dataprep.output.github",
    "junit": "dataprep.output.junit",
    "sarif": "dataprep.output.sarif",
    "markdown": "dataprep.output.markdown",
}


def render(fmt: str, report: Report, **kw) -> str:
    """``report`` in format ``fmt`` (a name of :data:`FORMATS`), as one string."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[fmt]).render(report, **kw)


def format_enum(name: str = "OutputFormat") -> type[Enum]:
    """The ``--output-format`` choice of every command, built from :data:`FORMATS` (a ``str``
    Enum: typer shows and checks its values; ``OutputFormat.text.value == "text"``)."""
    return Enum(name, {f: f for f in FORMATS}, type=str, module=__name__)


__all__ = ["FORMATS", "FileView", "Judgement", "Report", "format_enum", "render"]
