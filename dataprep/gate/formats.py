"""Kept for imports written before :mod:`dataprep.output`: the output formats live there now,
one module per format, and ``rule_doc`` in :mod:`dataprep.output.ruledoc`."""

from dataprep.output import FORMATS, render
from dataprep.output.github import GITHUB_ANNOTATION_CAP
from dataprep.output.github import render as render_github
from dataprep.output.json import render as render_json
from dataprep.output.junit import render as render_junit
from dataprep.output.markdown import md_cell
from dataprep.output.markdown import render as render_markdown
from dataprep.output.ruledoc import rule_doc
from dataprep.output.sarif import render as render_sarif
from dataprep.output.text import render as render_text

__all__ = ["FORMATS", "GITHUB_ANNOTATION_CAP", "md_cell", "render", "render_github", "render_json", "render_junit",
           "render_markdown", "render_sarif", "render_text", "rule_doc"]
